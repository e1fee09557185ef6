package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/saga"
)

// demoDatabase is a SQLite file with seed demo's data, and the database
// open on it (closed at the end of the test).
func demoDatabase(t *testing.T) (string, *database.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	if err := run(t.Context(), []string{"migrate", "up", "--database-url", path}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"seed", "demo", "--database-url", path}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(t.Context(), path, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return path, db
}

// R35: projections retry-parked re-applies a read model's parked events
// (here one whose cause was fixed) and clears them; with nothing parked
// it reports so.
func TestR35_RetryParked(t *testing.T) {
	path, db := demoDatabase(t)
	if _, err := db.Write.ExecContext(t.Context(), `INSERT INTO parked_events (consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at)
		SELECT 'directory', "offset", 0, uuid, stream_id, event_type || '.v1', 'failed before the fix', '2026-12-07T00:00:00Z' FROM events WHERE "offset" = 1`); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"projections", "retry-parked", "directory", "--database-url", path}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("retry-parked: %v\n%s", err, out.String())
	}
	if want := "directory: 1 parked events re-applied, 0 still parked"; !strings.Contains(out.String(), want) {
		t.Errorf("retry-parked printed %q, want %q", out.String(), want)
	}
	var n int
	if err := db.Read.QueryRowContext(t.Context(), `SELECT count(*) FROM parked_events`).Scan(&n); err != nil || n != 0 {
		t.Errorf("parked events after retry-parked: %d (%v), want 0", n, err)
	}
}

// R35: retry-parked re-applies the parked events of the saga's group and
// of the fan-out's group too: the fan-out's only with --broker-url (an
// error names the setting), publishing them to that broker; without NAME
// every group with parked events is tried.
func TestR35_RetryParkedSagaAndFanOut(t *testing.T) {
	t.Setenv("ABSENDER_BROKER_URL", "")
	os.Unsetenv("ABSENDER_BROKER_URL")
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			url := filepath.Join(t.TempDir(), "p.db")
			if kind == "postgres" {
				url = dbtest.NewPostgresDatabase(t)
				// The saga's resolver records with the key ring, as in serve.
				t.Setenv("ABSENDER_SECRET_KEY", "k1:"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
			}
			db, err := database.Open(t.Context(), url, database.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := migrations.Up(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			reg, err := app.NewRegistry()
			if err != nil {
				t.Fatal(err)
			}
			store := eventstore.New(db, eventstore.Options{Registry: reg, NoNotify: true})
			if _, err := store.Append(t.Context(), eventstore.StreamAppend{StreamType: "blob", StreamID: "blob-1", ExpectedVersion: 0,
				Events: []eventstore.NewEvent{{Event: rawEvent{"Blob.v1", `{"n": 1}`}}, {Event: rawEvent{"Blob.v1", `{"n": 2}`}}}}); err != nil {
				t.Fatal(err)
			}
			for _, group := range []string{saga.ConsumerGroup, fanout.DefaultConsumerGroup} {
				if _, err := db.Write.ExecContext(t.Context(), `INSERT INTO parked_events (consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at)
					SELECT ?, "offset", 0, uuid, stream_id, event_type || '.v1', 'failed before the fix', '2026-12-07T00:00:00Z' FROM events WHERE stream_id = 'blob-1'`, group); err != nil {
					t.Fatal(err)
				}
			}
			parked := func(group string) int {
				t.Helper()
				p, err := store.Parked(t.Context(), group)
				if err != nil {
					t.Fatal(err)
				}
				return len(p)
			}

			var out bytes.Buffer
			err = run(t.Context(), []string{"projections", "retry-parked", fanout.DefaultConsumerGroup, "--database-url", url}, &out, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "--broker-url (ABSENDER_BROKER_URL)") {
				t.Errorf("retry-parked %s without a broker: got %v, want the missing --broker-url named", fanout.DefaultConsumerGroup, err)
			}
			out.Reset()
			err = run(t.Context(), []string{"projections", "retry-parked", "--database-url", url}, &out, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), "--broker-url (ABSENDER_BROKER_URL)") {
				t.Errorf("retry-parked of every group without a broker: got %v, want the missing --broker-url named", err)
			}
			for _, want := range []string{"saga: 2 parked events re-applied, 0 still parked", "broker: 2 parked events not re-applied: no --broker-url",
				"directory: 0 parked events re-applied"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("retry-parked printed %q, want %q", out.String(), want)
				}
			}
			if n, m := parked(saga.ConsumerGroup), parked(fanout.DefaultConsumerGroup); n != 0 || m != 2 {
				t.Errorf("parked after retry-parked without a broker: saga %d, broker %d; want 0 and 2", n, m)
			}

			nats := startNATS(t)
			out.Reset()
			if err := run(t.Context(), []string{"projections", "retry-parked", fanout.DefaultConsumerGroup, "--database-url", url, "--broker-url", nats},
				&out, &bytes.Buffer{}); err != nil {
				t.Fatalf("retry-parked %s: %v\n%s", fanout.DefaultConsumerGroup, err, out.String())
			}
			if want := "broker: 2 parked events re-applied, 0 still parked"; !strings.Contains(out.String(), want) {
				t.Errorf("retry-parked printed %q, want %q", out.String(), want)
			}
			if n := parked(""); n != 0 {
				t.Errorf("parked after retry-parked: %d, want 0", n)
			}
			nc, err := natsclient.Connect(nats)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			st, err := js.Stream(t.Context(), fanout.DefaultStream)
			if err != nil {
				t.Fatal(err)
			}
			if n := st.CachedInfo().State.Msgs; n != 2 {
				t.Errorf("messages on the broker: got %d, want 2", n)
			}
		})
	}
}

// rawEvent is an event as stored: any name, any JSON.
type rawEvent struct{ name, data string }

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

// startNATS starts an embedded NATS server with JetStream on a random
// port and returns its URL.
func startNATS(t *testing.T) string {
	t.Helper()
	srv, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server not ready after 10s")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

// R35: projections rebuild does not stop at an event it cannot decode: it
// parks it, rebuilds the rest, names it, and exits non-zero as
// retry-parked does when something stays parked.
func TestR35_RebuildParksAnUndecodableEvent(t *testing.T) {
	path, db := demoDatabase(t)
	var stream string
	if err := db.Read.QueryRowContext(t.Context(), `SELECT stream_id FROM events WHERE stream_type = 'tenant' LIMIT 1`).Scan(&stream); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(db, eventstore.Options{})
	if _, err := store.Append(t.Context(), eventstore.StreamAppend{StreamType: "tenant", StreamID: stream, ExpectedVersion: eventstore.Any,
		Events: []eventstore.NewEvent{{Event: rawEvent{"TenantPolicyChanged.v1", `{"tenantId": 42}`}}}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"projections", "rebuild", "directory", "--database-url", path}, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "1 events parked") {
		t.Errorf("rebuild: got error %v, want one naming 1 events parked", err)
	}
	if !strings.Contains(out.String(), "1 events parked") || !strings.Contains(out.String(), "parked: TenantPolicyChanged.v1 at") {
		t.Errorf("rebuild printed %q, want the parked event named", out.String())
	}
	var n int
	if err := db.Read.QueryRowContext(t.Context(), `SELECT count(*) FROM parked_events WHERE consumer_group = 'directory' AND stream_id = ?`, stream).Scan(&n); err != nil || n != 1 {
		t.Errorf("parked events of %s after the rebuild: %d (%v), want 1", stream, n, err)
	}
	if err := db.Read.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_users`).Scan(&n); err != nil || n == 0 {
		t.Errorf("users after the rebuild: %d (%v), want the demo's", n, err)
	}
}
