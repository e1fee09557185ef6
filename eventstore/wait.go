package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// positions are the consumer groups' positions as this process's batch
// consumers committed them (NewBatchSubscriber): learned from each batch's
// ack (its last row) and published after its commit. Every waiter of the
// process shares them and the one wake-up (Store.changed) a publish
// broadcasts.
type positions struct {
	wake *signal
	mu   sync.Mutex
	at   map[string]Position
}

func newPositions(wake *signal) *positions {
	return &positions{wake: wake, at: map[string]Position{}}
}

// publish records a committed position and wakes the waiters. A position
// only moves forward here; a group moved forward by other means (a
// rebuild, another process) is found in the database. Groups never move
// back: MoveGroup refuses it (ErrGroupMovesBack), and a rebuild or
// catch-up replays up to a head read under the group's lock (GroupTx.Head),
// which no live batch committed before it has passed. A group put back by
// ResetGroup, or whose offsets row is deleted by hand, is seen as reached
// by this process's waiters until it restarts.
func (p *positions) publish(group string, pos Position) {
	p.mu.Lock()
	if cur, ok := p.at[group]; !ok || cur.Less(pos) {
		p.at[group] = pos
	}
	p.mu.Unlock()
	p.wake.Broadcast()
}

// missing returns the groups not known to have reached pos in memory, and
// whether each of them is known at all.
func (p *positions) missing(pos Position, groups []string) (left []string, unknown bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range groups {
		cur, ok := p.at[g]
		if !ok {
			unknown = true
		}
		if !ok || !cur.Reached(pos) {
			left = append(left, g)
		}
	}
	return left, unknown
}

// recheck is how often WaitFor reads the groups' positions from the
// database when nothing woke it: for consumers in other processes.
const recheck = 100 * time.Millisecond

// WaitFor returns once every group has consumed the event at pos, or with
// ctx's error. The consumers of this process wake it directly when their
// batch commits (their committed positions are kept in memory); for groups
// it has not seen commit here it reads the positions from the database —
// at once, on a PostgreSQL notification from another process, and at
// least every 100 ms. Before it returns it moves Generation on, so no
// read-model cache still holds what pos changed (the consumer's own
// wake-up may come a moment after its commit is visible).
func (s *Store) WaitFor(ctx context.Context, pos Position, groups ...string) error {
	left := groups
	lastRead := time.Now() // groups this process commits are read from memory first
	for {
		wake, remote := s.changed.Wait(), s.remote.Wait()
		var unknown bool
		left, unknown = s.positions.missing(pos, left)
		if len(left) == 0 {
			break
		}
		if unknown || time.Since(lastRead) >= recheck {
			var err error
			if left, err = s.notReached(ctx, pos, left); err != nil {
				return err
			}
			lastRead = time.Now()
			if len(left) == 0 {
				break
			}
		}
		timer := time.NewTimer(recheck - time.Since(lastRead))
		select {
		case <-ctx.Done():
			timer.Stop()
			cp, _ := s.Checkpoint(context.WithoutCancel(ctx), left[0])
			return fmt.Errorf("eventstore: waiting for %s to reach %s (at %s): %w", left[0], pos, cp, ctx.Err())
		case <-wake:
		case <-remote:
			lastRead = time.Time{}
		case <-timer.C:
		}
		timer.Stop()
	}
	s.changed.Broadcast()
	return nil
}

// notReached reads the groups' positions in one query and returns those
// before pos.
func (s *Store) notReached(ctx context.Context, pos Position, groups []string) ([]string, error) {
	args := make([]any, len(groups))
	for i, g := range groups {
		args[i] = g
	}
	rows, err := s.db.Read.DB.QueryContext(ctx, rebind(s.db.Kind,
		`SELECT consumer_group, offset_acked, last_processed_transaction_id`+castText(s.db.Kind)+
			` FROM events_offsets WHERE consumer_group IN (?`+strings.Repeat(", ?", len(groups)-1)+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("eventstore: positions of %s: %w", strings.Join(groups, ", "), err)
	}
	defer rows.Close()
	reached := map[string]bool{}
	for rows.Next() {
		var g, tx string
		var off sql.NullInt64
		if err := rows.Scan(&g, &off, &tx); err != nil {
			return nil, fmt.Errorf("eventstore: positions: %w", err)
		}
		p := Position{Offset: off.Int64}
		p.TxID, _ = strconv.ParseUint(tx, 10, 64)
		reached[g] = p.Reached(pos)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("eventstore: positions: %w", err)
	}
	var left []string
	for _, g := range groups {
		if !reached[g] {
			left = append(left, g)
		}
	}
	return left, nil
}
