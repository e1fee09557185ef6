package saga

import (
	"context"
	"database/sql"
	"math"
	"strings"
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
//     events) ends the lease, so the message is due as its events say. A
//     worker that finds the message not due yet keeps the lease until it
//     is, and one that finds it finished or unknown (a row the migration's
//     back-fill made from a stale read model) for ever: until the row
//     changes or goes (dropEndedLeases then drops the lease).
//
// Had the workers moved due_at themselves, a claim committed while the
// resolver's transaction (repeatable read on PostgreSQL) was open would
// make the resolver's update of that row fail, again and again, as the
// consumer retries an event in the same transaction.

// scheduleState sets the schedule of a message from its state, m rebuilt
// from recs (its stream as loaded; m may have moved on by events the
// resolver just appended): due when resolved — at its retry time, or when
// its attempt without outcome times out, else since it was queued; waiting
// (due_at NULL) when unresolved; gone when finished. It depends on the
// stream alone, not on the event being applied, so applying the events of
// a message in any order, or one of them again (a parked event retried
// after later ones, R35), leaves the schedule its current state says. A
// row whose due time and sending flag stay as they are keeps its revision,
// and so its leases.
func (s *Saga) scheduleState(ctx context.Context, tx *sql.Tx, m *message.State, recs []eventstore.Record) error {
	row, ok := s.scheduleRow(m, recs)
	switch {
	case !ok:
		return nil
	case row.gone:
		return s.unschedule(ctx, tx, row.id)
	}
	return s.exec(ctx, tx, upsertSchedule+scheduleValues+onScheduleConflict, row.args()...)
}

// scheduled is a message's row of the schedule as its state says
// (scheduleRow): gone for a finished message.
type scheduled struct {
	id      string
	gone    bool
	due     *int64
	sending bool
	tp      *string
}

func (r scheduled) args() []any { return []any{r.id, r.due, r.sending, r.tp} }

// The schedule's upsert: a row whose due time and sending flag stay as
// they are keeps its revision, and so its leases.
const (
	upsertSchedule     = `INSERT INTO saga_schedule (message_id, due_at, sending, rev, trace_parent) VALUES `
	scheduleValues     = `(?, ?, ?, 1, ?)`
	onScheduleConflict = `
		ON CONFLICT (message_id) DO UPDATE SET due_at = excluded.due_at, sending = excluded.sending, rev = saga_schedule.rev + 1
		WHERE COALESCE(saga_schedule.due_at, -1) <> COALESCE(excluded.due_at, -1) OR saga_schedule.sending <> excluded.sending`
)

// scheduleRow is the schedule of a message as scheduleState sets it; ok
// is false for a message that does not exist (nothing to set).
func (s *Saga) scheduleRow(m *message.State, recs []eventstore.Record) (row scheduled, ok bool) {
	switch {
	case !m.Exists():
		return row, false
	case m.Status().Final():
		return scheduled{id: m.ID(), gone: true}, true
	}
	row.id = m.ID()
	switch {
	case m.Resolution() == nil:
	case m.InFlight():
		t := lastAttempt(recs).Add(s.opt.AttemptTimeout).UnixMilli()
		row.due, row.sending = &t, true
	default:
		t := recs[0].RecordedAt.UnixMilli()
		if r := m.DueAt(); !r.IsZero() {
			t = r.UnixMilli()
		}
		row.due = &t
	}
	if p := recs[0].Metadata.TraceParent; p != "" {
		row.tp = &p
	}
	return row, true
}

// scheduleRows sets the schedule rows of a batch's messages (each once)
// in few statements: one upsert and one delete per 500 rows.
func (s *Saga) scheduleRows(ctx context.Context, tx *sql.Tx, rows []scheduled) error {
	const chunk = 500
	var set []scheduled
	var gone []any
	for _, r := range rows {
		if r.gone {
			gone = append(gone, r.id)
		} else {
			set = append(set, r)
		}
	}
	for len(set) > 0 {
		n := min(len(set), chunk)
		var q strings.Builder
		q.WriteString(upsertSchedule)
		args := make([]any, 0, 4*n)
		for i, r := range set[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(scheduleValues)
			args = append(args, r.args()...)
		}
		q.WriteString(onScheduleConflict)
		if err := s.exec(ctx, tx, q.String(), args...); err != nil {
			return err
		}
		set = set[n:]
	}
	for len(gone) > 0 {
		n := min(len(gone), chunk)
		marks := strings.Repeat("?, ", n-1) + "?"
		if err := s.exec(ctx, tx, `DELETE FROM saga_schedule WHERE message_id IN (`+marks+`)`, gone[:n]...); err != nil {
			return err
		}
		gone = gone[n:]
	}
	return nil
}

// lastAttempt is the time of the last DeliveryAttempted of recs (the
// attempt in flight); the last event's when there is none among them.
func lastAttempt(recs []eventstore.Record) time.Time {
	for i := len(recs) - 1; i >= 0; i-- {
		if _, ok := recs[i].Event.(message.DeliveryAttempted); ok {
			return recs[i].RecordedAt
		}
	}
	return recs[len(recs)-1].RecordedAt
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
	var out []due
	err := s.opt.DB.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var rows []struct {
			ID          string  `bun:"message_id"`
			Rev         int64   `bun:"rev"`
			TraceParent *string `bun:"trace_parent"`
		}
		if err := tx.NewRaw(`SELECT s.message_id, s.rev, s.trace_parent FROM saga_schedule s
				LEFT JOIN saga_leases l ON l.message_id = s.message_id AND l.rev = s.rev
				WHERE s.due_at <= ? AND (l.until IS NULL OR l.until <= ?)
				ORDER BY s.due_at LIMIT ?`+lock, now.UnixMilli(), now.UnixMilli(), n).Scan(ctx, &rows); err != nil {
			return err
		}
		found := make([]due, len(rows))
		for i, r := range rows {
			found[i] = due{id: r.ID, rev: r.Rev}
			if r.TraceParent != nil {
				found[i].traceParent = *r.TraceParent
			}
		}
		var err error
		out, err = s.lease(ctx, tx, found, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lease leases the rows a claim found due, each for the revision it saw,
// and returns those it leased: the upsert decides, on the lease as
// committed now. The claim's query judged the leases with its own
// snapshot, so on PostgreSQL two workers may both find a message free
// (the row lock of saga_schedule is only held until the first commits);
// the second's upsert then finds the first's lease of that revision
// still holding and leases nothing. A lease of an older revision is
// taken over, one of a newer revision never (the row changed after this
// claim's snapshot).
func (s *Saga) lease(ctx context.Context, tx bun.Tx, rows []due, now time.Time) ([]due, error) {
	var out []due
	for _, r := range rows {
		var id []string
		if err := tx.NewRaw(`INSERT INTO saga_leases (message_id, rev, until) VALUES (?, ?, ?)
				ON CONFLICT (message_id) DO UPDATE SET rev = excluded.rev, until = excluded.until
				WHERE saga_leases.rev < excluded.rev OR (saga_leases.rev = excluded.rev AND saga_leases.until <= ?)
				RETURNING message_id`,
			r.id, r.rev, now.Add(s.opt.AttemptTimeout).UnixMilli(), now.UnixMilli()).Scan(ctx, &id); err != nil {
			return nil, err
		}
		if len(id) == 1 {
			out = append(out, r)
		}
	}
	return out, nil
}

// never is the end of a lease that holds until its row changes.
const never = math.MaxInt64

// holdLease moves the end of the lease a claim took on revision rev of a
// message's row to until (Unix milliseconds): a retry not due yet (a stale
// due time: its DeliveryFailed is not yet in the schedule), or never for a
// message that is finished or unknown (a row the back-fill made from a
// stale read model), which no worker then claims again until the resolver
// changes the row (a new revision) or deletes it (dropEndedLeases). The
// lease of a revision the row has left is no longer looked at.
func (s *Saga) holdLease(ctx context.Context, id string, rev, until int64) error {
	_, err := s.opt.DB.Write.NewRaw(`UPDATE saga_leases SET until = ? WHERE message_id = ? AND rev = ?`, until, id, rev).Exec(ctx)
	return err
}

// dropEndedLeases deletes the leases of messages no longer scheduled.
func (s *Saga) dropEndedLeases(ctx context.Context) error {
	_, err := s.opt.DB.Write.NewRaw(`DELETE FROM saga_leases WHERE NOT EXISTS (
		SELECT 1 FROM saga_schedule s WHERE s.message_id = saga_leases.message_id)`).Exec(ctx)
	return err
}
