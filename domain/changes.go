package domain

// StreamKind names an aggregate type. The caller maps a StreamRef to its
// stream id (e.g. "user-<id>", and login.StreamKey for login names).
type StreamKind string

// The aggregate types.
const (
	StreamSystem  StreamKind = "system"
	StreamTenant  StreamKind = "tenant"
	StreamLogin   StreamKind = "login"
	StreamUser    StreamKind = "user"
	StreamGroup   StreamKind = "group"
	StreamMailbox StreamKind = "mailbox"
	StreamToken   StreamKind = "token"
	// StreamCheck holds one connection check each (checkMailServer): its
	// own stream, so a check never moves a configuration stream's version.
	StreamCheck StreamKind = "check"
)

// StreamRef names one aggregate instance.
type StreamRef struct {
	Kind StreamKind
	ID   string
}

// Change is the events a command appends to one stream, in order.
type Change struct {
	Stream StreamRef
	Events []Event
}

// Changes are the events of one decision that touches several aggregates,
// one entry per stream in a deterministic order. The caller appends them
// all in one transaction, each with the expected version of the state it
// decided on, and re-decides on a version conflict.
type Changes []Change

// Add appends events for ref, merging with an existing entry; empty
// event lists are skipped.
func (c *Changes) Add(kind StreamKind, id string, events ...Event) {
	if len(events) == 0 {
		return
	}
	ref := StreamRef{Kind: kind, ID: id}
	for i := range *c {
		if (*c)[i].Stream == ref {
			(*c)[i].Events = append((*c)[i].Events, events...)
			return
		}
	}
	*c = append(*c, Change{Stream: ref, Events: events})
}

// For returns the events for one stream (nil when none).
func (c Changes) For(kind StreamKind, id string) []Event {
	for _, ch := range c {
		if ch.Stream == (StreamRef{Kind: kind, ID: id}) {
			return ch.Events
		}
	}
	return nil
}
