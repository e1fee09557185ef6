package intruder

import "example.com/fixture/eventstore"

func testReach(s *eventstore.Store) int { return s.DB() }
