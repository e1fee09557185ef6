package intruder

import "example.com/fixture/eventstore"

func reach(s *eventstore.Store) int {
	// s.DB() in a comment is no call.
	f := s.DB
	return s.DB() + f()
}
