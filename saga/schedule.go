package saga

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// The saga's schedule is two tables that only this package reads and
// writes:
//
//   - saga_schedule, written by the resolver alone, from the message
//     events, in its consumer group's transaction: one row per unfinished
//     message, with the time a worker should look at it next (due_at, Unix
//     milliseconds; NULL while it waits for its resolution), whether an
//     attempt is recorded without outcome (sending: then due_at is when
//     that attempt times out) and a revision that every change raises.
//   - saga_leases, written by the workers alone: a claim leases a due
//     message until one attempt timeout from now, for the revision of its
//     schedule row it saw. The next change of the row (the attempt's own
//     events) ends the lease, so the message is due as its events say.
//
// Had the workers moved due_at themselves, a claim committed while the
// resolver's transaction (repeatable read on PostgreSQL) was open would
// make the resolver's update of that row fail, again and again, as the
// consumer retries an event in the same transaction.

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
	return s.exec(ctx, tx, `INSERT INTO saga_schedule (message_id, due_at, sending, rev, trace_parent) VALUES (?, ?, ?, 1, ?)
		ON CONFLICT (message_id) DO UPDATE SET due_at = excluded.due_at, sending = excluded.sending, rev = saga_schedule.rev + 1`,
		m.ID(), due, sending, tp)
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
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ?, rev = rev + 1 WHERE message_id = ? AND sending = ?`, at, e.MessageID, false)
	case message.DeliveryAttempted:
		// Due again when the attempt times out without outcome (R23).
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ?, sending = ?, rev = rev + 1 WHERE message_id = ?`,
			rec.RecordedAt.Add(s.opt.AttemptTimeout).UnixMilli(), true, e.MessageID)
	case message.DeliveryFailed:
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ?, sending = ?, rev = rev + 1 WHERE message_id = ?`,
			e.RetryAt.UnixMilli(), false, e.MessageID)
	case message.MessageRetryRequested:
		return s.exec(ctx, tx, `UPDATE saga_schedule SET due_at = ?, rev = rev + 1 WHERE message_id = ? AND sending = ?`, at, e.MessageID, false)
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

// claim takes up to n due messages: it leases each for one attempt
// timeout, so no other worker (of any process) takes it meanwhile. The
// attempt's own events then end the lease and set the next due time. A
// message sending is due when its attempt timed out without outcome.
func (s *Saga) claim(ctx context.Context, n int) ([]due, error) {
	now := s.opt.Now()
	lock := ""
	if s.opt.DB.Kind == database.Postgres {
		lock = " FOR UPDATE OF s SKIP LOCKED"
	}
	var rows []struct {
		ID          string  `bun:"message_id"`
		Rev         int64   `bun:"rev"`
		TraceParent *string `bun:"trace_parent"`
	}
	err := s.opt.DB.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(`SELECT s.message_id, s.rev, s.trace_parent FROM saga_schedule s
				LEFT JOIN saga_leases l ON l.message_id = s.message_id AND l.rev = s.rev
				WHERE s.due_at <= ? AND (l.until IS NULL OR l.until <= ?)
				ORDER BY s.due_at LIMIT ?`+lock, now.UnixMilli(), now.UnixMilli(), n).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.NewRaw(`INSERT INTO saga_leases (message_id, rev, until) VALUES (?, ?, ?)
					ON CONFLICT (message_id) DO UPDATE SET rev = excluded.rev, until = excluded.until`,
				r.ID, r.Rev, now.Add(s.opt.AttemptTimeout).UnixMilli()).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]due, len(rows))
	for i, r := range rows {
		out[i].id = r.ID
		if r.TraceParent != nil {
			out[i].traceParent = *r.TraceParent
		}
	}
	return out, nil
}

// notBefore leases a message whose retry is not due yet (a stale due
// time: its DeliveryFailed is not yet in the schedule) until the retry
// time its events say.
func (s *Saga) notBefore(ctx context.Context, id string, at time.Time) error {
	_, err := s.opt.DB.Write.NewRaw(`INSERT INTO saga_leases (message_id, rev, until)
			SELECT message_id, rev, ? FROM saga_schedule WHERE message_id = ? AND sending = ?
		ON CONFLICT (message_id) DO UPDATE SET rev = excluded.rev, until = excluded.until`,
		at.UnixMilli(), id, false).Exec(ctx)
	return err
}

// dropEndedLeases deletes the leases of messages no longer scheduled.
func (s *Saga) dropEndedLeases(ctx context.Context) error {
	_, err := s.opt.DB.Write.NewRaw(`DELETE FROM saga_leases WHERE NOT EXISTS (
		SELECT 1 FROM saga_schedule s WHERE s.message_id = saga_leases.message_id)`).Exec(ctx)
	return err
}
