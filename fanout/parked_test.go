package fanout_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
)

// rawEvent is an event as stored: any name, any JSON.
type rawEvent struct{ name, data string }

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

// appendHugeThenSmall appends to the stream blob-1 an event larger than
// the broker's default maximum payload (1 MiB), then a small one.
func appendHugeThenSmall(t *testing.T, store *eventstore.Store) {
	t.Helper()
	huge := `{"blob": "` + strings.Repeat("x", 1100_000) + `"}`
	if _, err := store.Append(t.Context(), eventstore.StreamAppend{StreamType: "blob", StreamID: "blob-1", ExpectedVersion: 0,
		Events: []eventstore.NewEvent{{Event: rawEvent{"Blob.v1", huge}}, {Event: rawEvent{"Blob.v1", `{"blob": "small"}`}}}}); err != nil {
		t.Fatal(err)
	}
}

// R35: an event the broker refuses whatever happens (larger than its
// maximum payload, 1 MiB by default) is parked for the forwarder's group
// with the later events of its stream, and forwarding goes on with the
// other streams.
func TestR35_ForwarderParksWhatTheBrokerRefusesAndGoesOn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		b := startBroker(t)
		f.runForwarder(t, b.url())
		appendHugeThenSmall(t, f.store)
		ctx := seed.AsSystem(t.Context())
		tenantID, _, err := f.svc.Commands.Tenants.Create(ctx, "After")
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

// R35: the forwarder's parked events are published on demand after the
// fix (Forwarder.RetryParked), in log order, and their rows go. Before
// the fix the event the broker refuses fails again and stays parked with
// the later event of its stream; without a broker nothing is touched.
func TestR35_ForwarderRetryParkedPublishesAfterTheFix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		b := startBroker(t)
		f.runForwarder(t, b.url())
		appendHugeThenSmall(t, f.store)
		f.waitForwarded(t)
		parkedCount := func() int {
			t.Helper()
			parked, err := f.store.Parked(t.Context(), fanout.DefaultConsumerGroup)
			if err != nil {
				t.Fatal(err)
			}
			return len(parked)
		}
		if n := parkedCount(); n != 2 {
			t.Fatalf("parked for the forwarder: got %d, want both events of blob-1", n)
		}
		retry := func() (eventstore.Retried, error) {
			fw, err := fanout.New(f.store, fanout.Config{URL: b.url(), Logger: f.log})
			if err != nil {
				t.Fatal(err)
			}
			return fw.RetryParked(t.Context())
		}

		res, err := retry()
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != 0 || res.Left != 2 || len(res.Failures) != 1 {
			t.Errorf("retry before the fix: got %+v, want 0 applied, 2 left, 1 failure", res)
		}
		b.stop()
		if res, err := retry(); err == nil || res.Applied != 0 {
			t.Errorf("retry without a broker: got %+v, %v, want an error and nothing applied", res, err)
		}
		if n := parkedCount(); n != 2 {
			t.Errorf("parked after failed retries: got %d, want 2", n)
		}

		b.maxPayload = 4 << 20 // the fix: the broker takes larger messages
		b.start()
		if res, err = retry(); err != nil {
			t.Fatal(err)
		}
		if res.Applied != 2 || res.Left != 0 {
			t.Errorf("retry after the fix: got %+v, want 2 applied, 0 left", res)
		}
		if n := parkedCount(); n != 0 {
			t.Errorf("parked after the retry: got %d, want 0", n)
		}
		var blobs []string
		for _, m := range b.readAll(t) {
			var env envelope.Envelope
			if err := json.Unmarshal(m.Data(), &env); err != nil {
				t.Fatal(err)
			}
			if env.StreamID == "blob-1" {
				blobs = append(blobs, fmt.Sprint(env.StreamVersion))
			}
		}
		if strings.Join(blobs, ",") != "1,2" {
			t.Errorf("blob-1 on the broker: got versions %v, want 1,2", blobs)
		}
	})
}
