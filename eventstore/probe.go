package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
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
	group string
	poll  time.Duration
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
	if p.empty {
		p.empty = false
		if err := sleepCtx(ctx, min(p.poll, 5*time.Millisecond)); err != nil {
			return err
		}
	}
	// Taken before the probe, so a commit between the probe and the wait
	// is not lost.
	next := p.store.changed.Wait()
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
