package projections_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

// poisoned is the directory read model failing for good (a constraint
// the data violates, as far as the runner can tell) on every event of one
// tenant's stream while broken is set; a fix clears broken.
type poisoned struct {
	projections.Directory
	stream string
	broken atomic.Bool
	panics bool
}

func (p *poisoned) Apply(ctx context.Context, tx projections.Tx, rec eventstore.Record) error {
	if p.broken.Load() && rec.StreamID == p.stream {
		if p.panics {
			panic("secret-value in a panic")
		}
		return fmt.Errorf(`constraint failed: value "secret-value" not allowed`)
	}
	return p.Directory.Apply(ctx, tx, rec)
}

func tenantQuota(t *testing.T, db *database.DB, id string) (int, bool) {
	t.Helper()
	var q []int
	if err := db.Read.NewRaw(`SELECT mailbox_quota FROM rm_tenants WHERE id = ?`, id).Scan(t.Context(), &q); err != nil {
		t.Fatal(err)
	}
	if len(q) == 0 {
		return 0, false
	}
	return q[0], true
}

// R35: an event a projection fails on for good is parked with the later
// events of its stream, in order, and the projection goes on with other
// streams; retry-parked after the fix re-applies them in order and clears
// them; a rebuild clears them too. A panic is such a failure, and its
// value is not recorded.
func TestR35_ParkedEventsAreRetriedInOrderAfterTheFix(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprintf("panics=%v", panics), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				ctx := seed.AsSystem(t.Context())
				p := &poisoned{panics: panics}
				f := setup(t, db, false, p)
				bad, _, err := f.svc.Commands.Tenants.Create(ctx, "Poisoned")
				if err != nil {
					t.Fatal(err)
				}
				p.stream = "tenant-" + bad
				p.broken.Store(true)
				runCtx, cancel := context.WithCancel(context.Background())
				running, done := make(chan struct{}), make(chan error, 1)
				go func() { done <- f.runner.Run(runCtx, running) }()
				<-running
				t.Cleanup(func() { cancel(); <-done })

				// Later events of the poisoned stream, and another stream.
				for _, q := range []int{3, 7} {
					if _, err := f.svc.Commands.Tenants.SetPolicy(ctx, bad, tenant.PolicyChange{MailboxQuota: &q}); err != nil {
						t.Fatal(err)
					}
				}
				good, _, err := f.svc.Commands.Tenants.Create(ctx, "Healthy")
				if err != nil {
					t.Fatal(err)
				}
				f.caughtUp(t) // does not halt

				if _, ok := tenantQuota(t, db, good); !ok {
					t.Error("the healthy tenant is missing from the read model")
				}
				if _, ok := tenantQuota(t, db, bad); ok {
					t.Error("the poisoned tenant is in the read model")
				}
				parked, err := f.store.Parked(t.Context(), "directory")
				if err != nil {
					t.Fatal(err)
				}
				var types []string
				for i, pe := range parked {
					types = append(types, pe.EventType)
					if pe.StreamID != p.stream {
						t.Errorf("parked an event of stream %s, want only %s", pe.StreamID, p.stream)
					}
					if strings.Contains(pe.Error, "secret-value") {
						t.Errorf("parked error %q copies the payload", pe.Error)
					}
					if i > 0 && !parked[i-1].Position.Less(pe.Position) {
						t.Errorf("parked events out of log order: %s then %s", parked[i-1].Position, pe.Position)
					}
				}
				if want := "TenantCreated.v1 TenantPolicyChanged.v1 TenantPolicyChanged.v1"; strings.Join(types, " ") != want {
					t.Fatalf("parked: got %v, want %s", types, want)
				}
				if parked[1].Error != eventstore.ErrBehindParked.Error() {
					t.Errorf("later event: got error %q, want %q", parked[1].Error, eventstore.ErrBehindParked)
				}

				// Retrying before the fix changes nothing.
				res, err := projections.RetryParked(t.Context(), f.store, p)
				if err != nil || res.Applied != 0 || res.Left != 3 || len(res.Failures) != 1 {
					t.Fatalf("retry before the fix: got %+v, %v; want 0 applied, 3 left, 1 failure", res, err)
				}
				// After the fix: re-applied in order, cleared.
				p.broken.Store(false)
				if res, err = projections.RetryParked(t.Context(), f.store, p); err != nil || res.Applied != 3 || res.Left != 0 {
					t.Fatalf("retry after the fix: got %+v, %v; want 3 applied, 0 left", res, err)
				}
				if q, ok := tenantQuota(t, db, bad); !ok || q != 7 {
					t.Errorf("after retry-parked: quota %d (present %v), want 7 (the events in order)", q, ok)
				}
				if parked, _ := f.store.Parked(t.Context(), ""); len(parked) != 0 {
					t.Errorf("still parked after the retry: %v", parked)
				}

				// Later events of the stream apply again; a rebuild clears
				// parked rows.
				q := 9
				if _, err := f.svc.Commands.Tenants.SetPolicy(ctx, bad, tenant.PolicyChange{MailboxQuota: &q}); err != nil {
					t.Fatal(err)
				}
				f.caughtUp(t)
				if q, _ := tenantQuota(t, db, bad); q != 9 {
					t.Errorf("after the retry the live consumer applies the stream again: quota %d, want 9", q)
				}
				p.broken.Store(true)
				q = 11
				if _, err := f.svc.Commands.Tenants.SetPolicy(ctx, bad, tenant.PolicyChange{MailboxQuota: &q}); err != nil {
					t.Fatal(err)
				}
				f.caughtUp(t)
				if parked, _ := f.store.Parked(t.Context(), "directory"); len(parked) != 1 {
					t.Fatalf("parked again: got %d events, want 1", len(parked))
				}
				p.broken.Store(false)
				if _, err := projections.Rebuild(t.Context(), f.store, projections.Directory{}, nil); err != nil {
					t.Fatal(err)
				}
				if parked, _ := f.store.Parked(t.Context(), ""); len(parked) != 0 {
					t.Errorf("still parked after a rebuild: %v", parked)
				}
				if q, _ := tenantQuota(t, db, bad); q != 11 {
					t.Errorf("after the rebuild: quota %d, want 11", q)
				}
			})
		})
	}
}
