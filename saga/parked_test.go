package saga_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/database/dbtest"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
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
