package envelope_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

func newApp(t *testing.T, db *database.DB) (*app.App, *eventstore.Store) {
	t.Helper()
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{5}, 32)})
	store := eventstore.New(db, eventstore.Options{Registry: reg})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func lines(t *testing.T, out string) []envelope.Envelope {
	t.Helper()
	var envs []envelope.Envelope
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e envelope.Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q is not an envelope: %v", sc.Text(), err)
		}
		envs = append(envs, e)
	}
	return envs
}

// The export writes every event once, oldest first, in the public envelope
// without secrets, and its filters select by position, time and tenant.
func TestExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		svc, store := newApp(t, db)
		if err := seed.Random(ctx, svc, rand.New(rand.NewPCG(4, 4)), 300); err != nil {
			t.Fatal(err)
		}
		n, _ := store.Count(ctx)
		var all bytes.Buffer
		written, err := envelope.Export(ctx, store, &all, envelope.Filter{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		envs := lines(t, all.String())
		if int64(len(envs)) != n || written != n {
			t.Fatalf("exported %d (reported %d), the store holds %d", len(envs), written, n)
		}
		for _, secret := range []string{"s3cret", `"pw"`, `"password"`, `"graphClientSecret"`, `"secretHash"`} {
			if strings.Contains(all.String(), secret) {
				t.Fatalf("the export contains %s", secret)
			}
		}
		seen := map[string]bool{}
		for i, e := range envs {
			if seen[e.ID] {
				t.Fatalf("event %s exported twice", e.ID)
			}
			seen[e.ID] = true
			if i > 0 && envs[i-1].StreamID == e.StreamID && envs[i-1].StreamVersion >= e.StreamVersion {
				t.Fatalf("stream %s out of order", e.StreamID)
			}
		}
		// By position: after the 100th event, up to the 200th.
		after, _ := strconv.ParseInt(envs[99].Position, 10, 64)
		until, _ := strconv.ParseInt(envs[199].Position, 10, 64)
		var part bytes.Buffer
		if _, err := envelope.Export(ctx, store, &part, envelope.Filter{After: after, Until: until}, nil); err != nil {
			t.Fatal(err)
		}
		if got := lines(t, part.String()); len(got) != 100 || got[0].ID != envs[100].ID || got[99].ID != envs[199].ID {
			t.Errorf("positions %d..%d: got %d events, want events 101..200", after, until, len(got))
		}
		// By tenant.
		tenant := ""
		for _, e := range envs {
			if e.TenantID != "" {
				tenant = e.TenantID
				break
			}
		}
		var byTenant bytes.Buffer
		if _, err := envelope.Export(ctx, store, &byTenant, envelope.Filter{TenantID: tenant}, nil); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, e := range envs {
			if e.TenantID == tenant {
				want++
			}
		}
		if got := lines(t, byTenant.String()); len(got) != want || want == 0 {
			t.Errorf("tenant %s: got %d events, want %d", tenant, len(got), want)
		}
		// By time: nothing before the first event, everything since it.
		var since bytes.Buffer
		if _, err := envelope.Export(ctx, store, &since, envelope.Filter{UntilTime: envs[0].At}, nil); err != nil {
			t.Fatal(err)
		}
		if got := lines(t, since.String()); len(got) != 0 {
			t.Errorf("until the first event's time: got %d events, want 0", len(got))
		}
	})
}

// With Follow the export goes on with events appended after it started.
func TestExportFollows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		svc, store := newApp(t, db)
		ctx, cancel := context.WithCancel(t.Context())
		r, w := io.Pipe()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = envelope.Export(ctx, store, w, envelope.Filter{Follow: true}, nil)
			w.Close()
		}()
		sc := bufio.NewScanner(r)
		for i := range 3 {
			if _, _, err := svc.Commands.Tenants.Create(seed.AsSystem(t.Context()), "Tenant "+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
			got := make(chan string, 1)
			go func() {
				if sc.Scan() {
					got <- sc.Text()
				}
			}()
			select {
			case line := <-got:
				if !strings.Contains(line, `"TenantCreated"`) {
					t.Fatalf("followed line %d: %s", i, line)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("event %d did not follow", i)
			}
		}
		cancel()
		wg.Wait()
	})
}

// AppendJSON writes exactly what json.Marshal writes for the envelope.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	db := dbtest.SQLite(t)
	svc, store := newApp(t, db)
	if err := seed.Random(t.Context(), svc, rand.New(rand.NewPCG(6, 6)), 200); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ReadAllRaw(t.Context(), eventstore.Position{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	odd := eventstore.Record{ID: "a\"b<c>", Type: "T\u2028", StreamID: "s&t", Data: []byte(`{ "x": "<&>", "y" : [1, 2] }`),
		RecordedAt: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600)), Metadata: eventstore.Metadata{TenantID: "é", Actor: "\x01"}}
	for _, rec := range append(recs, odd) {
		want, _ := json.Marshal(envelope.From(rec))
		if got := envelope.AppendJSON(nil, rec); !bytes.Equal(got, want) {
			t.Fatalf("event %s:\ngot  %s\nwant %s", rec.ID, got, want)
		}
	}
}

// The export writes, byte for byte, what json.Marshal writes for each
// event's envelope (the reference form of docs/events.md), one per line, on
// a mixed log: the random seed's events (secrets among them: server
// passwords, token hashes) and events whose metadata and data need escaping
// (quotes, HTML characters, control and non-ASCII characters, U+2028).
func TestExportBytesMatchMarshal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		svc, store := newApp(t, db)
		if err := seed.Random(ctx, svc, rand.New(rand.NewPCG(8, 8)), 200); err != nil {
			t.Fatal(err)
		}
		odd := []string{`a"b`, `<&>`, "tab\there", "é\u2028ü", `back\slash`, "\x01", "山田"}
		for i, s := range odd {
			name := s
			if _, err := store.Append(ctx, eventstore.StreamAppend{StreamType: "user", StreamID: "user-odd-" + strconv.Itoa(i), Events: []eventstore.NewEvent{{
				Event:    user.UserUpdated{UserID: s, TenantID: s, DisplayName: &name},
				Metadata: eventstore.Metadata{Actor: s, TenantID: s, CorrelationID: s, CausationID: s, IdempotencyKey: s, TraceParent: s},
			}}}); err != nil {
				t.Fatal(err)
			}
		}
		head, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var recs []eventstore.Record
		for from := (eventstore.Position{}); ; {
			page, err := store.ReadUntilRaw(ctx, from, head, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			recs = append(recs, page...)
			from = page[len(page)-1].Position
		}
		var want bytes.Buffer
		secrets := 0
		for _, rec := range recs {
			if bytes.Contains(rec.Data, []byte(`"password"`)) || bytes.Contains(rec.Data, []byte(`"secretHash"`)) {
				secrets++
			}
			b, err := json.Marshal(envelope.From(rec))
			if err != nil {
				t.Fatal(err)
			}
			want.Write(append(b, '\n'))
		}
		if secrets == 0 {
			t.Fatal("the log holds no secrets to strip")
		}
		var got bytes.Buffer
		n, err := envelope.Export(ctx, store, &got, envelope.Filter{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(recs)) {
			t.Fatalf("exported %d events, want %d", n, len(recs))
		}
		for _, secret := range []string{"s3cret", `"password"`, `"secretHash"`} {
			if strings.Contains(got.String(), secret) {
				t.Fatalf("the export contains %s", secret)
			}
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("line %d:\ngot  %s\nwant %s", i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("got %d lines, want %d", len(gl), len(wl))
		}
	})
}

// writerFunc is an io.Writer of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Export writes a page to its writer only after the page's read ended: a
// slow reader of the export (a pipe to a pager, a network sink) never
// holds a database connection, a PostgreSQL transaction or SQLite's WAL
// open. 300 random commands make more than the output buffer of 64 KiB,
// so the writer is reached before the export ends.
func TestExportHoldsNoReadWhileWriting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		svc, store := newApp(t, db)
		if err := seed.Random(ctx, svc, rand.New(rand.NewPCG(9, 9)), 300); err != nil {
			t.Fatal(err)
		}
		var writes, bytes int
		w := writerFunc(func(p []byte) (int, error) {
			writes++
			bytes += len(p)
			if inUse := db.Read.DB.Stats().InUse; inUse != 0 {
				t.Errorf("write %d: %d connections of the read pool in use, want 0", writes, inUse)
			}
			return len(p), nil
		})
		if _, err := envelope.Export(ctx, store, w, envelope.Filter{}, nil); err != nil {
			t.Fatal(err)
		}
		if bytes <= 1<<16 {
			t.Fatalf("got %d bytes in %d writes, want more than the 64 KiB the output buffer holds", bytes, writes)
		}
	})
}
