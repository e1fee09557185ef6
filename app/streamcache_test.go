package app_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/internal/dbtest"
)

// The stream cache (issue 13 item 2) never decides on a stale aggregate:
// two Apps on one database stand for two processes; each has loaded —
// and cached — what the other then changes. R9/R10 (quota), R19's
// NOT_FOUND and the expected versions must hold as without a cache.
func TestStreamCacheSeesAnotherProcessesWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		a, b := newService(t, db), newService(t, db)
		tenantID, _, err := a.Commands.Tenants.Create(ctx, "celanio GmbH")
		if err != nil {
			t.Fatal(err)
		}
		first, _, err := a.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "info@celanio.com", DisplayName: "Info", Sender: true})
		if err != nil {
			t.Fatal(err)
		}
		// a caches the tenant (one mailbox of a quota of 1) and the mailbox.
		if _, err := a.Aggregates.Tenant(ctx, tenantID); err != nil {
			t.Fatal(err)
		}
		if m, err := a.Aggregates.Mailbox(ctx, first); err != nil || m.DisplayName() != "Info" {
			t.Fatalf("got %v, %v, want the mailbox Info", m, err)
		}

		// b renames the mailbox: a answers with b's name.
		if _, err := b.Commands.Mailboxes.Update(ctx, first, app.UpdateMailboxInput{DisplayName: ptr("Renamed by b")}); err != nil {
			t.Fatal(err)
		}
		if m, err := a.Aggregates.Mailbox(ctx, first); err != nil || m.DisplayName() != "Renamed by b" {
			t.Fatalf("got %q, %v, want the name b gave it", m.DisplayName(), err)
		}

		// b removes the mailbox and adds another one (the quota is 1): a's
		// commands decide on that, not on what a cached.
		if _, err := b.Commands.Mailboxes.Remove(ctx, first); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "sales@celanio.com", DisplayName: "Sales", Sender: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Commands.Mailboxes.Update(ctx, first, app.UpdateMailboxInput{DisplayName: ptr("Again")}); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("updating a mailbox another process removed: got %v, want NOT_FOUND", err)
		}
		if _, _, err := a.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "help@celanio.com", DisplayName: "Help", Sender: true}); !errors.Is(err, domain.ErrQuotaExceeded) {
			t.Errorf("R10 after another process used the quota: got %v, want QUOTA_EXCEEDED", err)
		}
		if _, _, err := a.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "SALES@celanio.com", DisplayName: "Sales", Sender: true}); !errors.Is(err, domain.ErrQuotaExceeded) && !errors.Is(err, domain.ErrAlreadyExists) {
			t.Errorf("R9 after another process added the address: got %v, want QUOTA_EXCEEDED or ALREADY_EXISTS", err)
		}
	})
}

// Expected versions with the cache: two processes renaming one mailbox at
// once each append on the version they loaded; every rename lands exactly
// once (conflicts are retried on fresh state), so the stream ends with one
// event per rename, and both processes then see the same last name.
func TestStreamCacheConcurrentWritersKeepExpectedVersions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		a, b := newService(t, db), newService(t, db)
		tenantID, _, err := a.Commands.Tenants.Create(ctx, "celanio GmbH")
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := a.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "info@celanio.com", DisplayName: "Info", Sender: true})
		if err != nil {
			t.Fatal(err)
		}
		before, err := a.Store().Load(ctx, app.StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: id}))
		if err != nil {
			t.Fatal(err)
		}
		const per = 10
		var wg sync.WaitGroup
		for w, svc := range []*app.App{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					if _, err := svc.Commands.Mailboxes.Update(ctx, id, app.UpdateMailboxInput{DisplayName: ptr(fmt.Sprintf("w%d-%d", w, i))}); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		recs, err := a.Store().Load(ctx, app.StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: id}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(recs)-len(before), 4*per; got != want {
			t.Errorf("got %d rename events, want %d", got, want)
		}
		last := recs[len(recs)-1].Event
		ma, err := a.Aggregates.Mailbox(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := b.Aggregates.Mailbox(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ma.DisplayName() != mb.DisplayName() {
			t.Errorf("got %q in a and %q in b, want the same last name (last event %+v)", ma.DisplayName(), mb.DisplayName(), last)
		}
	})
}
