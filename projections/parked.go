package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/absender/absender/eventstore"
)

// Retried is what RetryParked did for one projection.
type Retried = eventstore.Retried

// RetryParked re-applies the parked events of a projection (R35) in log
// order, after a fix: each in a transaction of its own that also deletes
// its parked row, so a crash leaves nothing half done. An event that fails
// again stays parked, and so do the later events of its stream (their
// order holds); other streams go on (eventstore.Store.RetryParked). The
// projection's live consumers, in any process, apply the later events of
// a stream once none of it is parked.
func RetryParked(ctx context.Context, store *eventstore.Store, p Projection) (Retried, error) {
	res, err := store.RetryParked(ctx, p.Name(), func(ctx context.Context, pe eventstore.ParkedEvent) error {
		return retryOne(ctx, store, p, pe)
	})
	if res.Applied > 0 {
		// Read-model caches start over, here and in serve processes.
		store.Changed()
		if nerr := store.NotifyNow(context.WithoutCancel(ctx)); nerr != nil {
			err = errors.Join(err, fmt.Errorf("retry parked events of %s: notify other processes: %w", p.Name(), nerr))
		}
	}
	return res, err
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
	return store.UnparkWith(ctx, p.Name(), pe.Position, func(ctx context.Context, tx bun.Tx) error {
		if rec.Event == nil {
			return nil // a type this version does not know is skipped, as live
		}
		return p.Apply(ctx, txOf(tx), rec)
	})
}
