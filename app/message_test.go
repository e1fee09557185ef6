package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/internal/dbtest"
)

// sender is an App with an enabled system server, a tenant and an employee
// of it who may send From the system mailbox (R8, R13); no saga runs, so
// a queued message stays QUEUED.
type sender struct {
	app    *app.App
	admin  context.Context
	user   context.Context
	tenant string
}

func newSender(t *testing.T, db *database.DB) sender {
	t.Helper()
	s := sender{app: newService(t, db), admin: asSystemAdmin(t.Context())}
	if _, err := s.app.Commands.System.ConfigureServer(s.admin, app.ServerSettingsInput{Host: ptr("smtp.absender.invalid"),
		Encryption: "STARTTLS", Auth: "NONE", SenderAddress: "noreply@absender.example", SenderName: ptr("Absender")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Commands.System.SetServerEnabled(s.admin, true); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.tenant, _, err = s.app.Commands.Tenants.Create(s.admin, "celanio GmbH"); err != nil {
		t.Fatal(err)
	}
	userID, _, err := s.app.Commands.Users.Create(s.admin, s.tenant, "anna", "Anna Muster", "anna@celanio.example", domain.RoleEmployee)
	if err != nil {
		t.Fatal(err)
	}
	s.user = app.WithRequest(t.Context(), app.Request{Actor: domain.Actor{UserID: userID, TenantID: s.tenant, Role: domain.RoleEmployee},
		Principal: "user:" + userID, CorrelationID: "corr-send"})
	return s
}

// events are the names of a message stream's events, oldest first.
func (s sender) events(t *testing.T, id string) []string {
	t.Helper()
	recs, err := s.app.Store().Load(t.Context(), app.MessageStreamID(id))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(recs))
	for i, r := range recs {
		names[i] = r.Event.(domain.Event).EventName()
	}
	return names
}

func sameNames(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// R23: concurrent sends of one user with one idempotency key and the same
// content queue one message — the sends that lose the race to the new
// stream decide again and answer with the winner's message — and the key
// with other content is CONFLICT, whether or not the message is known yet.
func TestR23_ConcurrentKeyedSendsQueueOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newSender(t, db)
		d := message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "once", Text: "x"}
		const n = 8
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids[i], _, errs[i] = s.app.Commands.Messages.Send(s.user, d, "order-42")
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("send %d: got %s, %v; want %s, nil", i, ids[i], errs[i], ids[0])
			}
		}
		if got := s.events(t, ids[0]); !sameNames(got, "MessageQueued.v1", "TransportResolved.v1") {
			t.Errorf("message stream: got %v, want [MessageQueued.v1 TransportResolved.v1]", got)
		}
		if _, err := app.NewSagaPort(s.app).MessageContent(t.Context(), ids[0]); err != nil {
			t.Errorf("content of the message: got %v, want it stored", err)
		}
		other := d
		other.Subject = "other"
		if _, _, err := s.app.Commands.Messages.Send(s.user, other, "order-42"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("the key with other content: got %v, want CONFLICT", err)
		}
	})
}

// R23, R25: the operator's commands on a queued message append with the
// stream's version and their events carry the request's actor and the
// message's tenant; purging appends MessageContentPurged and erases the
// content together, and records nothing the second time; cancel and retry
// now in a status that does not allow them are CONFLICT, on a message that
// does not exist NOT_FOUND.
func TestR23_R25_MessageOperations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newSender(t, db)
		id, res, err := s.app.Commands.Messages.Send(s.user, message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "ops", Text: "x"}, "")
		if err != nil || res.Events != 2 {
			t.Fatalf("send: got %d events, %v; want 2, nil", res.Events, err)
		}
		if _, err := s.app.Commands.Messages.RetryNow(s.admin, id); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("retry now of a QUEUED message: got %v, want CONFLICT", err)
		}
		if _, err := s.app.Commands.Messages.Cancel(s.admin, "no-such-message"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("cancel of an unknown message: got %v, want NOT_FOUND", err)
		}
		if res, err := s.app.Commands.Messages.Cancel(s.admin, id); err != nil || res.Events != 1 {
			t.Fatalf("cancel: got %d events, %v; want 1, nil", res.Events, err)
		}
		if _, err := s.app.Commands.Messages.Cancel(s.admin, id); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("cancel of a CANCELLED message: got %v, want CONFLICT", err)
		}
		if res, err := s.app.Commands.Messages.PurgeContent(s.admin, id, "administrator"); err != nil || res.Events != 1 {
			t.Fatalf("purge: got %d events, %v; want 1, nil", res.Events, err)
		}
		if _, err := app.NewSagaPort(s.app).MessageContent(t.Context(), id); !errors.Is(err, content.ErrPurged) {
			t.Errorf("content after the purge: got %v, want ErrPurged", err)
		}
		if res, err := s.app.Commands.Messages.PurgeContent(s.admin, id, "administrator"); err != nil || res.Events != 0 {
			t.Errorf("second purge: got %d events, %v; want 0, nil", res.Events, err)
		}
		want := []string{"MessageQueued.v1", "TransportResolved.v1", "MessageCancelled.v1", "MessageContentPurged.v1"}
		if got := s.events(t, id); !sameNames(got, want...) {
			t.Fatalf("message stream: got %v, want %v", got, want)
		}
		recs, err := s.app.Store().Load(t.Context(), app.MessageStreamID(id))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			actor := "user:" + app.RequestFrom(s.user).Actor.UserID
			if i >= 2 {
				actor = "token:test-admin"
			}
			if r.Metadata.Actor != actor || r.Metadata.TenantID != s.tenant {
				t.Errorf("metadata of %s: got actor %q, tenant %q; want %q, %q", r.Event.(domain.Event).EventName(), r.Metadata.Actor, r.Metadata.TenantID, actor, s.tenant)
			}
		}
	})
}
