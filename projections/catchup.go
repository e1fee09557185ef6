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
	// Chunks counts the transactions it committed (one per about 20,000
	// events).
	Chunks int
}

// catchUpChunk is how many events one transaction of a CatchUp replays
// (about; it ends on a page of the log read).
var catchUpChunk int64 = 20_000

// CatchUp brings a projection that is far behind up to the log's head at
// the speed of a rebuild, before its live consumer starts (a `serve` after
// a bulk seed or import, a restore, a new projection). When the group is
// at most after events behind the head, it does nothing (one count that
// stops at after+1) and the live consumer does the rest.
//
// Otherwise it replays the events after the group's position up to the
// head as Rebuild replays them (statements sent in batches, a savepoint
// per batch and event by event only to find a failing event), in chunks
// of about 20,000 events, each in a transaction of its own that holds the
// group's lock (eventstore.InGroupTx) and moves the group to the chunk's
// end. One transaction for the whole backlog would hold back the snapshot
// horizon of every other consumer on PostgreSQL (the saga's too) and the
// one writer on SQLite for as long as it runs (tens of seconds for a
// million events), stalling the mutations and the sending of the other
// processes. The head is read under the first chunk's lock
// (GroupTx.Head) and the group's position under every chunk's lock, so of
// several processes starting at once only the first catches up (the
// others find the group close to the head, or go on from where it
// stands), and a crash or an error keeps the chunks committed before it:
// the next start or the live consumer goes on from there.
//
//   - A group that never consumed (position zero) is rebuilt: the first
//     chunk empties its tables and the audit projection keeps its field
//     memory in Go (Rebuild's replay); the later chunks replay on top.
//     Between chunks readers see a read model partly built (it was empty
//     or stale before; /readyz stays unready until the group is near the
//     head).
//   - From a position, and in every chunk after the first, the tables
//     stay and the audit projection reads each stream's fields from its
//     table once per chunk, then remembers them.
//   - R35: the events of a stream with a parked event are parked behind it
//     (eventstore.ErrBehindParked), as the live consumer parks them; an
//     event that fails eventstore.ParkAfter times is parked with every
//     later event of its stream; the parked events themselves are left to
//     `projections retry-parked` (a rebuild replays them, a catch-up from
//     a position does not).
func CatchUp(ctx context.Context, store *eventstore.Store, p Tabled, after int64) (CaughtUp, error) {
	group := p.Name()
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
	first := true
	for more := true; more && err == nil; first = false {
		more = false
		next := res // what res becomes when the chunk commits
		err = store.InGroupTx(ctx, group, func(ctx context.Context, tx eventstore.GroupTx) error {
			// Another process may have caught the group up, or moved it
			// on, while this one waited for the lock.
			cp, err := store.Checkpoint(ctx, group)
			if err != nil {
				return err
			}
			if first {
				if head, err = tx.Head(ctx); err != nil {
					return err
				}
				n, err := store.Behind(ctx, cp, head, after+1)
				if err != nil || n <= after {
					return err
				}
				next.From = cp
			}
			if !cp.Less(head) {
				return nil
			}
			var pos eventstore.Position
			if cp == (eventstore.Position{}) {
				rb, done, err := replayAll(ctx, store, p, tx, head, catchUpChunk, 0, nil)
				if err != nil {
					return err
				}
				pos, next.Rebuilt = rb.Position, true
				next.Events, next.Parked = next.Events+done, next.Parked+rb.Parked
				next.Failures = append(next.Failures[:len(next.Failures):len(next.Failures)], rb.Failures...)
			} else if pos, err = replayFrom(ctx, store, p, tx, cp, head, catchUpChunk, &next); err != nil {
				return err
			}
			next.To, next.Chunks = pos, next.Chunks+1
			more = pos.Less(head)
			return nil
		})
		if err == nil {
			res = next
		}
	}
	if res.Events > 0 {
		// Read-model caches start over, here and in other processes.
		store.Changed()
		if nerr := store.NotifyNow(context.WithoutCancel(ctx)); nerr != nil && err == nil {
			err = fmt.Errorf("notify other processes: %w", nerr)
		}
	}
	if err != nil {
		return res, fmt.Errorf("catch up %s: %w", group, err)
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

// replayFrom replays about limit events after from up to head into p's
// tables in tx, which holds p's group, keeping what they hold, moves the
// group to the last event read and returns it.
func replayFrom(ctx context.Context, store *eventstore.Store, p Tabled, tx eventstore.GroupTx, from, head eventstore.Position,
	limit int64, res *CaughtUp) (eventstore.Position, error) {
	ptx := newBatchTx(tx.Tx)
	rb := &rebuild{store: store, p: p, tx: ptx, parked: map[string]bool{}}
	parked, err := store.Parked(ctx, p.Name())
	if err != nil {
		return from, err
	}
	for _, e := range parked {
		rb.parked[e.StreamID] = true // later events of the stream park behind it (R35)
	}
	// The tables are not empty: a stream's remembered fields are read back
	// from its table the first time the chunk meets it.
	met := map[string]bool{}
	pos := from
	var done int64
	for done < limit {
		recs, err := store.ReadUntilRaw(ctx, pos, head, int(min(2000, limit-done)))
		if err != nil {
			return from, err
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
			return from, err
		}
		pos = recs[len(recs)-1].Position
		done += int64(len(recs))
	}
	if err := ptx.Flush(ctx); err != nil {
		return from, err
	}
	if err := tx.MoveTo(ctx, pos); err != nil {
		return from, err
	}
	for _, pk := range rb.parks {
		if err := tx.Park(ctx, pk.rec, pk.cause); err != nil {
			return from, err
		}
		if !errors.Is(pk.cause, eventstore.ErrBehindParked) {
			res.Failures = append(res.Failures[:len(res.Failures):len(res.Failures)], fmt.Sprintf("%s at %s: %s", pk.rec.Name(), pk.rec.Position, eventstore.ParkError(pk.cause)))
		}
	}
	res.Events += done
	res.Parked += len(rb.parks)
	return pos, nil
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
