package saga_test

import (
	"strings"
	"testing"

	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/saga"
)

// raw is an event as SkipAhead reads it: stream columns and type.
func raw(streamType, name string) eventstore.Record {
	typ, v, _ := strings.Cut(name, ".v")
	sv := 0
	for _, c := range v {
		sv = sv*10 + int(c-'0')
	}
	return eventstore.Record{StreamType: streamType, StreamID: streamType + "-1", Type: typ, SchemaVersion: sv}
}

// Skips says true exactly for what the resolver acknowledges without a
// write: events of other streams and those Ignores names; every other
// message event reaches the resolver (so a catch-up at start never moves
// the saga's group over a message it must schedule, R23).
func TestSkipsWhatTheResolverIgnores(t *testing.T) {
	ignored := saga.Ignores()
	for _, e := range message.Events() {
		name := e.EventName()
		_, want := ignored[name]
		if got := saga.Skips(raw(string(message.StreamKind), name)); got != want {
			t.Errorf("Skips(%s of a message stream): got %v, want %v", name, got, want)
		}
	}
	if !saga.Skips(raw("user", "UserUpdated.v1")) {
		t.Error("Skips(UserUpdated.v1 of a user stream): got false, want true")
	}
	if saga.Skips(raw(string(message.StreamKind), "MessageQueued.v1")) {
		t.Error("Skips(MessageQueued.v1): got true, want false")
	}
}
