package projections_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// checkpointAtHead fails unless group stands at the log's head.
func checkpointAtHead(t *testing.T, store *eventstore.Store, group string) {
	t.Helper()
	head, err := store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := store.Checkpoint(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	if cp != head {
		t.Errorf("group %s at %s after catching up, want the head %s", group, cp, head)
	}
}

// A catch-up gives the read models a rebuild gives: from the start of the
// log (the tables emptied, the audit's field memory in Go) and from a
// position far behind (the tables kept, the audit's fields read back); a
// group close enough to the head is left to its live consumer.
func TestCatchUpEqualsRebuild(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, false) // no live consumer: the log is far ahead
		rnd := rand.New(rand.NewPCG(3, 4))
		if err := seed.Random(t.Context(), f.svc, rnd, 1500); err != nil {
			t.Fatal(err)
		}
		n, _ := f.store.Count(t.Context())
		for _, p := range projections.All() {
			c, err := projections.CatchUp(t.Context(), f.store, p, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Rebuilt || c.Events != n {
				t.Errorf("catch-up of %s from the start: rebuilt %v, %d events; want a rebuild of %d", p.Name(), c.Rebuilt, c.Events, n)
			}
			checkpointAtHead(t, f.store, p.Name())
		}
		// More history, far behind again: caught up on top of the tables.
		if err := seed.Random(t.Context(), f.svc, rnd, 1500); err != nil {
			t.Fatal(err)
		}
		for _, p := range projections.All() {
			c, err := projections.CatchUp(t.Context(), f.store, p, 100)
			if err != nil {
				t.Fatal(err)
			}
			if c.Rebuilt || c.Events < 100 {
				t.Errorf("catch-up of %s from %s: rebuilt %v, %d events; want the rest without a rebuild", p.Name(), c.From, c.Rebuilt, c.Events)
			}
			checkpointAtHead(t, f.store, p.Name())
		}
		caughtUp := dumpTables(t, db)
		for _, p := range projections.All() {
			if _, err := projections.Rebuild(t.Context(), f.store, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		if rebuilt := dumpTables(t, db); rebuilt != caughtUp {
			t.Fatalf("caught-up read models differ from rebuilt ones: %s", diff(caughtUp, rebuilt))
		}
		// A few events more are the live consumer's.
		if _, _, err := f.svc.Commands.Tenants.Create(seed.AsSystem(t.Context()), "Close Behind"); err != nil {
			t.Fatal(err)
		}
		for _, p := range projections.All() {
			c, err := projections.CatchUp(t.Context(), f.store, p, 100)
			if err != nil || c.Events != 0 {
				t.Errorf("catch-up of %s one command behind: %d events (%v), want nothing done", p.Name(), c.Events, err)
			}
		}
	})
}

// R35: a catch-up parks what it cannot apply as a rebuild (and so the
// live consumer) parks it: an undecodable event, a statement the database
// refuses when its batch is sent, and the later events of their streams;
// caught up from a position, the events of a stream parked before are
// parked behind it. The parked events themselves stay parked.
func TestR35_CatchUpParksAsRebuild(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := seed.AsSystem(t.Context())
		dir := &badStatement{}
		f := setup(t, db, false, dir, projections.Audit{}, projections.Messages{})
		refused := appendPoison(t, f, dir)
		all := []projections.Tabled{dir, projections.Audit{}, projections.Messages{}}
		for _, p := range all {
			if _, err := projections.CatchUp(t.Context(), f.store, p, 10); err != nil {
				t.Fatalf("catch up %s: got %v, want the poison events parked", p.Name(), err)
			}
		}
		// Later events of the parked streams and more history, caught up
		// from where the groups stand.
		q := 8
		if _, err := f.svc.Commands.Tenants.SetPolicy(ctx, refused, tenant.PolicyChange{MailboxQuota: &q}); err != nil {
			t.Fatal(err)
		}
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(6, 9)), 200); err != nil {
			t.Fatal(err)
		}
		for _, p := range all {
			c, err := projections.CatchUp(t.Context(), f.store, p, 10)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() == "directory" && c.Parked != 1 {
				t.Errorf("catch-up of directory from %s parked %d events (%v), want the new event of the refused stream behind it", c.From, c.Parked, c.Failures)
			}
		}
		caughtUp, parked := dumpTables(t, db), parkedSummary(t, f.store)
		if !strings.Contains(parked, "directory TenantPolicyChanged.v1 tenant-"+refused) {
			t.Fatalf("parked %s, want the refused stream's events", parked)
		}
		for _, p := range all {
			if _, err := projections.Rebuild(t.Context(), f.store, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		if rebuilt := dumpTables(t, db); rebuilt != caughtUp {
			t.Errorf("caught-up read models differ from the rebuilt ones: %s", diff(caughtUp, rebuilt))
		}
		if got := parkedSummary(t, f.store); got != parked {
			t.Errorf("parked by the catch-up:\n%s\nwant as a rebuild parks:\n%s", parked, got)
		}
	})
}

// Of several processes starting at once, one catches a projection up; the
// others wait for its lock and then find nothing to do. Every event is
// applied once (one audit entry each).
func TestCatchUpOnceAcrossStarters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, false)
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(8, 1)), 800); err != nil {
			t.Fatal(err)
		}
		n, _ := f.store.Count(t.Context())
		var wg sync.WaitGroup
		results := make([]projections.CaughtUp, 4)
		errs := make([]error, 4)
		for i := range results {
			wg.Go(func() { results[i], errs[i] = projections.CatchUp(t.Context(), f.store, projections.Audit{}, 10) })
		}
		wg.Wait()
		var did int
		for i, c := range results {
			if errs[i] != nil {
				t.Fatalf("starter %d: %v", i, errs[i])
			}
			if c.Events > 0 {
				did++
			}
		}
		if did != 1 {
			t.Errorf("%d starters caught the audit log up, want exactly one", did)
		}
		var audits int64
		if err := db.Read.DB.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_audit`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if audits != n {
			t.Errorf("audit log has %d entries, want %d (one per event)", audits, n)
		}
		checkpointAtHead(t, f.store, "audit")
	})
}

// crashAfter is the audit projection whose process dies (its context ends)
// while it applies the nth event of a catch-up.
type crashAfter struct {
	projections.Audit
	n      int
	cancel context.CancelFunc
}

func (c *crashAfter) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return c.Audit.Apply(ctx, tx, rec)
}

// A crash during a catch-up leaves nothing of it behind: the group stays
// where it was, its tables as they were, nothing parked; the next start
// catches up from there.
func TestCatchUpCrashLeavesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db, false)
		rnd := rand.New(rand.NewPCG(2, 2))
		if err := seed.Random(t.Context(), f.svc, rnd, 400); err != nil {
			t.Fatal(err)
		}
		if _, err := projections.CatchUp(t.Context(), f.store, projections.Audit{}, 10); err != nil {
			t.Fatal(err)
		}
		if err := seed.Random(t.Context(), f.svc, rnd, 800); err != nil {
			t.Fatal(err)
		}
		before, err := f.store.Checkpoint(t.Context(), "audit")
		if err != nil {
			t.Fatal(err)
		}
		tables := dumpTables(t, db)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if _, err := projections.CatchUp(ctx, f.store, &crashAfter{n: 500, cancel: cancel}, 10); !errors.Is(err, context.Canceled) {
			t.Fatalf("catch-up cut off: got %v, want context.Canceled", err)
		}
		if cp, _ := f.store.Checkpoint(t.Context(), "audit"); cp != before {
			t.Errorf("group at %s after the crash, want where it was, %s", cp, before)
		}
		if got := dumpTables(t, db); got != tables {
			t.Errorf("tables changed by a catch-up that crashed: %s", diff(tables, got))
		}
		if got := parkedSummary(t, f.store); got != "" {
			t.Errorf("parked after the crash: %s, want nothing", got)
		}
		c, err := projections.CatchUp(t.Context(), f.store, projections.Audit{}, 10)
		if err != nil || c.From != before {
			t.Fatalf("catch-up after the crash: from %s (%v), want from %s", c.From, err, before)
		}
		checkpointAtHead(t, f.store, "audit")
	})
}

// A catch-up commits in chunks, each in a transaction of its own under
// the group's lock, so it does not hold the snapshot horizon (PostgreSQL)
// or the one writer (SQLite) for the whole backlog: a crash in a later
// chunk keeps the chunks before it, the next catch-up goes on from there,
// and the read models equal a rebuild's (the first chunk from the start
// empties the tables, the later ones read the audit's fields back).
func TestCatchUpCommitsInChunks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		projections.SetCatchUpChunk(t, 300)
		f := setup(t, db, false)
		if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(4, 7)), 1500); err != nil {
			t.Fatal(err)
		}
		head, err := f.store.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if _, err := projections.CatchUp(ctx, f.store, &crashAfter{n: 700, cancel: cancel}, 10); !errors.Is(err, context.Canceled) {
			t.Fatalf("catch-up cut off in its third chunk: got %v, want context.Canceled", err)
		}
		kept, err := f.store.Checkpoint(t.Context(), "audit")
		if err != nil {
			t.Fatal(err)
		}
		if kept == (eventstore.Position{}) || !kept.Less(head) {
			t.Fatalf("group at %s after a crash in the third chunk, want the end of the second (before the head %s)", kept, head)
		}
		var audits int64
		if err := db.Read.DB.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_audit`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if audits < 600 {
			t.Errorf("audit log has %d entries after the crash, want the two chunks committed before it (600)", audits)
		}
		c, err := projections.CatchUp(t.Context(), f.store, projections.Audit{}, 10)
		if err != nil || c.From != kept || c.Rebuilt || c.Chunks < 2 {
			t.Fatalf("catch-up after the crash: from %s, rebuilt %v, %d chunks (%v); want from %s in chunks", c.From, c.Rebuilt, c.Chunks, err, kept)
		}
		for _, p := range []projections.Tabled{projections.Directory{}, projections.Messages{}} {
			c, err := projections.CatchUp(t.Context(), f.store, p, 10)
			if err != nil || !c.Rebuilt || c.Chunks < 2 {
				t.Fatalf("catch-up of %s from the start: rebuilt %v, %d chunks (%v); want a rebuild in chunks", p.Name(), c.Rebuilt, c.Chunks, err)
			}
		}
		for _, p := range projections.All() {
			checkpointAtHead(t, f.store, p.Name())
		}
		caughtUp := dumpTables(t, db)
		for _, p := range projections.All() {
			if _, err := projections.Rebuild(t.Context(), f.store, p, nil); err != nil {
				t.Fatal(err)
			}
		}
		if rebuilt := dumpTables(t, db); rebuilt != caughtUp {
			t.Fatalf("read models caught up in chunks differ from rebuilt ones: %s", diff(caughtUp, rebuilt))
		}
	})
}
