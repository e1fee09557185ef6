package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/absender/absender/eventstore"
)

// DefaultCatchUpAfter is how many events a projection's consumer group may
// be behind the log's head at start before CatchUp replays them the
// rebuild's way instead of leaving them to the live consumer.
const DefaultCatchUpAfter = 5_000

// CaughtUp is what a CatchUp did.
type CaughtUp struct {
	// From is the group's position before; To where it goes on. Both are
	// zero when the group was not far enough behind (nothing was done).
	From, To eventstore.Position
	// Events counts the events read.
	Events int64
	// Rebuilt says the group started from the beginning of the log: its
	// tables were emptied and rebuilt (Rebuild's replay).
	Rebuilt bool
	// Parked counts the events parked on the way (R35).
	Parked int
	// Failures names the events it could not apply (see Rebuilt).
	Failures []string
}

// CatchUp brings a projection that is far behind up to the log's head at
// the speed of a rebuild, before its live consumer starts (a `serve` after
// a bulk seed or import, a restore, a new projection). When the group is
// at most after events behind the head, it does nothing (one count that
// stops at after+1) and the live consumer does the rest.
//
// Otherwise, in one transaction that holds the group's lock
// (eventstore.InGroupTx), it replays the events after the group's
// position up to the head read before the lock, as Rebuild replays them:
// statements sent in batches, a savepoint per batch and event by event
// only to find a failing event. Under the lock it reads the group's
// position again, so of several processes starting at once only the first
// catches up and the others, having waited for the lock, find the group
// close to the head and do nothing. A crash or an error leaves nothing of
// the catch-up behind (the transaction rolls back); the next start or the
// live consumer begins again from the same position.
//
//   - A group that never consumed (position zero) is rebuilt: its tables
//     are emptied and the audit projection keeps its field memory in Go
//     (Rebuild). Otherwise the tables stay and the audit projection reads
//     each stream's fields from its table once, then remembers them.
//   - R35: the events of a stream with a parked event are parked behind it
//     (eventstore.ErrBehindParked), as the live consumer parks them; an
//     event that fails eventstore.ParkAfter times is parked with every
//     later event of its stream; the parked events themselves are left to
//     `projections retry-parked` (a rebuild replays them, a catch-up does
//     not).
func CatchUp(ctx context.Context, store *eventstore.Store, p Tabled, after int64) (CaughtUp, error) {
	group := p.Name()
	// The head is read before the lock, as Rebuild reads it: everything in
	// it was committed before the catch-up's transaction began.
	head, err := store.Head(ctx)
	if err != nil {
		return CaughtUp{}, fmt.Errorf("catch up %s: %w", group, err)
	}
	if far, err := farBehind(ctx, store, group, head, after); err != nil || !far {
		return CaughtUp{}, err
	}
	if err := store.EnsureGroup(ctx, group); err != nil {
		return CaughtUp{}, fmt.Errorf("catch up %s: %w", group, err)
	}
	var res CaughtUp
	err = store.InGroupTx(ctx, group, func(ctx context.Context, tx eventstore.GroupTx) error {
		// Another process may have caught the group up while this one
		// waited for the lock.
		cp, err := store.Checkpoint(ctx, group)
		if err != nil {
			return err
		}
		n, err := store.Behind(ctx, cp, head, after+1)
		if err != nil || n <= after {
			return err
		}
		res = CaughtUp{From: cp}
		if cp == (eventstore.Position{}) {
			rb, done, err := replayAll(ctx, store, p, tx, head, 0, nil)
			if err != nil {
				return err
			}
			res.To, res.Events, res.Rebuilt, res.Parked, res.Failures = rb.Position, done, true, rb.Parked, rb.Failures
			return nil
		}
		return replayFrom(ctx, store, p, tx, head, &res)
	})
	if err != nil {
		return CaughtUp{}, fmt.Errorf("catch up %s: %w", group, err)
	}
	if res.Events > 0 {
		// Read-model caches start over, here and in other processes.
		store.Changed()
		if err := store.NotifyNow(ctx); err != nil {
			return res, fmt.Errorf("catch up %s: notify other processes: %w", group, err)
		}
	}
	return res, nil
}

// farBehind asks, without a lock, whether group is more than after events
// behind head.
func farBehind(ctx context.Context, store *eventstore.Store, group string, head eventstore.Position, after int64) (bool, error) {
	cp, err := store.Checkpoint(ctx, group)
	if err != nil {
		return false, fmt.Errorf("catch up %s: %w", group, err)
	}
	n, err := store.Behind(ctx, cp, head, after+1)
	if err != nil {
		return false, fmt.Errorf("catch up %s: %w", group, err)
	}
	return n > after, nil
}

// replayFrom replays the events after res.From up to head into p's tables
// in tx, which holds p's group, keeping what they hold, and moves the
// group to the last event read.
func replayFrom(ctx context.Context, store *eventstore.Store, p Tabled, tx eventstore.GroupTx, head eventstore.Position, res *CaughtUp) error {
	ptx := newBatchTx(tx.Tx)
	rb := &rebuild{store: store, p: p, tx: ptx, parked: map[string]bool{}}
	parked, err := store.Parked(ctx, p.Name())
	if err != nil {
		return err
	}
	for _, e := range parked {
		rb.parked[e.StreamID] = true // later events of the stream park behind it (R35)
	}
	// The tables are not empty: a stream's remembered fields are read back
	// from its table the first time the catch-up meets it.
	met := map[string]bool{}
	pos := res.From
	for {
		recs, err := store.ReadUntilRaw(ctx, pos, head, 2000)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			if !met[rec.StreamID] {
				met[rec.StreamID] = true
				ptx.batch.stale[rec.StreamID] = true
			}
		}
		if err := rb.replay(ctx, recs); err != nil {
			return err
		}
		pos = recs[len(recs)-1].Position
		res.Events += int64(len(recs))
	}
	if err := ptx.Flush(ctx); err != nil {
		return err
	}
	if err := tx.MoveTo(ctx, pos); err != nil {
		return err
	}
	for _, pk := range rb.parks {
		if err := tx.Park(ctx, pk.rec, pk.cause); err != nil {
			return err
		}
		if !errors.Is(pk.cause, eventstore.ErrBehindParked) {
			res.Failures = append(res.Failures, fmt.Sprintf("%s at %s: %s", pk.rec.Name(), pk.rec.Position, eventstore.ParkError(pk.cause)))
		}
	}
	res.To, res.Parked = pos, len(rb.parks)
	return nil
}

// CatchUpAll catches up every projection (CatchUp), one after the other,
// and reports each that did something through report (when not nil).
func CatchUpAll(ctx context.Context, store *eventstore.Store, ps []Tabled, after int64, report func(name string, c CaughtUp, took time.Duration)) error {
	for _, p := range ps {
		start := time.Now()
		c, err := CatchUp(ctx, store, p, after)
		if err != nil {
			return err
		}
		if c.Events > 0 && report != nil {
			report(p.Name(), c, time.Since(start))
		}
	}
	return nil
}
