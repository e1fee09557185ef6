package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
)

// gatedAudit is the audit log whose first event waits for a gate, so a
// test sees the process in the middle of catching it up.
type gatedAudit struct {
	projections.Audit
	once    sync.Once
	entered chan struct{}
	open    chan struct{}
}

func (g *gatedAudit) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	g.once.Do(func() {
		close(g.entered)
		<-g.open
	})
	return g.Audit.Apply(ctx, tx, rec)
}

func readyz(t *testing.T, addr string) (int, map[string]string) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Checks map[string]string }
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &body)
	return res.StatusCode, body.Checks
}

// serve far behind: the process catches the read models up the rebuild's
// way before their live consumers start, /readyz answers 503 until it has,
// the saga's group is passed over the configuration events, and every
// event is applied once (one audit entry each).
func TestProcessCatchesUpBeforeReady(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		t.Setenv("OTEL_SDK_DISABLED", "true")
		raw := db.Path
		if db.Kind == database.Postgres {
			raw = db.URL
		}
		srv := buildServer(t, db)
		n := appendLog(t, srv, 4000)
		gate := &gatedAudit{entered: make(chan struct{}), open: make(chan struct{})}
		var log bytes.Buffer
		var logMu sync.Mutex
		p, err := server.NewProcess(t.Context(), server.Config{
			Log:          slog.New(slog.NewTextHandler(lockedWriter{&logMu, &log}, nil)),
			OpenDB:       func(ctx context.Context) (*database.DB, error) { return database.Open(ctx, raw, database.Options{}) },
			Keyring:      benchRing,
			Listen:       "127.0.0.1:0",
			CatchUpAfter: 100,
			Server: server.Options{ReadyMaxLag: 10, Saga: saga.Options{Poll: 100 * time.Millisecond},
				Projections: []projections.Projection{projections.Directory{}, gate, projections.Messages{}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		select {
		case <-gate.entered:
		case <-time.After(60 * time.Second):
			t.Fatal("the audit log was not caught up at start")
		}
		code, checks := readyz(t, p.Addr().String())
		if code != http.StatusServiceUnavailable || checks["projection audit"] == "ok" {
			t.Errorf("/readyz while the audit log catches up: got %d %v, want 503 naming it", code, checks)
		}
		close(gate.open)
		deadline := time.Now().Add(60 * time.Second)
		for {
			if code, _ := readyz(t, p.Addr().String()); code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				_, checks := readyz(t, p.Addr().String())
				t.Fatalf("not ready within 60 s: %v", checks)
			}
			time.Sleep(20 * time.Millisecond)
		}
		head, err := srv.Store.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{"directory", "audit", "messages", saga.ConsumerGroup} {
			if cp, _ := srv.Store.Checkpoint(t.Context(), g); cp != head {
				t.Errorf("group %s at %s when ready, want the head %s", g, cp, head)
			}
		}
		var audits int64
		if err := db.Read.DB.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_audit`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if audits != n {
			t.Errorf("audit log has %d entries, want %d (one per event)", audits, n)
		}
		logMu.Lock()
		defer logMu.Unlock()
		for _, want := range []string{"projection=directory", "projection=audit", "saga passed over"} {
			if !strings.Contains(log.String(), want) {
				t.Errorf("log does not say %q was caught up:\n%s", want, log.String())
			}
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Config.CatchUpAfter below zero turns the catch-up at start off: every
// read model is left where it stands for its live consumer, however far
// behind; 0 is the default (5,000), so a log of 6,000 events is caught up.
func TestCatchUpOffSwitch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		srv := buildServer(t, db)
		appendLog(t, srv, 6000)
		if err := srv.CatchUp(t.Context(), -1); err != nil {
			t.Fatal(err)
		}
		for _, g := range []string{"directory", "audit", "messages", saga.ConsumerGroup} {
			if cp, _ := srv.Store.Checkpoint(t.Context(), g); cp != (eventstore.Position{}) {
				t.Errorf("group %s at %s with the catch-up off, want it left at the start", g, cp)
			}
		}
		if err := srv.CatchUp(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		head, err := srv.Store.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if cp, _ := srv.Store.Checkpoint(t.Context(), "audit"); cp != head {
			t.Errorf("audit at %s after the default catch-up, want the head %s", cp, head)
		}
	})
}
