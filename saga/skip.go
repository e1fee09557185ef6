package saga

import (
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// Skips reports whether the resolver does nothing with an event (read raw:
// stream columns and type suffice): an event of a stream that is not a
// message's, or one Ignores names. The resolver acknowledges such an event
// without a write, so moving its group over a run of them
// (eventstore.Store.SkipAhead, as serve does at start) is what the
// resolver would do, only at once.
func Skips(rec eventstore.Record) bool {
	return rec.StreamType != string(message.StreamKind) || ignoredEvent(rec)
}
