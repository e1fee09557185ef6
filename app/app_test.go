package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
)

func newService(t *testing.T, db *database.DB) *app.App {
	t.Helper()
	reg, err := app.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(db, eventstore.Options{Registry: reg})
	cs, err := content.New(db.Read, ring)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(app.Config{Store: store, Keyring: ring, Reader: projections.NewReader(db.Read, store.Generation), Content: cs, MaxAttempts: 50})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func asSystemAdmin(ctx context.Context) context.Context {
	return app.WithRequest(ctx, app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "token:test-admin", CorrelationID: "corr-1"})
}

func ptr[T any](v T) *T { return &v }

// R10 and R9 across aggregates: 20 concurrent AddMailbox commands on a
// tenant with quota 1 — exactly one succeeds, every other is
// QUOTA_EXCEEDED; the tenant stream serialises them through its version.
func TestR10_ConcurrentAddMailboxRespectsQuota(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		svc := newService(t, db)
		tenantID, _, err := svc.Commands.Tenants.Create(ctx, "celanio GmbH")
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = svc.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: fmt.Sprintf("box%d@celanio.com", i), DisplayName: "Box", Sender: true})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, domain.ErrQuotaExceeded):
				t.Errorf("got %v, want success or QUOTA_EXCEEDED", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d AddMailbox commands succeeded, want exactly 1", ok)
		}
		tn, err := svc.Aggregates.Tenant(ctx, tenantID)
		if err != nil {
			t.Fatal(err)
		}
		if tn.MailboxCount() != 1 {
			t.Errorf("tenant has %d mailboxes, want 1", tn.MailboxCount())
		}
	})
}

// R9: the same address added concurrently (quota high enough) exists once.
func TestR9_ConcurrentSameAddressAddedOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		svc := newService(t, db)
		tenantID, _, err := svc.Commands.Tenants.Create(ctx, "celanio GmbH")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Commands.Tenants.SetPolicy(ctx, tenantID, tenant.PolicyChange{MailboxQuota: ptr(100)}); err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				addr := "Welcome@celanio.com"
				if i%2 == 1 {
					addr = "welcome@CELANIO.com" // same address, other case (SPEC §1)
				}
				_, _, errs[i] = svc.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: addr, DisplayName: "celanio GmbH", Sender: true})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, domain.ErrAlreadyExists):
				t.Errorf("got %v, want success or ALREADY_EXISTS", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d commands added the address, want exactly 1", ok)
		}
	})
}

// R18: 20 concurrent users with one login name — exactly one is created.
func TestR18_ConcurrentSameLoginNameCreatedOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		svc := newService(t, db)
		a, _, err := svc.Commands.Tenants.Create(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := svc.Commands.Tenants.Create(ctx, "B")
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tenantID := a
				name := "mustermann"
				if i%2 == 1 {
					tenantID, name = b, "Mustermann" // unique system-wide, case-insensitively
				}
				_, _, errs[i] = svc.Commands.Users.Create(ctx, tenantID, name, "Max Mustermann", fmt.Sprintf("max%d@celanio.com", i), domain.RoleEmployee)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, domain.ErrAlreadyExists):
				t.Errorf("got %v, want success or ALREADY_EXISTS", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d users with login name mustermann were created, want exactly 1", ok)
		}
	})
}

// R18: deleting a user while grants to it are being added never leaves a
// grant to the deleted user behind: each grant either lands before the
// deletion (which revokes it) or is refused after it.
func TestR18_DeleteUserRacingGrantsLeavesNoGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		svc := newService(t, db)
		tenantID, _, err := svc.Commands.Tenants.Create(ctx, "celanio GmbH")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Commands.Tenants.SetPolicy(ctx, tenantID, tenant.PolicyChange{MailboxQuota: ptr(10)}); err != nil {
			t.Fatal(err)
		}
		userID, _, err := svc.Commands.Users.Create(ctx, tenantID, "mustermann", "Max Mustermann", "max@celanio.com", domain.RoleEmployee)
		if err != nil {
			t.Fatal(err)
		}
		var boxes []string
		for i := range 8 {
			id, _, err := svc.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: fmt.Sprintf("box%d@celanio.com", i), DisplayName: "Box", Sender: true})
			if err != nil {
				t.Fatal(err)
			}
			boxes = append(boxes, id)
		}
		var wg sync.WaitGroup
		for _, box := range boxes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.Commands.Mailboxes.GrantUser(ctx, box, userID); err != nil && !errors.Is(err, domain.ErrNotFound) {
					t.Errorf("grant: %v", err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Commands.Users.Delete(ctx, userID); err != nil {
				t.Errorf("delete: %v", err)
			}
		}()
		wg.Wait()
		for _, box := range boxes {
			mb, err := svc.Aggregates.Mailbox(ctx, box)
			if err != nil {
				t.Fatal(err)
			}
			if mb.HasUserGrant(userID) {
				t.Errorf("mailbox %s still grants the deleted user", box)
			}
		}
		// The login name is free again.
		if _, _, err := svc.Commands.Users.Create(ctx, tenantID, "mustermann", "Max Neu", "neu@celanio.com", domain.RoleEmployee); err != nil {
			t.Errorf("login name of the deleted user: %v", err)
		}
	})
}

// SPEC §3: secrets are encrypted before they enter an event; the stored
// log never holds the plain text, and the service can reveal it in memory.
func TestSecretsNeverStoredInPlainText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		svc := newService(t, db)
		const password = "correct-horse-battery-staple"
		if _, err := svc.Commands.System.ConfigureServer(ctx, app.ServerSettingsInput{
			Host: ptr("smtp.celanio.com"), Encryption: "STARTTLS", Auth: "PASSWORD",
			Username: ptr("mailer"), Password: ptr(password), SenderAddress: "noreply@celanio.com",
		}); err != nil {
			t.Fatal(err)
		}
		var dump string
		rows, err := db.Read.DB.QueryContext(ctx, `SELECT CAST(payload AS TEXT) || CAST(metadata AS TEXT) FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			dump += s
		}
		rows.Close()
		if bytes.Contains([]byte(dump), []byte(password)) {
			t.Fatal("the password is stored in plain text")
		}
		sys, err := svc.Aggregates.System(ctx)
		if err != nil {
			t.Fatal(err)
		}
		settings, _ := sys.Settings()
		got, err := app.NewSagaPort(svc).RevealSecret(domain.StreamRef{Kind: domain.StreamSystem}, "password", settings.Password)
		if err != nil || got != password {
			t.Fatalf("reveal: got %q, %v; want the password", got, err)
		}
		// Bound to its place: the same ciphertext does not open elsewhere.
		if _, err := app.NewSagaPort(svc).RevealSecret(domain.StreamRef{Kind: domain.StreamMailbox, ID: "x"}, "password", settings.Password); err == nil {
			t.Error("a secret decrypted for another stream")
		}
	})
}

// Every event records the request's principal as actor, the correlation
// id and its tenant.
func TestEventsCarryActorAndTenant(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := asSystemAdmin(t.Context())
	svc := newService(t, db)
	tenantID, _, err := svc.Commands.Tenants.Create(ctx, "celanio GmbH")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := svc.Store().Load(ctx, "tenant-"+tenantID)
	if err != nil || len(recs) != 1 {
		t.Fatalf("load: %v, %d events", err, len(recs))
	}
	md := recs[0].Metadata
	if md.Actor != "token:test-admin" || md.CorrelationID != "corr-1" || md.TenantID != tenantID {
		t.Errorf("metadata: got %+v", md)
	}
}

// Refused commands write nothing.
func TestRefusedCommandWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := asSystemAdmin(t.Context())
		svc := newService(t, db)
		tenantID, _, err := svc.Commands.Tenants.Create(ctx, "celanio GmbH")
		if err != nil {
			t.Fatal(err)
		}
		before, _ := svc.Store().Count(ctx)
		_, _, err = svc.Commands.Mailboxes.Add(ctx, tenantID, app.AddMailboxInput{Address: "welcome@celanio.com", DisplayName: "celanio GmbH",
			Settings: &app.ServerSettingsInput{Encryption: "TLS", Auth: "PASSWORD", Host: ptr("smtp.celanio.com"), Username: ptr("u"), SenderAddress: "welcome@celanio.com"}})
		var derr *domain.Error
		if !errors.As(err, &derr) || derr.Code != domain.CodeInvalidInput || derr.Field != "password" {
			t.Fatalf("got %v, want INVALID_INPUT on password", err)
		}
		if after, _ := svc.Store().Count(ctx); after != before {
			t.Errorf("refused command wrote %d events", after-before)
		}
	})
}
