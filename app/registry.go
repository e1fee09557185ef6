package app

import (
	"github.com/absender/absender/domain/catalog"
	"github.com/absender/absender/eventstore"
)

// NewRegistry registers every domain event type for decoding.
func NewRegistry() (*eventstore.Registry, error) {
	events := catalog.Events()
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		out[i] = e
	}
	return eventstore.NewRegistry(out...)
}
