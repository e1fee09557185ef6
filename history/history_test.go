package history_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/history"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/seed"
)

func newService(t *testing.T, db *database.DB, now func() time.Time) (*app.App, *eventstore.Store) {
	t.Helper()
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{3}, 32)})
	store := eventstore.New(db, eventstore.Options{Registry: reg, Now: now})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// The replayed model answers exactly what the live read models answered
// at every tenth position of a generated history (R11–R16, R20): both use
// domain/options, the replay filters each tenant's events.
func TestReplayEqualsLiveAtEveryTenthPosition(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		svc, store := newService(t, db, nil)
		if err := seed.Random(ctx, svc, rand.New(rand.NewPCG(21, 8)), 500); err != nil {
			t.Fatal(err)
		}
		head, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var recs []eventstore.Record
		for from := (eventstore.Position{}); ; {
			page, err := store.ReadUntil(ctx, from, head, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			recs = append(recs, page...)
			from = page[len(page)-1].Position
		}
		if err != nil {
			t.Fatal(err)
		}
		reader := projections.NewReader(db.Read, nil) // no caching: every answer from the tables
		models := map[string]*history.Model{}         // per tenant
		base := history.NewModel()                    // what every tenant's history starts with
		var tenants []string
		compared := 0
		for i := 0; i < len(recs); i += 10 {
			batch := recs[i:min(i+10, len(recs))]
			tx, err := db.Write.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ptx := projections.NewTx(db.Write, tx)
			for _, rec := range batch {
				if err := (projections.Directory{}).Apply(ctx, ptx, rec); err != nil {
					t.Fatal(err)
				}
				ev, _ := rec.Event.(domain.Event)
				if rec.Type == "TenantCreated" {
					id := rec.StreamID[len("tenant-"):]
					tenants = append(tenants, id)
					models[id] = base.Clone()
				}
				if history.Relevant(rec, "") {
					base.Apply(rec.Position.Offset, ev)
				}
				for id, m := range models {
					if history.Relevant(rec, id) {
						m.Apply(rec.Position.Offset, ev)
					}
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			for _, tid := range tenants {
				for _, uid := range models[tid].UserIDs(tid) {
					for _, kind := range []options.Kind{options.Sender, options.ReplyTo} {
						live, err := reader.Options(ctx, kind, uid)
						if err != nil {
							t.Fatal(err)
						}
						past := models[tid].Options(kind, uid)
						if !reflect.DeepEqual(live, past) {
							t.Fatalf("at position %d, %s options of user %s:\nlive:   %+v\nreplay: %+v", batch[len(batch)-1].Position.Offset, kind, uid, live, past)
						}
						compared++
					}
				}
			}
		}
		if compared < 1000 {
			t.Fatalf("compared only %d option lists: the history is too small to prove anything", compared)
		}
		t.Logf("%d events, %d option lists compared", len(recs), compared)
	})
}

// Seed 001's mailbox, whose grants changed over time: who could use it on
// each day (R11), answered by time.
func TestMailboxAccessOnEachDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
		clock := day(1)
		svc, store := newService(t, db, func() time.Time { return clock })
		ctx := seed.AsSystem(t.Context())
		must := func(_ app.Result, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		d, err := seed.MakeDemo(ctx, svc) // day 1: open mailbox, Mustermann
		if err != nil {
			t.Fatal(err)
		}
		clock = day(2)
		anna, _, err := svc.Commands.Users.Create(ctx, d.TenantID, "anna", "Anna", "anna@celanio.com", domain.RoleEmployee)
		if err != nil {
			t.Fatal(err)
		}
		clock = day(3)
		must(svc.Commands.Mailboxes.GrantUser(ctx, d.MailboxID, anna)) // restricted to Anna
		clock = day(4)
		must(svc.Commands.Users.SetBlocked(ctx, anna, true)) // still restricted, nobody
		clock = day(5)
		must(svc.Commands.Users.SetBlocked(ctx, anna, false))
		must(svc.Commands.Mailboxes.RevokeUser(ctx, d.MailboxID, anna)) // R11 fail closed: still restricted, nobody
		clock = day(6)
		must(svc.Commands.Mailboxes.SetRestricted(ctx, d.MailboxID, false)) // open again, explicitly
		clock = day(7)
		must(svc.Commands.Users.Delete(ctx, d.UserID))

		h := history.NewService(store)
		want := map[int][]string{1: {d.UserID}, 2: {d.UserID, anna}, 3: {anna}, 4: nil, 5: nil, 6: {d.UserID, anna}, 7: {anna}}
		for dayN := 1; dayN <= 7; dayN++ {
			m, err := h.At(t.Context(), d.TenantID, day(dayN).Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			got := m.MailboxAccess(d.MailboxID)
			w := append([]string(nil), want[dayN]...)
			slicesSort(w)
			if !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Errorf("day %d: got %v, want %v", dayN, got, w)
			}
		}
		// Before anything existed there was no mailbox.
		m, err := h.At(t.Context(), d.TenantID, day(1).Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.MailboxAccess(d.MailboxID); len(got) != 0 {
			t.Errorf("before day 1: got %v, want nobody", got)
		}
	})
}

func slicesSort(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

// Concurrent queries at different times, with snapshots taken as they go,
// answer as a single replay from the start does.
func TestConcurrentAtWithSnapshots(t *testing.T) {
	db := dbtest.SQLite(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	svc, store := newService(t, db, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute)
		return clock
	})
	if err := seed.Random(t.Context(), svc, rand.New(rand.NewPCG(2, 2)), 300); err != nil {
		t.Fatal(err)
	}
	fresh := history.NewServiceEvery(store, 1_000_000) // never snapshots
	snapped := history.NewServiceEvery(store, 7)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				at := start.Add(time.Duration((g*37+i*53)%400) * time.Minute)
				a, err := snapped.At(t.Context(), history.AllTenants, at)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, err := fresh.At(t.Context(), history.AllTenants, at)
				if err != nil {
					errs <- err.Error()
					return
				}
				if a.Position() != b.Position() {
					errs <- fmt.Sprintf("at %s: snapshot replay stands at %d, full replay at %d", at, a.Position(), b.Position())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// R11 history stays true: a mailbox log written under the earlier rule
// (grant, then revoke of the last grant: open again) replays to what it
// meant then, for history and for the aggregate; revoking the last grant
// of such a mailbox after the upgrade leaves it restricted, usable by
// nobody, and history says so from then on.
func TestR11_EarlierRuleLogReplaysAsItMeant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
		clock := day(1)
		svc, store := newService(t, db, func() time.Time { return clock })
		ctx := seed.AsSystem(t.Context())
		d, err := seed.MakeDemo(ctx, svc) // day 1: open mailbox, Mustermann
		if err != nil {
			t.Fatal(err)
		}
		anna, _, err := svc.Commands.Users.Create(ctx, d.TenantID, "anna", "Anna", "anna@celanio.com", domain.RoleEmployee)
		if err != nil {
			t.Fatal(err)
		}
		// What a grant and a revocation appended before the new rule.
		legacy := func(dayN int, mbEvent, userEvent domain.Event) {
			t.Helper()
			clock = day(dayN)
			var appends []eventstore.StreamAppend
			for _, ref := range []struct {
				stream string
				ev     domain.Event
			}{{app.StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: d.MailboxID}), mbEvent},
				{app.StreamID(domain.StreamRef{Kind: domain.StreamUser, ID: anna}), userEvent}} {
				recs, err := store.Load(ctx, ref.stream)
				if err != nil {
					t.Fatal(err)
				}
				appends = append(appends, eventstore.StreamAppend{StreamType: ref.stream[:strings.IndexByte(ref.stream, '-')],
					StreamID: ref.stream, ExpectedVersion: int64(len(recs)),
					Events: []eventstore.NewEvent{{Event: ref.ev, Metadata: eventstore.Metadata{Actor: "test", TenantID: d.TenantID}}}})
			}
			if _, err := store.Append(ctx, appends...); err != nil {
				t.Fatal(err)
			}
		}
		legacy(3, mailbox.MailboxUserGranted{MailboxID: d.MailboxID, TenantID: d.TenantID, UserID: anna, UserTenantID: d.TenantID},
			user.UserMailboxGranted{UserID: anna, TenantID: d.TenantID, MailboxID: d.MailboxID})
		legacy(4, mailbox.MailboxUserRevoked{MailboxID: d.MailboxID, TenantID: d.TenantID, UserID: anna, UserTenantID: d.TenantID},
			user.UserMailboxRevoked{UserID: anna, TenantID: d.TenantID, MailboxID: d.MailboxID})
		if mb, err := svc.Aggregates.Mailbox(ctx, d.MailboxID); err != nil || mb.Restricted() {
			t.Fatalf("the aggregate after an old revocation of the last grant: got restricted %v (%v), want open", mb.Restricted(), err)
		}
		legacy(5, mailbox.MailboxUserGranted{MailboxID: d.MailboxID, TenantID: d.TenantID, UserID: anna, UserTenantID: d.TenantID},
			user.UserMailboxGranted{UserID: anna, TenantID: d.TenantID, MailboxID: d.MailboxID})
		clock = day(6) // after the upgrade
		if _, err := svc.Commands.Mailboxes.RevokeUser(ctx, d.MailboxID, anna); err != nil {
			t.Fatal(err)
		}
		if mb, err := svc.Aggregates.Mailbox(ctx, d.MailboxID); err != nil || !mb.Restricted() {
			t.Fatalf("R11: revoking the last grant after the upgrade: got restricted %v (%v), want restricted", mb.Restricted(), err)
		}

		h := history.NewService(store)
		want := map[int][]string{2: {d.UserID, anna}, 3: {anna}, 4: {d.UserID, anna}, 5: {anna}, 6: nil}
		for dayN := 2; dayN <= 6; dayN++ {
			m, err := h.At(t.Context(), d.TenantID, day(dayN).Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			got := m.MailboxAccess(d.MailboxID)
			w := append([]string(nil), want[dayN]...)
			slicesSort(w)
			if !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Errorf("day %d: got %v, want %v", dayN, got, w)
			}
		}
	})
}
