package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"

	"github.com/absender/absender/database"
)

// probeBeginner makes a consumer on PostgreSQL look for work before it
// begins its batch transaction. That transaction is REPEATABLE READ and its
// first statement takes the group's events_offsets row FOR UPDATE, which
// gives it a transaction id: an idle poll that finds nothing still holds
// an id, and every other consumer's horizon (horizonCTE) stays below it, so
// a command that committed just after the idle poll began was invisible to
// them until the poll ended (and each such poll wrote a commit record).
// Measured on BenchmarkMutations graphql-1: about four polls per mutation
// found nothing although an event lay after their cursor, held back by
// another consumer's idle poll or commit.
//
// probe is one statement outside any transaction (no transaction id, and
// its snapshot holds nobody back: the horizon reads pg_snapshot_xip, not
// xmin). It reads the group's cursor and applies the same horizon rule as
// the batch's SelectQuery. The batch transaction begins only when there is
// an event after the cursor below the horizon; its SelectQuery then reads
// again under the group's lock, so the probe decides only when to look,
// never what is delivered (gap-freeness and the group lock are the
// transaction's, unchanged).
//
// While the probe finds nothing it waits for the store's wake-up (a local
// append or consumer commit, a notification from another process) or the
// poll interval. When it finds events after the cursor that the horizon
// still holds back (a transaction of this database with a smaller id is
// open), it probes again soon: that transaction's end wakes nobody, unless
// it is one of this process's appends or batches.
type probeBeginner struct {
	wsql.Beginner
	p *probe
}

func (b probeBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	// Only the consume loop's batch transactions (watermill passes their
	// isolation level) wait for work; Subscribe's own transaction (the
	// group's row, options nil) begins at once.
	if opts != nil {
		if err := b.p.await(ctx); err != nil {
			return nil, err
		}
	}
	return b.Beginner.BeginTx(ctx, opts)
}

type probe struct {
	store *Store
	wake  *signal // Store.consumerWake
	group string
	poll  time.Duration
	// force makes the next probe read the log (SQLite): at the start, after
	// the poll interval passed without a wake-up (another process may have
	// written the file), after a batch or a failure.
	force bool
	// looks is Store.looks when this probe last read the log (SQLite).
	looks uint64
	// empty is set when a batch transaction found nothing: the next probe
	// first waits a little, so a probe and a transaction that disagree (the
	// group moved by another process) cannot alternate without pause.
	empty bool
	// held counts the probes in a row that found events after the cursor
	// held back by the horizon.
	held int
}

// probeQuery answers, for the group $1: ready, an event lies after the
// cursor below the horizon (or the group has no row yet: the batch
// transaction decides); behind, an event lies after the cursor at all. It
// looks at the first event after the cursor only, walking the primary key
// in order (an EXISTS over the row comparison let the planner scan the
// table on every probe).
var probeQuery = `WITH cursor AS (
		SELECT last_processed_transaction_id AS tx, COALESCE(offset_acked, 0) AS off FROM events_offsets WHERE consumer_group = $1
	),
	` + horizonCTE(`(SELECT tx FROM cursor)`, `(SELECT off FROM cursor)`) + `,
	first AS (
		SELECT transaction_id FROM events
		WHERE (transaction_id, "offset") > ((SELECT tx FROM cursor), (SELECT off FROM cursor))
		ORDER BY transaction_id, "offset" LIMIT 1
	)
	SELECT
		NOT EXISTS (SELECT 1 FROM cursor) OR COALESCE((SELECT transaction_id FROM first) < (SELECT xid FROM horizon), false),
		EXISTS (SELECT 1 FROM first)`

// Re-probing while events wait behind the horizon: every millisecond for
// the first heldFast probes, then twice as long every heldFast probes, up
// to heldMax (or the poll interval if shorter).
const (
	heldFast = 10
	heldMax  = 100 * time.Millisecond
)

// errIdle is BeginTx's answer when the probe found no work and waited
// once: watermill's consume loop checks whether the subscriber is closing
// (Close does not cancel the context BeginTx gets) and calls BeginTx
// again. HandleError takes it for a poll that found nothing.
var errIdle = errors.New("eventstore: no events for the consumer group")

// await returns nil when the group has work. Otherwise it waits once, for
// the store's wake-up or a timer, and returns errIdle; or ctx's error, or
// the probe's.
func (p *probe) await(ctx context.Context) error {
	wasEmpty := p.empty
	if p.empty {
		p.empty = false
		if err := sleepCtx(ctx, min(p.poll, 5*time.Millisecond)); err != nil {
			return err
		}
	}
	// Taken before the probe, so a commit between the probe and the wait
	// is not lost.
	next := p.wake.Wait()
	if p.store.db.Kind != database.Postgres {
		return p.awaitSQLite(ctx, next, wasEmpty)
	}
	var ready, behind bool
	if err := p.store.db.Write.DB.QueryRowContext(ctx, probeQuery, p.group).Scan(&ready, &behind); err != nil {
		return fmt.Errorf("eventstore: probe for consumer group %s: %w", p.group, err)
	}
	if ready {
		p.held = 0
		return nil
	}
	wait := p.poll
	if behind {
		wait = min(p.poll, heldMax, time.Millisecond<<min(p.held/heldFast, 7))
		p.held++
	} else {
		p.held = 0
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-next:
	case <-timer.C:
	}
	return errIdle
}

// sqliteProbeQuery answers whether the group ?1 has an event after its
// committed offset (or no row yet: the batch transaction decides).
const sqliteProbeQuery = `SELECT NOT EXISTS (SELECT 1 FROM events_offsets WHERE consumer_group = ?1)
	OR EXISTS (SELECT 1 FROM events WHERE "offset" > (SELECT COALESCE(offset_acked, 0) FROM events_offsets WHERE consumer_group = ?1))`

// awaitSQLite is await on SQLite, where every batch transaction takes the
// one writer connection (_txlock=immediate), also when it finds nothing.
// The batch transaction begins only when a read on the read pool (a WAL
// reader, which never waits for the writer) finds an event after the
// group's offset. Even that read is skipped when nothing happened that
// this process cannot place (looks unchanged, no force) and the group's
// position committed in this process is at or past the last event this
// store appended (Store.covered): the append moved the group inline, or
// the group's own batch passed it. A group never published in memory
// always reads; one known before this store's last append begins its
// transaction without reading (the event is committed). As on PostgreSQL, the batch transaction reads again under
// the writer, so this decides only when to look, never what is delivered.
func (p *probe) awaitSQLite(ctx context.Context, next <-chan struct{}, wasEmpty bool) error {
	looks := p.store.looks.Load()
	known, covered := p.store.covered(p.group)
	if known && !covered && !wasEmpty {
		// This store committed an event past the group's position: there
		// is work without reading (unless the last batch found none: the
		// position in memory is behind the database's, so read).
		p.force, p.looks = false, looks
		return nil
	}
	if p.force || looks != p.looks || !covered {
		p.force, p.looks = false, looks
		st, err := p.store.sqliteProbe(ctx)
		if err != nil {
			return fmt.Errorf("eventstore: probe for consumer group %s: %w", p.group, err)
		}
		var ready bool
		if err := st.QueryRowContext(ctx, p.group).Scan(&ready); err != nil {
			return fmt.Errorf("eventstore: probe for consumer group %s: %w", p.group, err)
		}
		if ready {
			return nil
		}
	}
	timer := time.NewTimer(p.poll)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-next:
	case <-timer.C:
		p.force = true // another process may have written the file
	}
	return errIdle
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sqliteProbe is sqliteProbeQuery prepared once per store on the read pool
// (modernc.org/sqlite compiles every text it is given afresh, see
// stmtCache): a consumer's session that ends and begins again reuses it
// instead of preparing another that nothing closes.
func (s *Store) sqliteProbe(ctx context.Context) (*sql.Stmt, error) {
	s.probeStmt.mu.Lock()
	defer s.probeStmt.mu.Unlock()
	if s.probeStmt.st == nil {
		st, err := s.db.Read.DB.PrepareContext(ctx, sqliteProbeQuery)
		if err != nil {
			return nil, err
		}
		s.probeStmt.st = st
	}
	return s.probeStmt.st, nil
}
