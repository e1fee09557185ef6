package saga_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
)

// rawEvent is an event as stored: any name, any JSON.
type rawEvent struct{ name, data string }

func (e rawEvent) EventName() string            { return e.name }
func (e rawEvent) MarshalJSON() ([]byte, error) { return []byte(e.data), nil }

func (e *env) appendRaw(streamType, streamID string, ev eventstore.Event) {
	e.t.Helper()
	if _, err := e.srv.Store.Append(e.t.(*testing.T).Context(), eventstore.StreamAppend{StreamType: streamType, StreamID: streamID,
		ExpectedVersion: eventstore.Any, Events: []eventstore.NewEvent{{Event: ev, Metadata: eventstore.Metadata{TenantID: e.tenant}}}}); err != nil {
		e.t.Fatal(err)
	}
}

// R35: the saga does not park a message it cannot resolve — it ends it
// FAILED with an INTERNAL reason — and an event it cannot even read (a
// MessageQueued whose JSON does not decode) is parked for its consumer
// group; either way the saga goes on and sends the next message.
func TestR35_SagaFailsUnresolvableMessagesAndGoesOn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		// A test mail through a mailbox whose stream cannot be read.
		e.appendRaw("mailbox", "mailbox-broken", rawEvent{"MailboxAdded.v1", `{"mailboxId": 1}`})
		failing := uuid.NewString()
		e.appendRaw(string(message.StreamKind), app.MessageStreamID(failing), message.MessageQueued{MessageID: failing, TenantID: e.tenant,
			Kind: message.KindTest, From: message.Mailbox{Address: "info@celanio.example"}, To: []message.Mailbox{{Address: "kunde@example.org"}},
			Subject: "Test", Target: &message.Target{Transport: domain.TransportMailbox, MailboxID: "broken"}})
		unreadable := uuid.NewString()
		e.appendRaw(string(message.StreamKind), app.MessageStreamID(unreadable), rawEvent{"MessageQueued.v1", `{"messageId": 7}`})

		m := e.await(failing)
		if m.Status != string(message.StatusFailed) || m.LastError == nil || !strings.HasPrefix(*m.LastError, string(domain.CodeInternal)) {
			t.Errorf("unresolvable message: got %s %v, want FAILED with an INTERNAL reason", m.Status, m.LastError)
		}
		sent := e.send(message.Draft{From: "noreply@absender.example", To: []string{"kunde@example.org"}, Subject: "Next", Text: "…"})
		if m := e.await(sent); m.Status != string(message.StatusSent) {
			t.Errorf("the next message: got %s, want SENT", m.Status)
		}
		parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 1 || parked[0].StreamID != app.MessageStreamID(unreadable) || parked[0].EventType != "MessageQueued.v1" {
			t.Errorf("parked for the saga: got %+v, want the unreadable MessageQueued only", parked)
		}
	})
}

// blockResolutions makes the database refuse every TransportResolved and
// MessageFailed (a constraint the data violates, as a bug would make it),
// so the resolver can neither resolve a message nor end it FAILED and
// parks its MessageQueued. The returned func lifts it: the fix.
func (e *env) blockResolutions() (fix func()) {
	e.t.Helper()
	ctx := e.t.(*testing.T).Context()
	create := []string{`CREATE TRIGGER r35_block BEFORE INSERT ON events
		WHEN NEW.event_type IN ('TransportResolved', 'MessageFailed') BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`}
	drop := `DROP TRIGGER r35_block`
	if e.db.Kind == database.Postgres {
		create = []string{`CREATE FUNCTION r35_block() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			IF NEW.event_type IN ('TransportResolved', 'MessageFailed') THEN RAISE EXCEPTION 'refused by the test'; END IF;
			RETURN NEW; END $$`,
			`CREATE TRIGGER r35_block BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION r35_block()`}
		drop = `DROP TRIGGER r35_block ON events`
	}
	for _, q := range create {
		if _, err := e.db.Write.ExecContext(ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
	return func() {
		e.t.Helper()
		if _, err := e.db.Write.ExecContext(ctx, drop); err != nil {
			e.t.Fatal(err)
		}
	}
}

// R35: a MessageQueued parked for the saga's group is re-applied on demand
// after the fix (saga.RetryParked): the message resolves and is sent, and
// its row goes. Before the fix the retry fails again and the event stays
// parked.
func TestR35_SagaRetryParkedResolvesAndSends(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, server.Options{})
		fix := e.blockResolutions()
		id, _, err := e.srv.App.Commands.Messages.SendTestMail(e.admin, "", "", "kunde@example.org")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		var parked []eventstore.ParkedEvent
		for len(parked) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the MessageQueued was not parked for the saga within 30s")
			}
			time.Sleep(20 * time.Millisecond)
			if parked, err = e.srv.Store.Parked(t.Context(), saga.ConsumerGroup); err != nil {
				t.Fatal(err)
			}
		}
		if len(parked) != 1 || parked[0].StreamID != app.MessageStreamID(id) || parked[0].EventType != "MessageQueued.v1" {
			t.Fatalf("parked for the saga: got %+v, want the test mail's MessageQueued", parked)
		}

		res, err := saga.RetryParked(t.Context(), app.NewSagaPort(e.srv.App), e.srv.Store, e.db)
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != 0 || res.Left != 1 || len(res.Failures) != 1 {
			t.Errorf("retry before the fix: got %+v, want 0 applied, 1 left with its failure", res)
		}
		if parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup); err != nil || len(parked) != 1 {
			t.Errorf("parked after a failed retry: got %d (%v), want 1", len(parked), err)
		}

		fix()
		if res, err = saga.RetryParked(t.Context(), app.NewSagaPort(e.srv.App), e.srv.Store, e.db); err != nil {
			t.Fatal(err)
		}
		if res.Applied != 1 || res.Left != 0 {
			t.Errorf("retry after the fix: got %+v, want 1 applied, 0 left", res)
		}
		if m := e.await(id); m.Status != string(message.StatusSent) {
			t.Errorf("the re-applied message: got %s (%v), want SENT", m.Status, m.LastError)
		}
		if parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup); err != nil || len(parked) != 0 {
			t.Errorf("parked after the retry: got %+v (%v), want none", parked, err)
		}
	})
}
