package saga_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
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

// retryOptions are the saga's options of e for RetryParked.
func (e *env) retryOptions() saga.Options {
	return saga.Options{App: app.NewSagaPort(e.srv.App), Store: e.srv.Store, DB: e.db, AttemptTimeout: attemptTimeout}
}

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

		res, err := saga.RetryParked(t.Context(), e.retryOptions())
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
		if res, err = saga.RetryParked(t.Context(), e.retryOptions()); err != nil {
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

// refuseScheduleChanges makes the database refuse every change of a
// schedule row (a constraint the data violates, as a bug would make it),
// so the resolver cannot apply a message event that moves a message.
func (e *env) refuseScheduleChanges() {
	e.t.Helper()
	ctx := e.t.(*testing.T).Context()
	create := []string{`CREATE TRIGGER r35_refuse BEFORE UPDATE ON saga_schedule BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`}
	if e.db.Kind == database.Postgres {
		create = []string{`CREATE FUNCTION r35_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			RAISE EXCEPTION 'refused by the test'; END $$`,
			`CREATE TRIGGER r35_refuse BEFORE UPDATE ON saga_schedule FOR EACH ROW EXECUTE FUNCTION r35_refuse()`}
	}
	for _, q := range create {
		if _, err := e.db.Write.ExecContext(ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
}

// R35: a message event after MessageQueued that the resolver cannot apply
// (here the MessageRetryRequested of an operator's "retry now") ends its
// message FAILED with an INTERNAL reason, as an unresolvable MessageQueued
// does; it is not parked, where a retry after later events could set a
// schedule the message's state does not say.
func TestR35_SagaFailsAMessageWhoseLaterEventItCannotApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		slow := message.RetryPolicy{MaxAttempts: 3, First: time.Hour, Factor: 1}
		e := newEnv(t, db, server.Options{App: app.Config{Retry: slow}})
		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 451, Message: "later"})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "x", Text: "x"})
		later := time.Now().Add(30 * time.Minute).UnixMilli()
		waitFor(t, func() bool {
			var due int64
			err := db.Read.NewRaw(`SELECT due_at FROM saga_schedule WHERE message_id = ?`, id).Scan(t.Context(), &due)
			return err == nil && due > later
		})
		e.refuseScheduleChanges()
		// As retryMessageNow records it, without the hint to this
		// process's workers: the schedule alone makes it due.
		e.appendRaw(string(message.StreamKind), app.MessageStreamID(id), message.MessageRetryRequested{MessageID: id, TenantID: e.tenant, Attempt: 2})
		m := e.await(id)
		if m.Status != string(message.StatusFailed) || m.LastError == nil || *m.LastError != saga.UnappliedReason {
			t.Errorf("message: got %s (%v), want FAILED with %q; events %s", m.Status, deref(m.LastError), saga.UnappliedReason, joined(e.events(id)))
		}
		if got, want := joined(e.events(id)), "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed,MessageRetryRequested,MessageFailed"; got != want {
			t.Errorf("events: got %s, want %s", got, want)
		}
		if parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup); err != nil || len(parked) != 0 {
			t.Errorf("parked for the saga: got %+v (%v), want none", parked, err)
		}
	})
}

// R35, R23: the schedule follows the message's state, whatever the order
// its events are applied in: a TransportResolved re-applied after the
// message's DeliveryFailed (a parked event retried after later ones)
// leaves the message due at its retry time, not now.
func TestR35_RetriedEarlierEventKeepsTheSchedule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		slow := message.RetryPolicy{MaxAttempts: 3, First: time.Hour, Factor: 1}
		e := newEnv(t, db, server.Options{App: app.Config{Retry: slow}})
		e.smtp.SetDataReplies(&smtp.SMTPError{Code: 451, Message: "later"})
		id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "x", Text: "x"})
		dueAt := func() int64 {
			var due int64
			if err := db.Read.NewRaw(`SELECT due_at FROM saga_schedule WHERE message_id = ?`, id).Scan(t.Context(), &due); err != nil {
				return 0
			}
			return due
		}
		later := time.Now().Add(30 * time.Minute).UnixMilli()
		waitFor(t, func() bool { return dueAt() > later })
		recs, err := e.srv.Store.Load(t.Context(), app.MessageStreamID(id))
		if err != nil {
			t.Fatal(err)
		}
		var resolved eventstore.Record
		for _, r := range recs {
			if _, ok := r.Event.(message.TransportResolved); ok {
				resolved = r
			}
		}
		if _, err := db.Write.ExecContext(t.Context(), `INSERT INTO parked_events (consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at)
			VALUES (?, ?, ?, ?, ?, ?, 'failed before the fix', '2026-12-07T00:00:00Z')`,
			saga.ConsumerGroup, resolved.Position.Offset, int64(resolved.Position.TxID), resolved.ID, resolved.StreamID, resolved.Name()); err != nil {
			t.Fatal(err)
		}
		res, err := saga.RetryParked(t.Context(), e.retryOptions())
		if err != nil || res.Applied != 1 {
			t.Fatalf("retry: got %+v, %v, want 1 applied", res, err)
		}
		if got := dueAt(); got <= later {
			t.Errorf("due at %s after the retry, want the retry time (after %s)", time.UnixMilli(got), time.UnixMilli(later))
		}
	})
}

// R35 (review of issue 12): saga.RetryParked writes what the resolver of a
// serve process writes, so each of its transactions holds the saga
// group's offset as a batch of the resolver does: while a batch holds it,
// the retry waits (and a batch that waited for the retry starts again with
// what it wrote, eventstore.Store.LockGroup), instead of making the
// batch's repeatable-read transaction fail on the rows it wrote until the
// batch's deadline.
func TestR35_SagaRetryParkedWaitsForALiveBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		reg, err := app.NewRegistry()
		if err != nil {
			t.Fatal(err)
		}
		store := eventstore.New(db, eventstore.Options{Registry: reg, NoNotify: true})
		if err := store.InGroupTx(ctx, saga.ConsumerGroup, func(ctx context.Context, tx eventstore.GroupTx) error {
			return tx.MoveTo(ctx, eventstore.Position{})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, eventstore.StreamAppend{StreamType: "blob", StreamID: "blob-1", ExpectedVersion: 0,
			Events: []eventstore.NewEvent{{Event: rawEvent{"Blob.v1", `{"n": 1}`}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO parked_events (consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at)
			SELECT ?, "offset", 0, uuid, stream_id, 'Blob.v1', 'failed before the fix', '2026-12-07T00:00:00Z' FROM events WHERE stream_id = 'blob-1'`, saga.ConsumerGroup); err != nil {
			t.Fatal(err)
		}
		locked, release, batch := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			batch <- store.InGroupTx(ctx, saga.ConsumerGroup, func(context.Context, eventstore.GroupTx) error {
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		type result struct {
			res eventstore.Retried
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := saga.RetryParked(ctx, saga.Options{App: app.NewSagaPort(&app.App{}), Store: store, DB: db})
			done <- result{res, err}
		}()
		select {
		case r := <-done:
			t.Errorf("RetryParked returned (%+v, %v) while a batch of the resolver held the group, want it to wait", r.res, r.err)
			done <- r
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-batch; err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.err != nil || r.res.Applied != 1 {
			t.Errorf("RetryParked: got %+v, %v, want 1 applied", r.res, r.err)
		}
	})
}

// retrying sends a message the SMTP server defers and waits until the
// schedule holds its retry an hour away: the message is RETRYING at
// version 4 (MessageQueued, TransportResolved, DeliveryAttempted,
// DeliveryFailed) and every later message event reaches the resolver.
func (e *env) retrying() string {
	e.t.Helper()
	t := e.t.(*testing.T)
	e.smtp.SetDataReplies(&smtp.SMTPError{Code: 451, Message: "later"})
	id := e.send(message.Draft{From: "noreply@absender.example", To: []string{"bob@example.org"}, Subject: "x", Text: "x"})
	later := time.Now().Add(30 * time.Minute).UnixMilli()
	waitFor(t, func() bool {
		var due int64
		err := e.db.Read.NewRaw(`SELECT due_at FROM saga_schedule WHERE message_id = ?`, id).Scan(t.Context(), &due)
		return err == nil && due > later
	})
	return id
}

// R35 (the flake of TestR35_SagaFailsAMessageWhoseLaterEventItCannotApply):
// two events of a message the resolver cannot apply, in one batch (one
// append, so one transaction the consumer reads whole). The first ends
// the message FAILED; the second finds it failed and is acknowledged — it
// is not parked because the resolver read the message without the
// MessageFailed it had just written and then collided with it.
func TestR35_SagaFailsAMessageOnceWhenABatchHoldsTwoEventsItCannotApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		slow := message.RetryPolicy{MaxAttempts: 3, First: time.Hour, Factor: 1}
		e := newEnv(t, db, server.Options{App: app.Config{Retry: slow}})
		id := e.retrying()
		e.refuseScheduleChanges()
		retry := func(n int) eventstore.NewEvent {
			return eventstore.NewEvent{Event: message.MessageRetryRequested{MessageID: id, TenantID: e.tenant, Attempt: n},
				Metadata: eventstore.Metadata{TenantID: e.tenant}}
		}
		if _, err := e.srv.Store.Append(t.Context(), eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: app.MessageStreamID(id),
			ExpectedVersion: 4, Events: []eventstore.NewEvent{retry(2), retry(2)}}); err != nil {
			t.Fatal(err)
		}
		m := e.await(id)
		if m.Status != string(message.StatusFailed) || m.LastError == nil || *m.LastError != saga.UnappliedReason {
			t.Errorf("message: got %s (%v), want FAILED with %q; events %s", m.Status, deref(m.LastError), saga.UnappliedReason, joined(e.events(id)))
		}
		if got, want := joined(e.events(id)), "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed,MessageRetryRequested,MessageRetryRequested,MessageFailed"; got != want {
			t.Errorf("events: got %s, want %s", got, want)
		}
		// The resolver has handled the MessageFailed when the schedule row is gone.
		waitFor(t, func() bool {
			var n int
			err := db.Read.NewRaw(`SELECT count(*) FROM saga_schedule WHERE message_id = ?`, id).Scan(t.Context(), &n)
			return err == nil && n == 0
		})
		if parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup); err != nil || len(parked) != 0 {
			t.Errorf("parked for the saga: got %+v (%v), want none", parked, err)
		}
	})
}

// R35 (the flake of TestR35_SagaFailsAMessageWhoseLaterEventItCannotApply,
// PostgreSQL): the resolver's transaction is repeatable read, its snapshot
// taken when it read its batch. An event of the message committed after
// that snapshot, while the resolver fails on an earlier one, is in the
// stream the resolver reads but not in its transaction's view; ending the
// message FAILED must not collide with that view (it did: "not at version
// 6", and the earlier event was parked). SQLite has one writer connection:
// nothing commits while the resolver's transaction is open.
func TestR35_SagaFailsAMessageWhoseStreamMovedOnDuringTheBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if db.Kind != database.Postgres {
			t.Skip("SQLite: one writer connection, nothing commits beside the resolver's transaction")
		}
		ctx := t.Context()
		slow := message.RetryPolicy{MaxAttempts: 3, First: time.Hour, Factor: 1}
		e := newEnv(t, db, server.Options{App: app.Config{Retry: slow}})
		id := e.retrying()
		// The test holds an advisory lock; a change of a schedule row waits
		// for it, then is refused.
		conn, err := db.Write.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{`SELECT pg_advisory_lock(3535)`,
			`CREATE FUNCTION r35_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
				PERFORM pg_advisory_xact_lock(3535); RAISE EXCEPTION 'refused by the test'; END $$`,
			`CREATE TRIGGER r35_hold BEFORE UPDATE ON saga_schedule FOR EACH ROW EXECUTE FUNCTION r35_hold()`} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		retry := message.MessageRetryRequested{MessageID: id, TenantID: e.tenant, Attempt: 2}
		e.appendRaw(string(message.StreamKind), app.MessageStreamID(id), retry)
		// The resolver has read its batch (the snapshot is taken) and waits
		// in the trigger.
		waitFor(t, func() bool {
			var n int
			err := db.Read.NewRaw(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(ctx, &n)
			return err == nil && n > 0
		})
		e.appendRaw(string(message.StreamKind), app.MessageStreamID(id), retry) // after the snapshot
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(3535)`); err != nil {
			t.Fatal(err)
		}
		m := e.await(id)
		if m.Status != string(message.StatusFailed) || m.LastError == nil || *m.LastError != saga.UnappliedReason {
			t.Errorf("message: got %s (%v), want FAILED with %q; events %s", m.Status, deref(m.LastError), saga.UnappliedReason, joined(e.events(id)))
		}
		if got, want := joined(e.events(id)), "MessageQueued,TransportResolved,DeliveryAttempted,DeliveryFailed,MessageRetryRequested,MessageRetryRequested,MessageFailed"; got != want {
			t.Errorf("events: got %s, want %s", got, want)
		}
		waitFor(t, func() bool {
			var n int
			err := db.Read.NewRaw(`SELECT count(*) FROM saga_schedule WHERE message_id = ?`, id).Scan(ctx, &n)
			return err == nil && n == 0
		})
		if parked, err := e.srv.Store.Parked(ctx, saga.ConsumerGroup); err != nil || len(parked) != 0 {
			t.Errorf("parked for the saga: got %+v (%v), want none", parked, err)
		}
	})
}
