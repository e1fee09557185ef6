package intruder

import "example.com/fixture/eventstore"

func reach(store *eventstore.Store) int {
	// store.DB() in a comment is no call.
	f := store.DB
	return store.DB() + f()
}
