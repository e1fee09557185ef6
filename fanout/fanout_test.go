package fanout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// Every event of a generated history arrives in the broker exactly once
// (Nats-Msg-Id deduplication), in commit order, so in stream order, as the
// public envelope without secrets (SPEC §3).
func TestForwardsHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		b := startBroker(t)
		f.runForwarder(t, b.url())
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(1, 2)), 1200); err != nil {
			t.Fatal(err)
		}
		f.waitForwarded(t)
		f.verify(t, b)

		st, err := b.js(t).Stream(t.Context(), fanout.DefaultStream)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.CachedInfo().Config; got.Duplicates != fanout.DefaultDuplicateWindow || len(got.Subjects) != 1 || got.Subjects[0] != "absender.events.>" {
			t.Errorf("stream config: got subjects %v, duplicates %s; want [absender.events.>], %s", got.Subjects, got.Duplicates, fanout.DefaultDuplicateWindow)
		}
	})
}

// Stopping the broker mid-way loses nothing: the events appended during
// the outage wait in the database and arrive after the restart, in order,
// without duplicates. Meanwhile the other consumer groups keep up (the
// forwarder holds no transaction open while the broker is down).
func TestBrokerOutage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		f.runProjections(t)
		b := startBroker(t)
		f.runForwarder(t, b.url())

		seeded := make(chan error, 1)
		go func() { seeded <- seed.Random(context.Background(), f.svc, rand.New(rand.NewPCG(3, 4)), 800) }()
		f.waitCheckpoint(t, 150)
		b.stop()
		if err := <-seeded; err != nil {
			t.Fatal(err)
		}
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(5, 6)), 300); err != nil {
			t.Fatal(err)
		}
		// The projections apply everything while the broker is down.
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		head, err := f.store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.runner.WaitFor(ctx, head); err != nil {
			t.Fatalf("projections during the broker outage: %v", err)
		}
		cp, err := f.store.Checkpoint(ctx, fanout.DefaultConsumerGroup)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Reached(head) {
			t.Fatalf("forwarder checkpoint %s reached head %s while the broker was down", cp, head)
		}

		b.start()
		f.waitForwarded(t)
		f.verify(t, b)
	})
}

// A restart of the forwarder (as of absender) resumes at its committed
// position without gaps; and when the position is lost, so that every
// event is published again, JetStream's deduplication by event id keeps
// one message per event.
func TestRestartResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		b := startBroker(t)
		stop := f.runForwarder(t, b.url())

		seeded := make(chan error, 1)
		go func() { seeded <- seed.Random(context.Background(), f.svc, rand.New(rand.NewPCG(7, 8)), 600) }()
		f.waitCheckpoint(t, 100)
		stop()
		if err := <-seeded; err != nil {
			t.Fatal(err)
		}
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(9, 10)), 200); err != nil {
			t.Fatal(err)
		}
		stop = f.runForwarder(t, b.url())
		f.waitForwarded(t)
		f.verify(t, b)

		// A lost position (as after a crash between publish and commit, at
		// a larger scale): everything is published again.
		stop()
		if _, err := db.Write.ExecContext(t.Context(), `DELETE FROM events_offsets WHERE consumer_group = 'broker'`); err != nil {
			t.Fatal(err)
		}
		f.runForwarder(t, b.url())
		f.waitForwarded(t)
		f.verify(t, b)
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  fanout.Config
		ok   bool
	}{
		{"minimal", fanout.Config{URL: "nats://127.0.0.1:4222"}, true},
		{"cluster with credentials", fanout.Config{URL: "nats://u:p@a:4222, tls://b:4222"}, true},
		{"empty URL", fanout.Config{}, false},
		{"no scheme", fanout.Config{URL: "127.0.0.1:4222"}, false},
		{"http", fanout.Config{URL: "http://127.0.0.1:4222"}, false},
		{"no host", fanout.Config{URL: "nats://:4222"}, false},
		{"dotted stream", fanout.Config{URL: "nats://a", Stream: "a.b"}, false},
		{"wildcard prefix", fanout.Config{URL: "nats://a", SubjectPrefix: "a.*"}, false},
		{"empty prefix token", fanout.Config{URL: "nats://a", SubjectPrefix: "a..b"}, false},
		{"publish timeout not below ack deadline", fanout.Config{URL: "nats://a", PublishTimeout: 3 * time.Second}, false},
		{"negative retry", fanout.Config{URL: "nats://a", RetryInterval: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate: got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	for in, want := range map[string]string{"mailbox": "absender.events.mailbox", "a.b*c>": "absender.events.a_b_c_", "": "absender.events._"} {
		if got := (fanout.Config{}).Subject(in); got != want {
			t.Errorf("Subject(%q): got %q, want %q", in, got, want)
		}
	}
}

// --- fixture ---

type fixture struct {
	db     *database.DB
	store  *eventstore.Store
	svc    *app.App
	runner *projections.Runner
	log    *slog.Logger
}

func setup(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{1}, 32)})
	log := testLogger(t)
	store := eventstore.New(db, eventstore.Options{Registry: reg, Logger: log})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs})
	if err != nil {
		t.Fatal(err)
	}
	var ps []projections.Projection
	for _, p := range projections.All() {
		ps = append(ps, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go store.Listen(ctx)
	t.Cleanup(cancel)
	return &fixture{db: db, store: store, svc: svc, runner: projections.NewRunner(store, db, log, ps...), log: log}
}

func (f *fixture) runProjections(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- f.runner.Run(ctx, running) }()
	<-running
	t.Cleanup(func() { cancel(); <-done })
}

// runForwarder starts a forwarder; stop ends it (also at cleanup).
func (f *fixture) runForwarder(t *testing.T, url string) (stop func()) {
	t.Helper()
	fw, err := fanout.New(f.store, fanout.Config{URL: url, RetryInterval: 50 * time.Millisecond,
		MaxRetryInterval: 500 * time.Millisecond, PollInterval: 200 * time.Millisecond, Logger: f.log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("forwarder: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitCheckpoint waits until the forwarder has committed at least n
// events (to stop something mid-way).
func (f *fixture) waitCheckpoint(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp, err := f.store.Checkpoint(t.Context(), fanout.DefaultConsumerGroup)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Offset >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("forwarder checkpoint: got %s after 20s, want offset ≥ %d", cp, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitForwarded waits until the forwarder has published the whole log.
func (f *fixture) waitForwarded(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	head, err := f.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.WaitFor(ctx, head, fanout.DefaultConsumerGroup); err != nil {
		t.Fatal(err)
	}
}

// secrets are the seed's plain-text secrets and the names of secret
// fields; none may appear in a published message.
var secrets = []string{`s3cret`, `"pw"`, `"password"`, `"graphClientSecret"`, `"secretHash"`}

// verify reads the whole stream and compares it with the event log: one
// message per event, in commit order, each stream's versions 1, 2, 3…,
// subject and Nats-Msg-Id as documented, the envelope equal to
// envelope.From of the stored event, and no secret anywhere.
func (f *fixture) verify(t *testing.T, b *broker) {
	t.Helper()
	var recs []eventstore.Record
	for from := (eventstore.Position{}); ; {
		page, err := f.store.ReadAll(t.Context(), from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, page...)
		if len(page) < 1000 {
			break
		}
		from = page[len(page)-1].Position
	}
	msgs := b.readAll(t)
	if len(msgs) != len(recs) {
		t.Fatalf("stream holds %d messages, want %d (one per event)", len(msgs), len(recs))
	}
	withSecrets := 0
	versions := map[string]int64{}
	for i, m := range msgs {
		rec := recs[i]
		for _, s := range []string{`"password"`, `"graphClientSecret"`, `"secretHash"`} {
			if bytes.Contains(rec.Data, []byte(s)) {
				withSecrets++
				break
			}
		}
		for _, s := range secrets {
			if bytes.Contains(m.Data(), []byte(s)) {
				t.Fatalf("message %d (%s %s) contains %s: %s", i, rec.ID, rec.Name(), s, m.Data())
			}
		}
		var got envelope.Envelope
		if err := json.Unmarshal(m.Data(), &got); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		want := envelope.From(rec)
		if d := got.At.Sub(want.At); d < -time.Millisecond || d > time.Millisecond || got.At.IsZero() {
			t.Errorf("message %d: at got %s, want %s", i, got.At, want.At)
		}
		got.At, want.At = time.Time{}, time.Time{}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("message %d (commit order):\n got %s\nwant %s", i, gotJSON, wantJSON)
		}
		if got.StreamVersion != versions[got.StreamID]+1 {
			t.Fatalf("message %d: stream %s version got %d, want %d", i, got.StreamID, got.StreamVersion, versions[got.StreamID]+1)
		}
		versions[got.StreamID] = got.StreamVersion
		if s := m.Subject(); s != "absender.events."+got.StreamType {
			t.Errorf("message %d: subject got %s, want absender.events.%s", i, s, got.StreamType)
		}
		if id := m.Headers().Get(nats.MsgIdHdr); id != got.ID {
			t.Errorf("message %d: %s got %q, want %q", i, nats.MsgIdHdr, id, got.ID)
		}
	}
	if withSecrets == 0 {
		t.Fatal("no stored event holds a secret field: the secrets check proves nothing")
	}
	t.Logf("%d events in %d streams published once each, in order; %d of them had secret fields in the store", len(recs), len(versions), withSecrets)
}

// --- embedded NATS JetStream ---

// broker is a NATS server with JetStream, embedded in the test on a random
// port (never the machine's shared one), that can be stopped and started
// again on the same port with the same store directory.
type broker struct {
	t    *testing.T
	dir  string
	port int
	srv  *server.Server
	// maxPayload is the largest message the server accepts from the next
	// start (0: NATS's default, 1 MiB).
	maxPayload int32
}

func startBroker(t *testing.T) *broker {
	b := &broker{t: t, dir: t.TempDir(), port: -1}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *broker) start() {
	b.t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: b.port, JetStream: true, StoreDir: b.dir,
		MaxPayload: b.maxPayload, NoLog: true, NoSigs: true})
	if err != nil {
		b.t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		b.t.Fatal("embedded NATS server not ready after 10s")
	}
	b.port = srv.Addr().(*net.TCPAddr).Port
	b.srv = srv
}

func (b *broker) stop() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.srv = nil
	}
}

func (b *broker) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", b.port) }

func (b *broker) js(t *testing.T) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(b.url())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// readAll reads the whole stream with an ordered consumer.
func (b *broker) readAll(t *testing.T) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st, err := b.js(t).Stream(ctx, fanout.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	n := int(st.CachedInfo().State.Msgs)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for len(out) < n {
		batch, err := cons.Fetch(min(n-len(out), 500), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			out = append(out, m)
			got++
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			t.Fatalf("read %d of %d messages: the stream ended early", len(out), n)
		}
	}
	return out
}

// testLogger writes to the test's output until the test ends (the NATS
// client may report a disconnect a moment after a forwarder stops).
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{w: t.Output()}
	t.Cleanup(w.close)
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.w.Write(p)
}

func (w *testWriter) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
