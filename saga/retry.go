package saga

import (
	"context"
	"errors"
	"fmt"

	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
)

// RetryParked re-applies the events parked for the resolver's group (R35)
// after a fix, in log order, as the resolver would: a MessageQueued gets
// its resolution (or its rejection), and every event of a message sets
// its schedule from the message's state, each in a transaction of its own
// that also deletes the parked row; an event of another stream is only
// unparked, as the resolver skips it. An event that fails again stays
// parked with the later events of its stream
// (eventstore.Store.RetryParked); a retry does not end its message FAILED,
// the event stays listed for the next fix. The delivery workers of every
// serve process find a resolved message due and send it.
//
// Each transaction holds the group's offset (eventstore.Store.InGroupTx),
// as a batch of the resolver in a serve process does: the two write the
// same schedule rows, so one waits for the other, and a batch that
// waited starts again with what the retry wrote.
//
// opt are the saga's settings as serve uses them; App, Store and DB are
// required, Now and AttemptTimeout take their defaults (Sender, Workers,
// Poll and Sweep are not used).
func RetryParked(ctx context.Context, opt Options) (eventstore.Retried, error) {
	if opt.App == nil || opt.Store == nil || opt.DB == nil {
		return eventstore.Retried{}, errors.New("saga: retry parked events: App, Store and DB are required")
	}
	if opt.AttemptTimeout < 0 {
		return eventstore.Retried{}, fmt.Errorf("saga: retry parked events: AttemptTimeout %s must not be negative", opt.AttemptTimeout)
	}
	s := &Saga{opt: opt.withDefaults()}
	store := opt.Store
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
	if raw.StreamType == string(message.StreamKind) && !ignoredEvent(raw) {
		if rec, err = s.opt.Store.RecordAt(ctx, pe.Position.Offset); err != nil {
			return err
		}
	}
	return s.opt.Store.InGroupTx(ctx, ConsumerGroup, func(ctx context.Context, tx eventstore.GroupTx) error {
		if rec.Event != nil {
			if err := s.apply(ctx, tx.Tx.Tx, rec); err != nil {
				return err
			}
		}
		return s.opt.Store.Unpark(ctx, tx.Tx.Tx, ConsumerGroup, pe.Position)
	})
}
