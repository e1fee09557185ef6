package fanout

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/absender/absender/eventstore"
)

// RetryParked publishes the events parked for the forwarder's group (R35)
// after a fix (the broker accepts larger messages, the event can be read
// now), in log order, as the forwarder would: each is published and
// acknowledged by JetStream before its parked row is deleted, so a row
// goes only with its event stored by the broker (a crash in between
// publishes it again, and JetStream drops the duplicate within its
// window). An event that fails again stays parked with the later events
// of its stream (eventstore.Store.RetryParked); the forwarders of serve
// processes forward the later events of a stream once none of it is
// parked. It connects to the broker itself and fails at once when the
// broker cannot be reached; a broker lost midway stops the retry, and
// what is left stays parked.
func (f *Forwarder) RetryParked(ctx context.Context) (eventstore.Retried, error) {
	nc, err := nats.Connect(f.cfg.URL, append([]nats.Option{nats.Name("absender retry-parked"), nats.Timeout(f.cfg.AckDeadline),
		nats.NoReconnect()}, f.cfg.NatsOptions...)...)
	if err != nil {
		return eventstore.Retried{}, fmt.Errorf("fanout: connect to %s: %w", redact(f.cfg.URL), err)
	}
	defer nc.Close()
	pub, js, err := f.publisher(nc)
	if err != nil {
		return eventstore.Retried{}, err
	}
	if err := f.ensureStream(ctx, js); err != nil {
		return eventstore.Retried{}, err
	}
	return f.store.RetryParked(ctx, f.cfg.ConsumerGroup, func(ctx context.Context, pe eventstore.ParkedEvent) error {
		return f.retryOne(ctx, pub, pe)
	})
}

func (f *Forwarder) retryOne(ctx context.Context, pub message.Publisher, pe eventstore.ParkedEvent) error {
	rec, err := f.store.RawRecordAt(ctx, pe.Position.Offset) // the envelope needs no decoded event
	if err != nil {
		return err
	}
	if err := f.forward(pub, rec); err != nil {
		return err
	}
	// Published and acknowledged: only now the row goes (no transaction
	// waits for the broker).
	return f.store.UnparkWith(ctx, f.cfg.ConsumerGroup, pe.Position, nil)
}
