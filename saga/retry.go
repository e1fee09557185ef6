package saga

import (
	"context"
	"errors"
	"fmt"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// RetryParked re-applies the events parked for the resolver's group (R35)
// after a fix, in log order, as the resolver would: a MessageQueued gets
// its resolution (or its rejection), recorded in a transaction of its own
// that also deletes the parked row; any other event is only unparked, as
// the resolver skips it. An event that fails again stays parked with the
// later events of its stream (eventstore.Store.RetryParked); a retry does
// not end its message FAILED, the event stays listed for the next fix.
// The delivery workers of every serve process find a resolved message due
// and send it.
func RetryParked(ctx context.Context, a *app.Service, store *eventstore.Store) (eventstore.Retried, error) {
	if a == nil || store == nil {
		return eventstore.Retried{}, errors.New("saga: retry parked events: App and Store are required")
	}
	res, err := store.RetryParked(ctx, ConsumerGroup, func(ctx context.Context, pe eventstore.ParkedEvent) error {
		return retryOne(ctx, a, store, pe)
	})
	if res.Applied > 0 {
		// The resolutions are committed: wake the projections, here and
		// in serve processes, so the messages become due at once.
		store.Changed()
		if nerr := store.NotifyNow(context.WithoutCancel(ctx)); nerr != nil {
			err = errors.Join(err, fmt.Errorf("saga: retry parked events: notify other processes: %w", nerr))
		}
	}
	return res, err
}

func retryOne(ctx context.Context, a *app.Service, store *eventstore.Store, pe eventstore.ParkedEvent) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "saga resolver", Value: v}
		}
	}()
	raw, err := store.RawRecordAt(ctx, pe.Position.Offset)
	if err != nil {
		return err
	}
	var q message.MessageQueued
	if raw.Type == queuedType {
		rec, err := store.RecordAt(ctx, pe.Position.Offset)
		if err != nil {
			return err
		}
		var ok bool
		if q, ok = rec.Event.(message.MessageQueued); !ok {
			return fmt.Errorf("saga: event at %s is %T, not a MessageQueued", pe.Position, rec.Event)
		}
	}
	db := store.DB().Write
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if q.MessageID != "" {
		if err := a.ResolveQueued(ctx, tx, q.MessageID); err != nil {
			return err
		}
	}
	if err := store.Unpark(ctx, tx, ConsumerGroup, pe.Position); err != nil {
		return err
	}
	return tx.Commit()
}
