package projections_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// BenchmarkCatchUp measures a live projection catching up a backlog from
// empty read models, next to `projections rebuild` of the same log in the
// same iteration (the baseline: the machine is shared). The backlog is
// BENCH_EVENTS random configuration commands (seed.Random, default 5,000)
// appended while no consumer runs. Each iteration empties the projection's
// tables and its consumer group, rebuilds, empties them again and lets the
// live runner consume everything; it reports both in events/s and
// live/rebuild.
func BenchmarkCatchUp(b *testing.B) {
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = dbtest.SQLite(b)
			} else {
				db = dbtest.Postgres(b)
			}
			store, svc := benchApp(b, db)
			// The commands read the read models (a grant needs its user):
			// they are built while the backlog is written, then emptied.
			all := make([]projections.Projection, 0, 3)
			for _, p := range projections.All() {
				all = append(all, p)
			}
			seeding := projections.NewRunner(store, db, nil, all...)
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- seeding.Run(ctx, nil) }()
			err := seed.Random(b.Context(), svc, rand.New(rand.NewPCG(13, 2)), n)
			stop()
			<-done
			if err != nil {
				b.Fatal(err)
			}
			events, err := store.Count(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			head, err := store.Head(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("backlog of %d events", events)
			for _, p := range projections.All() {
				b.Run(p.Name(), func(b *testing.B) {
					var live, rebuild time.Duration
					for b.Loop() {
						resetProjection(b, db, p)
						start := time.Now()
						if _, err := projections.Rebuild(b.Context(), store, p, nil); err != nil {
							b.Fatal(err)
						}
						rebuild += time.Since(start)
						resetProjection(b, db, p)
						start = time.Now()
						catchUp(b, store, db, p, head)
						live += time.Since(start)
					}
					total := float64(events) * float64(b.N)
					b.ReportMetric(total/rebuild.Seconds(), "rebuild-events/s")
					b.ReportMetric(total/live.Seconds(), "live-events/s")
					b.ReportMetric(rebuild.Seconds()/live.Seconds(), "live/rebuild")
				})
			}
		})
	}
}

func benchApp(b *testing.B, db *database.DB) (*eventstore.Store, *app.App) {
	reg, err := app.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	ring, _ := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{1}, 32)})
	store := eventstore.New(db, eventstore.Options{Registry: reg})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs})
	if err != nil {
		b.Fatal(err)
	}
	return store, svc
}

// resetProjection empties a projection's tables and forgets its consumer
// group's position: the state before its first event.
func resetProjection(b *testing.B, db *database.DB, p projections.Tabled) {
	b.Helper()
	for _, table := range p.Tables() {
		if _, err := db.Write.DB.ExecContext(b.Context(), "DELETE FROM "+table); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Write.NewRaw("DELETE FROM events_offsets WHERE consumer_group = ?", p.Name()).Exec(b.Context()); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Write.NewRaw("DELETE FROM parked_events WHERE consumer_group = ?", p.Name()).Exec(b.Context()); err != nil {
		b.Fatal(err)
	}
}

// catchUp runs p's live consumer until it has applied everything up to
// head.
func catchUp(b *testing.B, store *eventstore.Store, db *database.DB, p projections.Projection, head eventstore.Position) {
	b.Helper()
	// A store of its own, as a new process: the benchmark moved the group
	// back behind the seeding store's back (resetProjection).
	store = eventstore.New(db, eventstore.Options{Registry: store.Registry()})
	runner := projections.NewRunner(store, db, nil, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx, nil) }()
	wctx, wcancel := context.WithTimeout(b.Context(), 10*time.Minute)
	err := runner.WaitFor(wctx, head)
	wcancel()
	cancel()
	<-done
	if err != nil {
		b.Fatal(err)
	}
}
