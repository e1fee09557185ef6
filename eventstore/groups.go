package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
)

// LockGroup locks a consumer group's offset in tx, for a rebuild that
// replays the group's events and then moves it (MoveGroup), or a retry of
// its parked events that writes what its live consumer writes
// (InGroupTx). On PostgreSQL it writes the offset row unchanged: a live
// batch of the group takes the row FOR UPDATE first thing, in a
// repeatable-read transaction whose snapshot is taken before it waits; a
// lock alone would let it go on with that snapshot after tx commits,
// blind to what tx wrote, and fail on a row tx changed (40001) for as
// long as it redelivers in that snapshot. A row tx wrote makes the
// batch's first statement fail at once instead, and the next batch starts
// with a fresh snapshot. On SQLite the transaction's BEGIN IMMEDIATE
// already excludes writers.
func (s *Store) LockGroup(ctx context.Context, tx *sql.Tx, group string) error {
	if s.db.Kind == database.SQLite {
		rows, err := tx.QueryContext(ctx, rebind(s.db.Kind, `SELECT offset_acked FROM events_offsets WHERE consumer_group = ?`), group)
		if err != nil {
			return fmt.Errorf("eventstore: lock consumer group %s: %w", group, err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			_ = rows.Close()
			return fmt.Errorf("eventstore: lock consumer group %s: %w", group, err)
		}
		return rows.Close()
	}
	if _, err := tx.ExecContext(ctx, rebind(s.db.Kind,
		`UPDATE events_offsets SET offset_acked = offset_acked WHERE consumer_group = ?`), group); err != nil {
		return fmt.Errorf("eventstore: lock consumer group %s: %w", group, err)
	}
	return nil
}

// MoveGroup sets a consumer group's offset to pos in tx: the group goes on
// after pos (a rebuild replayed everything up to it). It refuses a pos
// before the group's position in tx (ErrGroupMovesBack) and changes
// nothing then: groups only move forward, which the read-your-writes
// waiters of every process rely on (positions, R36). The caller holds the
// group's lock (LockGroup), so the position it compares with stays.
func (s *Store) MoveGroup(ctx context.Context, tx *sql.Tx, group string, pos Position) error {
	var off sql.NullInt64
	var cur string
	err := tx.QueryRowContext(ctx, rebind(s.db.Kind,
		`SELECT offset_acked, last_processed_transaction_id`+castText(s.db.Kind)+` FROM events_offsets WHERE consumer_group = ?`), group).
		Scan(&off, &cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("eventstore: move consumer group %s to %s: %w", group, pos, err)
	}
	if err == nil {
		at := Position{Offset: off.Int64}
		at.TxID, _ = strconv.ParseUint(cur, 10, 64)
		back := pos.Less(at)
		if s.db.Kind == database.SQLite {
			back = pos.Offset < at.Offset // the offset alone is SQLite's order
		}
		if back {
			return fmt.Errorf("eventstore: move consumer group %s from %s to %s: %w", group, at, pos, ErrGroupMovesBack)
		}
	}
	txid := "CAST(CAST(? AS TEXT) AS xid8)"
	if s.db.Kind == database.SQLite {
		txid = "CAST(? AS INTEGER)"
	}
	_, err = tx.ExecContext(ctx, rebind(s.db.Kind, `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES (?, ?, `+txid+`)
		ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked, last_processed_transaction_id = excluded.last_processed_transaction_id`),
		group, pos.Offset, fmt.Sprint(pos.TxID))
	if err != nil {
		return fmt.Errorf("eventstore: move consumer group %s to %s: %w", group, pos, err)
	}
	return nil
}

// GroupTx is a write transaction that holds one consumer group's offset
// locked (LockGroup): a consumer that runs its own transaction instead of
// a subscriber's, as a rebuild does, writes its own tables through the
// embedded bun.Tx (a bun.IDB; its Tx field is the database/sql
// transaction, e.g. for AppendSQLTx) and moves the group and its parked
// events through the methods, so that all of it commits together.
type GroupTx struct {
	bun.Tx
	store *Store
	group string
}

// InGroupTx runs fn in a write transaction that first locks group's offset
// (a live consumer of the group in any process waits, then goes on from
// where fn moved it) and commits when fn returns nil; on an error nothing
// fn did stays. Consumers in this process are not woken: call Changed (and
// NotifyNow for other processes) after it returned.
func (s *Store) InGroupTx(ctx context.Context, group string, fn func(ctx context.Context, tx GroupTx) error) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("eventstore: begin %s: %w", group, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.LockGroup(ctx, tx.Tx, group); err != nil {
		return err
	}
	if err := fn(ctx, GroupTx{Tx: tx, store: s, group: group}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("eventstore: commit %s: %w", group, err)
	}
	return nil
}

// Group names the consumer group the transaction holds.
func (t GroupTx) Group() string { return t.group }

// MoveTo sets the group's offset to pos: the group goes on after pos.
func (t GroupTx) MoveTo(ctx context.Context, pos Position) error {
	return t.store.MoveGroup(ctx, t.Tx.Tx, t.group, pos)
}

// Park records rec as parked for the group, with the text of cause (see
// ParkError).
func (t GroupTx) Park(ctx context.Context, rec Record, cause error) error {
	return t.store.ParkTx(ctx, t.Tx.Tx, t.group, rec, cause)
}

// UnparkAll deletes every parked event of the group (they were replayed).
func (t GroupTx) UnparkAll(ctx context.Context) error {
	return t.store.UnparkAll(ctx, t.Tx.Tx, t.group)
}

// UnparkWith ends the parking of one event of group that was re-applied
// (R35): in one write transaction it runs also (when not nil; e.g. the
// event applied to a read model, or a resolution appended with
// AppendSQLTx(ctx, tx.Tx, …)) and deletes the parked row, so the row goes
// only together with what also did. A consumer whose re-application is not
// a database write (a publish) does it first and passes nil. The group is
// locked first (LockGroup), as InGroupTx does: a live batch of the group
// that overlaps waits and then starts again on fresh data, instead of
// writing the same rows from a snapshot without also's writes. The caller
// wakes consumers afterwards (Changed, NotifyNow), once for all the events
// it retried.
func (s *Store) UnparkWith(ctx context.Context, group string, pos Position, also func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.LockGroup(ctx, tx.Tx, group); err != nil {
			return err
		}
		if also != nil {
			if err := also(ctx, tx); err != nil {
				return err
			}
		}
		return s.Unpark(ctx, tx.Tx, group, pos)
	})
}

// EnsureGroup gives a consumer group its offset row (at the start of the
// log) when it has none, and changes nothing when it has one, so that
// LockGroup has a row to lock: on PostgreSQL a group without a row would
// not be locked, and two transactions could both act for it.
func (s *Store) EnsureGroup(ctx context.Context, group string) error {
	return s.ensureGroup(ctx, s.db.Write.DB, group)
}

// EnsureGroupTx is EnsureGroup in tx.
func (s *Store) EnsureGroupTx(ctx context.Context, tx *sql.Tx, group string) error {
	return s.ensureGroup(ctx, tx, group)
}

func (s *Store) ensureGroup(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, group string) error {
	txid := "CAST(CAST(? AS TEXT) AS xid8)"
	if s.db.Kind == database.SQLite {
		txid = "CAST(? AS INTEGER)"
	}
	_, err := db.ExecContext(ctx, rebind(s.db.Kind, `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES (?, ?, `+txid+`)
		ON CONFLICT (consumer_group) DO NOTHING`), group, 0, "0")
	if err != nil {
		return fmt.Errorf("eventstore: consumer group %s: %w", group, err)
	}
	return nil
}

// Head is the last event the transaction can replay up to and move the
// group to, read under the group's lock: every event committed before
// the lock was granted, so a live batch of the group that held the lock
// before is never passed back (ErrGroupMovesBack, R36). On PostgreSQL
// the events of transactions younger than this one are left out: they
// cannot be read in consumer order while it runs (the snapshot horizon),
// and no live batch can have consumed them before the lock was granted
// (its snapshot was taken before this transaction began).
func (t GroupTx) Head(ctx context.Context) (Position, error) {
	var p Position
	var err error
	switch t.store.db.Kind {
	case database.Postgres:
		err = t.Tx.QueryRowContext(ctx, `SELECT "offset", transaction_id::text::bigint FROM events
			WHERE transaction_id < pg_current_xact_id()
			ORDER BY transaction_id DESC, "offset" DESC LIMIT 1`).Scan(&p.Offset, &p.TxID)
	default:
		err = t.Tx.QueryRowContext(ctx, `SELECT "offset" FROM events ORDER BY "offset" DESC LIMIT 1`).Scan(&p.Offset)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("eventstore: head for %s: %w", t.group, err)
	}
	return p, nil
}

// ResetGroup puts a consumer group back to the start of the log, the one
// move back there is: for a benchmark or a test that replays the log
// again, or an operator's repair while no process consumes the group
// (the read-your-writes waiters of a running process trust the positions
// its consumers committed, R36). It waits for the group's lock.
func (s *Store) ResetGroup(ctx context.Context, group string) error {
	return s.InGroupTx(ctx, group, func(ctx context.Context, tx GroupTx) error {
		if _, err := tx.Tx.Tx.ExecContext(ctx, rebind(s.db.Kind, `DELETE FROM events_offsets WHERE consumer_group = ?`), group); err != nil {
			return fmt.Errorf("eventstore: reset consumer group %s: %w", group, err)
		}
		return s.EnsureGroupTx(ctx, tx.Tx.Tx, group)
	})
}
