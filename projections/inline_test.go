package projections_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// countingApply is a projection that records every event it applied, in order,
// from either path (in the append's transaction or by the consumer); what
// a rolled-back transaction applied is not kept (onCommit is not called).
type countingApply struct {
	projections.Projection
	mu      sync.Mutex
	applied []int64
}

func (c *countingApply) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if err := c.Projection.Apply(ctx, tx, rec); err != nil {
		return err
	}
	c.mu.Lock()
	c.applied = append(c.applied, rec.Position.Offset)
	c.mu.Unlock()
	return nil
}

func (c *countingApply) offsets() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.applied)
}

func checkpoint(t *testing.T, store *eventstore.Store, group string) eventstore.Position {
	t.Helper()
	p, err := store.Checkpoint(t.Context(), group)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// R36 (read-your-writes), SQLite: an append applies its events to every
// caught-up projection in its own transaction and moves the groups there,
// so with no consumer running the read models already show it when the
// append returns, and WaitFor returns at once. On PostgreSQL nothing is
// applied in the append (its offsets are not in commit order).
func TestR36_AppendAppliesCaughtUpProjectionsInItsTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := seed.AsSystem(t.Context())
		f := setup(t, db, false)
		for _, g := range f.runner.Groups() {
			if err := f.store.EnsureGroup(t.Context(), g); err != nil {
				t.Fatal(err)
			}
		}
		defer projections.InlineOnly(f.runner)()
		id, res, err := f.svc.Commands.Tenants.Create(ctx, "Inline")
		if err != nil {
			t.Fatal(err)
		}
		q := 5
		res2, err := f.svc.Commands.Tenants.SetPolicy(ctx, id, tenant.PolicyChange{MailboxQuota: &q})
		if err != nil {
			t.Fatal(err)
		}
		quota, present := tenantQuota(t, db, id)
		var audits int
		if err := db.Read.DB.QueryRowContext(t.Context(), `SELECT count(*) FROM rm_audit`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if db.Kind != database.SQLite {
			if present || audits != 0 {
				t.Fatalf("PostgreSQL: the append applied to the read models (tenant %v, %d audit rows); only consumers do there", present, audits)
			}
			if p := checkpoint(t, f.store, "directory"); p.Offset != 0 {
				t.Fatalf("PostgreSQL: the append moved the directory group to %s", p)
			}
			return
		}
		if !present || quota != 5 {
			t.Fatalf("with no consumer running, the read model has the tenant %v with quota %d, want it with 5 (R36)", present, quota)
		}
		if audits != res.Events+res2.Events {
			t.Errorf("audit log has %d rows, want %d", audits, res.Events+res2.Events)
		}
		for _, g := range f.runner.Groups() {
			if p := checkpoint(t, f.store, g); p.Offset != res2.Position.Offset {
				t.Errorf("group %s at %s after the append, want %s", g, p, res2.Position)
			}
		}
		wctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := f.runner.WaitFor(wctx, res2.Position); err != nil {
			t.Errorf("WaitFor with no consumer running: %v", err)
		}
	})
}

// Every event is applied exactly once across both paths: those applied in
// their append's transaction are not applied again by the consumer, and a
// group that is behind is not applied in the append (its consumer applies
// the missing events first, in log order) until it caught up.
func TestInlineAppliesEveryEventOnceInOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := seed.AsSystem(t.Context())
		c := &countingApply{Projection: projections.Directory{}}
		f := setup(t, db, false, c)
		// Behind: an event before the group exists, then the group at
		// the log's start.
		early, _, err := f.svc.Commands.Tenants.Create(ctx, "Early")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.EnsureGroup(t.Context(), "directory"); err != nil {
			t.Fatal(err)
		}
		remove := projections.InlineOnly(f.runner)
		late, res, err := f.svc.Commands.Tenants.Create(ctx, "Late")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := tenantQuota(t, db, late); ok || len(c.offsets()) != 0 {
			t.Fatalf("a group behind the log was applied in the append (applied %v)", c.offsets())
		}
		if p := checkpoint(t, f.store, "directory"); p.Offset != 0 {
			t.Fatalf("a group behind moved to %s in the append", p)
		}
		remove()

		runCtx, cancel := context.WithCancel(context.Background())
		running, done := make(chan struct{}), make(chan error, 1)
		go func() { done <- f.runner.Run(runCtx, running) }()
		<-running
		t.Cleanup(func() { cancel(); <-done })
		if err := f.runner.WaitFor(t.Context(), res.Position); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{early, late} {
			if _, ok := tenantQuota(t, db, id); !ok {
				t.Errorf("tenant %s missing after the consumer caught up", id)
			}
		}
		// Caught up now: further appends go in their transaction (on
		// SQLite), the consumer running beside them.
		for i := range 20 {
			if _, _, err := f.svc.Commands.Tenants.Create(ctx, fmt.Sprintf("Then %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		f.caughtUp(t)
		head, _ := f.store.Head(t.Context())
		time.Sleep(50 * time.Millisecond) // a consumer applying again would do so now
		got := c.offsets()
		if int64(len(got)) != head.Offset {
			t.Fatalf("applied %d events for %d in the log: %v", len(got), head.Offset, got)
		}
		for i, off := range got {
			if off != int64(i+1) {
				t.Fatalf("applied out of order or twice: %v", got)
			}
		}
	})
}

// failsOnName is the directory failing for good on the creation of a
// tenant of a given name while broken is set.
type failsOnName struct {
	projections.Directory
	name   string
	broken atomic.Bool
}

func (p *failsOnName) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if p.broken.Load() && rec.Type == "TenantCreated" && strings.Contains(string(rec.Data), p.name) {
		return fmt.Errorf("constraint failed: tenant %s", p.name)
	}
	return p.Directory.Apply(ctx, tx, rec)
}

// R35: an apply that fails in the append leaves the event appended for
// the consumer, which parks it; a stream with a parked event is not
// applied in the append — its later event is parked by the consumer behind
// the first, also now that the projection would accept it.
func TestR35_InlineLeavesFailuresAndParkedStreamsToTheConsumer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := seed.AsSystem(t.Context())
		p := &failsOnName{name: "Poisoned"}
		f := setup(t, db, true, p)
		if _, _, err := f.svc.Commands.Tenants.Create(ctx, "Healthy"); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(t) // caught up: the next append applies in its transaction
		p.broken.Store(true)
		bad, _, err := f.svc.Commands.Tenants.Create(ctx, "Poisoned")
		if err != nil {
			t.Fatalf("an apply failing in the append failed the append: %v", err)
		}
		if recs, err := f.store.Load(t.Context(), "tenant-"+bad); err != nil || len(recs) != 1 {
			t.Fatalf("the event is not appended: %d events, %v", len(recs), err)
		}
		f.caughtUp(t)
		parked, err := f.store.Parked(t.Context(), "directory")
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 1 || parked[0].StreamID != "tenant-"+bad {
			t.Fatalf("parked %v, want the failing creation", parked)
		}
		// Fixed, but the stream stays parked until a retry: its later
		// event is parked, not applied in the append (R35).
		p.broken.Store(false)
		q := 3
		if _, err := f.svc.Commands.Tenants.SetPolicy(ctx, bad, tenant.PolicyChange{MailboxQuota: &q}); err != nil {
			t.Fatal(err)
		}
		f.caughtUp(t)
		if _, ok := tenantQuota(t, db, bad); ok {
			t.Error("the later event of a parked stream was applied")
		}
		parked, err = f.store.Parked(t.Context(), "directory")
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, pe := range parked {
			types = append(types, pe.EventType)
		}
		if want := "TenantCreated.v1 TenantPolicyChanged.v1"; strings.Join(types, " ") != want {
			t.Fatalf("parked %v, want %s", types, want)
		}
		if parked[1].Error != eventstore.ErrBehindParked.Error() {
			t.Errorf("later event parked with %q, want %q", parked[1].Error, eventstore.ErrBehindParked)
		}
		// Other streams go on in their appends.
		other, _, err := f.svc.Commands.Tenants.Create(ctx, "Other")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := tenantQuota(t, db, other); !ok && db.Kind == database.SQLite {
			t.Error("another stream's event was not applied in its append")
		}
	})
}
