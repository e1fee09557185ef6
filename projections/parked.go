package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/absender/absender/eventstore"
)

// Retried is what RetryParked did for one projection.
type Retried struct {
	// Applied counts the parked events re-applied (and no longer parked).
	Applied int
	// Left counts those still parked: an event that failed again and the
	// later events of its stream.
	Left int
	// Failures names the events that failed again, with the error (as
	// eventstore.ParkError shows it).
	Failures []string
}

// RetryParked re-applies the parked events of a projection (R35) in log
// order, after a fix: each in a transaction of its own that also deletes
// its parked row, so a crash leaves nothing half done. An event that fails
// again stays parked, and so do the later events of its stream (their
// order holds); other streams go on. The projection's live consumers, in
// any process, apply the later events of a stream once none of it is
// parked.
func RetryParked(ctx context.Context, store *eventstore.Store, p Projection) (Retried, error) {
	var res Retried
	parked, err := store.Parked(ctx, p.Name())
	if err != nil {
		return res, err
	}
	failed := map[string]bool{}
	for _, pe := range parked {
		if failed[pe.StreamID] {
			res.Left++
			continue
		}
		if err := retryOne(ctx, store, p, pe); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return res, err
			}
			failed[pe.StreamID] = true
			res.Left++
			res.Failures = append(res.Failures, fmt.Sprintf("%s at %s: %s", pe.EventType, pe.Position, eventstore.ParkError(err)))
			continue
		}
		res.Applied++
	}
	if res.Applied > 0 {
		// Read-model caches start over, here and in serve processes.
		store.Changed()
		if err := store.NotifyNow(ctx); err != nil {
			return res, fmt.Errorf("retry parked events of %s: notify other processes: %w", p.Name(), err)
		}
	}
	return res, nil
}

func retryOne(ctx context.Context, store *eventstore.Store, p Projection, pe eventstore.ParkedEvent) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "projection " + p.Name(), Value: v}
		}
	}()
	rec, err := store.RecordAt(ctx, pe.Position.Offset)
	if err != nil {
		return err
	}
	db := store.DB().Write
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if rec.Event != nil { // a type this version does not know is skipped, as live
		if err := p.Apply(ctx, NewTx(db, tx), rec); err != nil {
			return err
		}
	}
	if err := store.Unpark(ctx, tx, p.Name(), pe.Position); err != nil {
		return err
	}
	return tx.Commit()
}
