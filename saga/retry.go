package saga

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// RetryParked re-applies the events parked for the resolver's group (R35)
// after a fix, in log order, as the resolver would: a MessageQueued gets
// its resolution (or its rejection) and its schedule, a later event of
// its stream moves the schedule, each in a transaction of its own that
// also deletes the parked row; an event of another stream is only
// unparked, as the resolver skips it. An event that fails again stays
// parked with the later events of its stream
// (eventstore.Store.RetryParked); a retry does not end its message FAILED,
// the event stays listed for the next fix. The delivery workers of every
// serve process find a resolved message due and send it.
func RetryParked(ctx context.Context, a App, store *eventstore.Store, db *database.DB) (eventstore.Retried, error) {
	if a == nil || store == nil || db == nil {
		return eventstore.Retried{}, errors.New("saga: retry parked events: App, Store and DB are required")
	}
	s := &Saga{opt: Options{App: a, Store: store, DB: db, Now: time.Now, AttemptTimeout: message.AttemptTimeout}}
	res, err := store.RetryParked(ctx, ConsumerGroup, func(ctx context.Context, pe eventstore.ParkedEvent) error {
		return s.retryOne(ctx, pe)
	})
	if res.Applied > 0 {
		// The resolutions are committed: wake the workers, here and in
		// serve processes, so the messages become due at once.
		store.Changed()
		if nerr := store.NotifyNow(context.WithoutCancel(ctx)); nerr != nil {
			err = errors.Join(err, fmt.Errorf("saga: retry parked events: notify other processes: %w", nerr))
		}
	}
	return res, err
}

func (s *Saga) retryOne(ctx context.Context, pe eventstore.ParkedEvent) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "saga resolver", Value: v}
		}
	}()
	raw, err := s.opt.Store.RawRecordAt(ctx, pe.Position.Offset)
	if err != nil {
		return err
	}
	var rec eventstore.Record
	if raw.StreamType == string(message.StreamKind) {
		if rec, err = s.opt.Store.RecordAt(ctx, pe.Position.Offset); err != nil {
			return err
		}
	}
	tx, err := s.opt.DB.Write.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if rec.Event != nil {
		if err := s.apply(ctx, tx, rec); err != nil {
			return err
		}
	}
	if err := s.opt.Store.Unpark(ctx, tx, ConsumerGroup, pe.Position); err != nil {
		return err
	}
	return tx.Commit()
}
