package telemetry_test

import (
	"testing"

	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/transport/smtptest"
)

// rawEvent is an event as stored: any name, any JSON.
type rawEvent struct{ name, data string }

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

// R35: parked events are counted on /metrics by consumer group, as the
// gauge absender_parked_events{consumer}; a group that parked nothing
// shows 0.
func TestR35_ParkedEventsGauge(t *testing.T) {
	f := start(t, dbtest.SQLite(t), nil, smtptest.Config{})
	store := f.in.Server.Store
	if _, err := store.Append(t.Context(), eventstore.StreamAppend{StreamType: "mailbox", StreamID: "mailbox-broken", ExpectedVersion: 0,
		Events: []eventstore.NewEvent{{Event: rawEvent{"MailboxAdded.v1", `{"mailboxId": 1}`}}}}); err != nil {
		t.Fatal(err)
	}
	head, err := store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.in.Server.Runner.WaitFor(t.Context(), head); err != nil { // parked events are consumed too
		t.Fatal(err)
	}
	body := scrape(t, f.in.URL)
	after := samples(body)
	for series, want := range map[string]float64{
		`absender_parked_events{consumer="directory"}`: 1,
		`absender_parked_events{consumer="audit"}`:     1,
		`absender_parked_events{consumer="messages"}`:  0,
	} {
		if got, ok := after[series]; !ok || got != want {
			t.Errorf("%s: got %v (present %v), want %v", series, got, ok, want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grep(body, "absender_parked"))
	}
}
