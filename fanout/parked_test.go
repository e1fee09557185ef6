package fanout_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/database/dbtest"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/seed"
)

// rawEvent is an event as stored: any name, any JSON.
type rawEvent struct{ name, data string }

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

// R35: an event the broker refuses whatever happens (larger than its
// maximum payload, 1 MiB by default) is parked for the forwarder's group
// with the later events of its stream, and forwarding goes on with the
// other streams.
func TestR35_ForwarderParksWhatTheBrokerRefusesAndGoesOn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		b := startBroker(t)
		f.runForwarder(t, b.url())
		huge := `{"blob": "` + strings.Repeat("x", 1100_000) + `"}`
		if _, err := f.store.Append(t.Context(), eventstore.StreamAppend{StreamType: "blob", StreamID: "blob-1", ExpectedVersion: 0,
			Events: []eventstore.NewEvent{{Event: rawEvent{"Blob.v1", huge}}, {Event: rawEvent{"Blob.v1", `{"blob": "small"}`}}}}); err != nil {
			t.Fatal(err)
		}
		ctx := seed.AsSystem(t.Context())
		tenantID, _, err := f.svc.CreateTenant(ctx, "After")
		if err != nil {
			t.Fatal(err)
		}
		f.waitForwarded(t)

		parked, err := f.store.Parked(t.Context(), fanout.DefaultConsumerGroup)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 2 || parked[0].StreamID != "blob-1" || parked[1].StreamID != "blob-1" || parked[1].Error != eventstore.ErrBehindParked.Error() {
			t.Fatalf("parked for the forwarder: got %+v, want both events of blob-1, the second behind the first", parked)
		}
		var streams []string
		for _, m := range b.readAll(t) {
			var env envelope.Envelope
			if err := json.Unmarshal(m.Data(), &env); err != nil {
				t.Fatal(err)
			}
			streams = append(streams, env.StreamID)
		}
		if len(streams) == 0 || streams[0] != "tenant-"+tenantID {
			t.Errorf("forwarded streams: got %v, want the tenant created after the parked events", streams)
		}
		for _, s := range streams {
			if s == "blob-1" {
				t.Error("a parked stream was forwarded")
			}
		}
	})
}
