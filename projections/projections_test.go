package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
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

type fixture struct {
	db     *database.DB
	store  *eventstore.Store
	svc    *app.App
	runner *projections.Runner
}

func setup(t *testing.T, db *database.DB, run bool, ps ...projections.Projection) fixture {
	t.Helper()
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{1}, 32)})
	store := eventstore.New(db, eventstore.Options{Registry: reg})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		for _, p := range projections.All() {
			ps = append(ps, p)
		}
	}
	f := fixture{db: db, store: store, svc: svc, runner: projections.NewRunner(store, db, nil, ps...)}
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		running := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- f.runner.Run(ctx, running) }()
		<-running
		t.Cleanup(func() { cancel(); <-done })
	}
	return f
}

// caughtUp waits until every projection has applied the whole log.
func (f fixture) caughtUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	head, err := f.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.runner.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
}

// dumpTables renders every read-model table as sorted lines.
func dumpTables(t *testing.T, db *database.DB) string {
	t.Helper()
	var b strings.Builder
	for _, p := range projections.All() {
		for _, table := range p.Tables() {
			rows, err := db.Read.DB.QueryContext(t.Context(), "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			var lines []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				var line []string
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					line = append(line, fmt.Sprintf("%s=%v", cols[i], v))
				}
				lines = append(lines, strings.Join(line, " "))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			slices.Sort(lines)
			fmt.Fprintf(&b, "== %s (%d rows)\n%s\n", table, len(lines), strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  incremental: %s\n  rebuilt:     %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d vs %d lines", len(al), len(bl))
}

// A rebuilt projection equals the incrementally built one, on a generated
// history of thousands of events, while the live consumers keep running.
func TestRebuildEqualsIncremental(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, true)
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(7, 11)), 3500); err != nil {
			t.Fatal(err)
		}
		n, _ := f.store.Count(t.Context())
		if n < 2000 {
			t.Fatalf("history has %d events, want thousands", n)
		}
		f.caughtUp(t)
		incremental := dumpTables(t, db)
		for _, p := range projections.All() {
			if _, err := projections.Rebuild(t.Context(), f.store, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		rebuilt := dumpTables(t, db)
		if incremental != rebuilt {
			t.Fatalf("rebuilt read models differ from the incremental ones after %d events: %s", n, diff(incremental, rebuilt))
		}
		// The live consumers continue after the rebuild without applying
		// anything twice.
		if _, _, err := f.svc.Commands.Tenants.Create(seed.AsSystem(t.Context()), "After Rebuild"); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(t)
		var audits int
		if err := db.Read.DB.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_audit`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if int64(audits) != n+1 {
			t.Errorf("audit log has %d entries after rebuild and one more event, want %d (one per event)", audits, n+1)
		}
	})
}

// Redelivering the tail of the log (as after a crash before the offset
// commit) changes nothing: the handlers are idempotent.
func TestRedeliveryChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, true)
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(3, 5)), 400); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(t)
		want := dumpTables(t, db)
		recs, err := f.store.ReadAll(t.Context(), eventstore.Position{}, 100000)
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, 1))
		for trial := range 5 {
			from := rnd.IntN(len(recs))
			tx, err := db.Write.DB.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			ptx := projections.NewTx(db.Write, tx)
			for _, rec := range recs[from:] {
				for _, p := range projections.All() {
					if err := p.Apply(t.Context(), ptx, rec); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := dumpTables(t, db); got != want {
				t.Fatalf("trial %d: redelivering events %d… changed the read models: %s", trial, from, diff(want, got))
			}
		}
	})
}

// failOnce fails the first time it sees the n-th event, after writing.
type failOnce struct {
	projections.Directory
	n      int
	seen   int
	failed bool
}

func (f *failOnce) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if err := f.Directory.Apply(ctx, tx, rec); err != nil {
		return err
	}
	f.seen++
	if f.seen == f.n && !f.failed {
		f.failed = true
		return fmt.Errorf("crash after writing event %d", f.n)
	}
	return nil
}

// A handler that fails after writing (a crash between the read-model write
// and the offset commit) leaves no trace: the result equals a clean build.
func TestFailingProjectionLeavesNoTrace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		flaky := &failOnce{n: 40}
		f := setup(t, db, true, flaky, projections.Audit{})
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(9, 9)), 200); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(t)
		if !flaky.failed {
			t.Fatal("the projection never failed: the test proves nothing")
		}
		got := dumpTables(t, db)
		if _, err := projections.Rebuild(t.Context(), f.store, projections.Directory{}, nil); err != nil {
			t.Fatal(err)
		}
		if clean := dumpTables(t, db); got != clean {
			t.Fatalf("a failed handler left a trace: %s", diff(clean, got))
		}
	})
}

// brokenWhile fails every event while broken is set, as a lost database
// connection would: transiently, so nothing is parked (R35).
type brokenWhile struct {
	projections.Directory
	broken atomic.Bool
	failed atomic.Int32
}

func (b *brokenWhile) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if b.broken.Load() {
		b.failed.Add(1)
		return fmt.Errorf("broken: %w", eventstore.ErrTransient)
	}
	return b.Directory.Apply(ctx, tx, rec)
}

// A projection that keeps failing holds no transaction open while it
// waits to try again: other writers go on (on SQLite they share the one
// write connection), and once it works again it catches up.
func TestFailingProjectionDoesNotBlockWriters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		b := &brokenWhile{}
		b.broken.Store(true)
		f := setup(t, db, true, b)
		ctx := seed.AsSystem(t.Context())
		if _, _, err := f.svc.Commands.Tenants.Create(ctx, "First"); err != nil {
			t.Fatal(err)
		}
		for b.failed.Load() < 4 {
			time.Sleep(10 * time.Millisecond)
		}
		// Writers go on while the projection is broken: well within the
		// 30 s a consumer transaction may live.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for i := range 5 {
			if _, _, err := f.svc.Commands.Tenants.Create(wctx, fmt.Sprintf("During %d", i)); err != nil {
				t.Fatalf("append while a projection fails: %v", err)
			}
		}
		b.broken.Store(false)
		f.caughtUp(t)
		var n int
		if err := db.Read.DB.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_tenants`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 6 {
			t.Errorf("read model has %d tenants after the projection recovered, want 6", n)
		}
	})
}
