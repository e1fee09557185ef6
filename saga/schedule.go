package saga

import (
	"context"
	"database/sql"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// The saga's schedule is the table saga_schedule, which only this package
// reads and writes: one row per unfinished message, with the time a worker
// should look at it next (due_at, Unix milliseconds; NULL while it waits
// for its resolution) and whether an attempt of it is recorded without
// outcome (sending: then due_at is when that attempt times out). The
// resolver keeps it from the message events, in its consumer group's
// transaction, and the workers' claims move due_at one attempt timeout
// ahead while they work on a message.

// scheduleState sets the schedule of a message from its state (m as the
// resolver left it on MessageQueued): due when resolved, at its retry
// time or when its attempt times out; waiting when unresolved; gone when
// finished. at is the event's time.
func (s *Saga) scheduleState(ctx context.Context, tx *sql.Tx, m *message.State, recs []eventstore.Record, at time.Time, traceParent string) error {
	switch {
	case !m.Exists():
		return nil
	case m.Status().Final():
		return s.unschedule(ctx, tx, m.ID())
	}
	var due *int64
	sending := false
	switch {
	case m.Resolution() == nil:
	case m.InFlight():
		t := recs[len(recs)-1].RecordedAt.Add(s.opt.AttemptTimeout).UnixMilli()
		due, sending = &t, true
	default:
		t := at.UnixMilli()
		if r := m.DueAt(); !r.IsZero() {
			t = r.UnixMilli()
		}
		due = &t
	}
	var tp *string
	if traceParent != "" {
		tp = &traceParent
	}
	return s.exec(ctx, tx, `INSERT INTO saga_schedule (message_id, due_at, sending, trace_parent) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id) DO UPDATE SET due_at = excluded.due_at, sending = excluded.sending`, m.ID(), due, sending, tp)
}

// scheduleEvent applies a message event other than MessageQueued to the
// schedule of its message (a message without a row — its MessageQueued
// is parked — stays without one).
func (s *Saga) scheduleEvent(ctx context.Context, tx *sql.Tx, rec eventstore.Record) error {
	at := rec.RecordedAt.UnixMilli()
	switch e := rec.Event.(type) {
	case message.TransportResolved:
		// Resolved: due now, unless this resolution comes with an
		// attempt (DeliveryAttempted follows).
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ? WHERE message_id = ? AND sending = ?`, at, e.MessageID, false)
	case message.DeliveryAttempted:
		// Due again when the attempt times out without outcome (R23).
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ?, sending = ? WHERE message_id = ?`,
			rec.RecordedAt.Add(s.opt.AttemptTimeout).UnixMilli(), true, e.MessageID)
	case message.DeliveryFailed:
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ?, sending = ? WHERE message_id = ?`, e.RetryAt.UnixMilli(), false, e.MessageID)
	case message.MessageRetryRequested:
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ? WHERE message_id = ? AND sending = ?`, at, e.MessageID, false)
	case message.MessageSent:
		return s.unschedule(ctx, tx, e.MessageID)
	case message.MessageFailed:
		return s.unschedule(ctx, tx, e.MessageID)
	case message.MessageRejected:
		return s.unschedule(ctx, tx, e.MessageID)
	case message.MessageCancelled:
		// R23: nothing more is sent; no worker finds it due again.
		return s.unschedule(ctx, tx, e.MessageID)
	}
	return nil
}

func (s *Saga) unschedule(ctx context.Context, tx *sql.Tx, id string) error {
	return s.exec(ctx, tx, `DELETE FROM saga_schedule WHERE message_id = ?`, id)
}

func (s *Saga) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	_, err := tx.ExecContext(ctx, database.Rebind(s.opt.DB.Kind, q), args...)
	return err
}

// claim takes up to n due messages: it moves their due time one attempt
// timeout ahead, so no other worker (of any process) takes them meanwhile.
// The attempt's own events then set the next due time. A message sending
// is due when its attempt timed out without outcome.
func (s *Saga) claim(ctx context.Context, n int) ([]due, error) {
	now := s.opt.Now()
	lock := ""
	if s.opt.DB.Kind == database.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var rows []struct {
		ID          string  `bun:"message_id"`
		TraceParent *string `bun:"trace_parent"`
	}
	err := s.opt.DB.Write.NewRaw(`UPDATE saga_schedule SET due_at = ? WHERE message_id IN (
			SELECT message_id FROM saga_schedule WHERE due_at <= ? ORDER BY due_at LIMIT ?`+lock+`)
		RETURNING message_id, trace_parent`,
		now.Add(s.opt.AttemptTimeout).UnixMilli(), now.UnixMilli(), n).Scan(ctx, &rows)
	out := make([]due, len(rows))
	for i, r := range rows {
		out[i].id = r.ID
		if r.TraceParent != nil {
			out[i].traceParent = *r.TraceParent
		}
	}
	return out, err
}

// notBefore sets the due time of a message whose retry is not due yet
// (a stale due time a claim moved an attempt timeout ahead) to the retry
// time its events say.
func (s *Saga) notBefore(ctx context.Context, id string, at time.Time) error {
	_, err := s.opt.DB.Write.NewRaw(`UPDATE saga_schedule SET due_at = ? WHERE message_id = ? AND sending = ?`,
		at.UnixMilli(), id, false).Exec(ctx)
	return err
}
