package projections_test

import (
	"context"
	"fmt"
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

// rawEvent is an event as stored: any name, any JSON, so a test can write
// what the domain would never produce.
type rawEvent struct{ name, data string }

// appendPoison appends what a rebuild, a catch-up and the live consumers
// must park (R35), among 600 random commands: a tenant whose first event
// does not decode (and a later event of its stream), and a tenant whose
// policy change dir's statement the database refuses, whose id it returns.
func appendPoison(t *testing.T, f fixture, dir *badStatement) (refused string) {
	t.Helper()
	ctx := seed.AsSystem(t.Context())
	undecodable, _, err := f.svc.Commands.Tenants.Create(ctx, "Undecodable")
	if err != nil {
		t.Fatal(err)
	}
	refused, _, err = f.svc.Commands.Tenants.Create(ctx, "Refused")
	if err != nil {
		t.Fatal(err)
	}
	dir.mu.Lock()
	dir.stream = "tenant-" + refused // also before anything applied its creation
	dir.mu.Unlock()
	md := eventstore.Metadata{TenantID: undecodable, Actor: "test"}
	if _, err := f.store.Append(ctx, eventstore.StreamAppend{StreamType: "tenant", StreamID: "tenant-" + undecodable,
		ExpectedVersion: eventstore.Any, Events: []eventstore.NewEvent{
			{Event: rawEvent{"TenantPolicyChanged.v1", `{"tenantId": 42}`}, Metadata: md},
			{Event: rawEvent{"TenantPolicyChanged.v1", `{"tenantId": "` + undecodable + `", "policy": {"mailboxQuota": 7}}`}, Metadata: md},
		}}); err != nil {
		t.Fatal(err)
	}
	q := 7
	if _, err := f.svc.Commands.Tenants.SetPolicy(ctx, refused, tenant.PolicyChange{MailboxQuota: &q}); err != nil {
		t.Fatal(err)
	}
	if err := seed.Random(t.Context(), f.svc, rand.New(rand.NewPCG(5, 9)), 600); err != nil {
		t.Fatal(err)
	}
	return refused
}

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

// badStatement is the directory read model sending, for every event of
// one stream — the tenant created with the name "Refused", from its
// creation on, whichever path applies it first (its append's transaction
// on SQLite, a consumer, a rebuild) — a statement the database refuses: in
// a rebuild it is queued with others and fails only when the batch is
// sent.
type badStatement struct {
	projections.Directory
	mu     sync.Mutex
	stream string
}

func (b *badStatement) refused() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stream
}

func (b *badStatement) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if rec.Type == "TenantCreated" && strings.Contains(string(rec.Data), `"Refused"`) {
		b.mu.Lock()
		b.stream = rec.StreamID
		b.mu.Unlock()
	}
	if rec.StreamID == b.refused() {
		if err := tx.Exec(ctx, `UPDATE no_such_table SET x = 1`); err != nil {
			return err
		}
	}
	return b.Directory.Apply(ctx, tx, rec)
}

// R35: a rebuild does not stop at an event it cannot apply. One that does
// not decode, and one whose statement the database refuses only when its
// batch is sent, are parked with the later events of their streams, in
// the rebuild's transaction, as the live consumers park them; every other
// stream is rebuilt whole (the tables equal the incrementally built ones).
func TestR35_RebuildParksWhatItCannotApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		dir := &badStatement{}
		f := setup(t, db, true, dir, projections.Audit{}, projections.Messages{})
		refused := appendPoison(t, f, dir)
		f.caughtUp(t)
		incremental, parkedLive := dumpTables(t, db), parkedSummary(t, f.store)
		if !strings.Contains(parkedLive, "directory TenantCreated.v1 tenant-"+refused) {
			t.Fatalf("the live directory parked %s, want the refused stream: the test proves nothing", parkedLive)
		}

		want := map[string]int{"directory": 4, "audit": 2, "messages": 0} // an event and the one after it, per stream
		for _, p := range []projections.Tabled{dir, projections.Audit{}, projections.Messages{}} {
			res, err := projections.Rebuild(t.Context(), f.store, p, nil)
			if err != nil {
				t.Fatalf("rebuild %s: got %v, want the poison events parked", p.Name(), err)
			}
			if res.Parked != want[p.Name()] {
				t.Errorf("rebuild %s: parked %d events (%v), want %d", p.Name(), res.Parked, res.Failures, want[p.Name()])
			}
		}
		if rebuilt := dumpTables(t, db); rebuilt != incremental {
			t.Errorf("rebuilt read models differ from the incremental ones: %s", diff(incremental, rebuilt))
		}
		if got := parkedSummary(t, f.store); got != parkedLive {
			t.Errorf("parked after the rebuild:\n%s\nwant as the live consumers parked:\n%s", got, parkedLive)
		}
	})
}

// parkedSummary lists the parked events: group, type, stream, position,
// and the error for those parked behind an earlier one.
func parkedSummary(t *testing.T, store *eventstore.Store) string {
	t.Helper()
	parked, err := store.Parked(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range parked {
		behind := p.Error == eventstore.ErrBehindParked.Error()
		fmt.Fprintf(&b, "%s %s %s %s behind=%v\n", p.Group, p.EventType, p.StreamID, p.Position, behind)
	}
	return b.String()
}

// R36: a rebuild never moves its group back. Events committed after the
// rebuild started and a live batch that consumed them and committed the
// group past them before the rebuild got the group's lock are not undone:
// the rebuild reads the head under the lock and replays up to it.
// (Read-your-writes trusts the positions a process's consumers committed,
// so a group moved back would let a mutation answer before its event is
// in the tables.)
func TestR36_RebuildNeverMovesGroupBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		f := setup(t, db, false)
		rnd := rand.New(rand.NewPCG(1, 2))
		if err := seed.Random(ctx, f.svc, rnd, 50); err != nil {
			t.Fatal(err)
		}
		if _, err := projections.Rebuild(ctx, f.store, projections.Audit{}, nil); err != nil {
			t.Fatal(err)
		}
		var newHead eventstore.Position
		projections.SetRebuildBeforeLock(t, func() {
			if err := seed.Random(ctx, f.svc, rnd, 5); err != nil {
				t.Fatal(err)
			}
			var err error
			if newHead, err = f.store.Head(ctx); err != nil {
				t.Fatal(err)
			}
			// A live batch of the audit group applies the new events and
			// commits the group there.
			live, err := db.Write.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = live.Rollback() }()
			if err := f.store.LockGroup(ctx, live.Tx, "audit"); err != nil {
				t.Fatal(err)
			}
			if err := f.store.MoveGroup(ctx, live.Tx, "audit", newHead); err != nil {
				t.Fatal(err)
			}
			if err := live.Commit(); err != nil {
				t.Fatal(err)
			}
		})
		if _, err := projections.Rebuild(ctx, f.store, projections.Audit{}, nil); err != nil {
			t.Fatal(err)
		}
		cp, err := f.store.Checkpoint(ctx, "audit")
		if err != nil {
			t.Fatal(err)
		}
		if cp.Less(newHead) {
			t.Errorf("group moved back: at %s after the rebuild, the live consumer had committed %s", cp, newHead)
		}
	})
}
