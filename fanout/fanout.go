// Package fanout publishes every event to NATS JetStream for analytics
// consumers (SPEC §3): at least once, in commit order (so in order within
// each stream), as the public envelope (package envelope, secrets removed),
// deduplicated by event id.
//
// The forwarder is a watermill-sql consumer group (default "broker") on the
// events table, the outbox, and a watermill NATS JetStream publisher
// (watermill-nats/v2 pkg/nats): it publishes one event, waits for
// JetStream's ack, and only then acks the event, so the group's offset
// never passes an event the broker has not stored. A broker outage delays
// events but loses none; a restart resumes at the committed offset. Every
// message carries the header Nats-Msg-Id = event id, so JetStream drops a
// redelivery within the stream's duplicate window; consumers deduplicate
// by the envelope's id beyond it.
//
// What the adapter lacks is done with nats.go: the stream (one stream,
// subjects <prefix>.>, named independently of the subjects) is created
// with nats.go's jetstream API, since the adapter's auto-provisioning names
// a stream after each topic, and publish timeouts, the expected stream and
// reconnect behaviour are nats.go options passed through the adapter.
//
// Transactions stay short. A consumer batch runs in one database
// transaction that holds the group's offsets row locked; on PostgreSQL
// every other consumer reads only below the oldest running transaction of
// the database, and on SQLite it holds the single writer connection. A
// nacked event would be redelivered inside that same transaction, so the
// forwarder never nacks: when a publish fails (fast: no reconnect buffer,
// a publish timeout of 1 s) it closes the subscriber, which commits the events acked so far
// and ends the transaction, then pauses outside any transaction
// (RetryInterval, doubling up to MaxRetryInterval, cut short when the
// client reconnects) and starts a new subscriber at the committed offset.
package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/absender/absender/envelope"
	"github.com/absender/absender/eventstore"
)

// Forwarder publishes the event log to NATS JetStream.
type Forwarder struct {
	store *eventstore.Store
	// events reads the log for the consumer group: a second Store on the
	// same database, only for its smaller batches (see Config.BatchSize);
	// store's wake-ups are relayed to it.
	events *eventstore.Store
	cfg    Config
	log    *slog.Logger
	// conn is Run's NATS connection, for Ready (nil before Run).
	conn atomic.Pointer[nats.Conn]
}

// New returns a forwarder of store's events; it connects when Run starts.
func New(store *eventstore.Store, cfg Config) (*Forwarder, error) {
	if store == nil {
		return nil, errors.New("fanout: store is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fanout: %w", err)
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger.With("consumer_group", cfg.ConsumerGroup)
	return &Forwarder{
		store: store,
		events: store.Sibling(eventstore.Options{Registry: store.Registry(), Logger: log,
			NoNotify: true, BatchSize: cfg.BatchSize}),
		cfg: cfg,
		log: log,
	}, nil
}

// ConsumerGroup is the group whose offset marks what has been published.
func (f *Forwarder) ConsumerGroup() string { return f.cfg.ConsumerGroup }

// Run forwards events until ctx ends, then closes its connection and
// returns nil. A broker that is down (also at start) delays events and is
// retried; Run returns an error only when it cannot start at all.
func (f *Forwarder) Run(ctx context.Context) error {
	nc, err := f.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	f.conn.Store(nc)
	pub, js, err := f.publisher(nc)
	if err != nil {
		return err
	}
	f.log.Info("forwarding events to NATS JetStream", "url", redact(f.cfg.URL), "stream", f.cfg.Stream,
		"subjects", f.cfg.SubjectPrefix+".>")

	go f.relayWakeups(ctx)
	failures := 0
	for {
		n, err := f.session(ctx, js, pub, failures)
		if ctx.Err() != nil {
			return nil
		}
		if n > 0 {
			failures = 0
		}
		if err == nil {
			err = errors.New("fanout: event subscription ended")
		}
		if !nc.IsConnected() {
			err = fmt.Errorf("NATS broker not connected (%s): %w", nc.Status(), err)
		}
		failures++
		wait := f.cfg.RetryInterval << min(failures-1, 20)
		if wait > f.cfg.MaxRetryInterval || wait <= 0 {
			wait = f.cfg.MaxRetryInterval
		}
		f.log.Warn("cannot forward events; they wait in the database", "err", err, "failures", failures, "retry_in", wait)
		if !f.pause(ctx, nc, wait) {
			return nil
		}
	}
}

// publisher returns the JetStream publisher of the forwarder on nc, and
// nc's JetStream API for the stream.
func (f *Forwarder) publisher(nc *nats.Conn) (message.Publisher, jetstream.JetStream, error) {
	pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			// Nats-Msg-Id = the watermill message UUID = the event id.
			TrackMsgId:     true,
			ConnectOptions: []nats.JSOpt{nats.MaxWait(f.cfg.PublishTimeout)},
			PublishOptions: []nats.PubOpt{nats.ExpectStream(f.cfg.Stream), nats.AckWait(f.cfg.PublishTimeout)},
		},
	}, watermill.NewSlogLogger(f.log))
	if err != nil {
		return nil, nil, fmt.Errorf("fanout: publisher: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, fmt.Errorf("fanout: jetstream: %w", err)
	}
	return pub, js, nil
}

// relayWakeups wakes the forwarder's consumer whenever store signals an
// append or commit (in this process, or through PostgreSQL NOTIFY from
// others); a wake-up missed here is found by the next poll.
func (f *Forwarder) relayWakeups(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.store.Notify():
			f.events.Changed()
		}
	}
}

// pause waits outside any transaction: for wait, or until a disconnected
// client is connected again. It reports false when ctx ended.
func (f *Forwarder) pause(ctx context.Context, nc *nats.Conn, wait time.Duration) bool {
	connected := nc.StatusChanged(nats.CONNECTED)
	defer nc.RemoveStatusListener(connected)
	if nc.IsConnected() {
		connected = nil // the broker is reachable but failed: wait the full pause
	}
	select {
	case <-ctx.Done():
		return false
	case <-connected:
	case <-time.After(wait):
	}
	return true
}

// connect opens the NATS connection. It succeeds while the broker is down
// and keeps reconnecting; publishing while disconnected fails at once
// (no reconnect buffer), so no transaction waits for the broker.
func (f *Forwarder) connect() (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("absender fan-out"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(f.cfg.RetryInterval),
		nats.ReconnectBufSize(-1),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			f.log.Info("NATS broker connected again", "url", nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() {
				f.log.Warn("NATS broker disconnected", "err", err)
			}
		}),
	}
	nc, err := nats.Connect(f.cfg.URL, append(opts, f.cfg.NatsOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("fanout: connect to %s: %w", redact(f.cfg.URL), err)
	}
	return nc, nil
}

// session makes sure the stream exists, then forwards with one subscriber
// until a publish fails or ctx ends. It returns how many events it
// forwarded. Its subscriber is closed, never cancelled: closing commits
// the offset of every event acked in the current batch and ends the
// transaction at once, while a cancelled context would roll the batch back
// (its events would be published again, dropped by JetStream's
// deduplication, but needlessly). The event whose publish failed stays
// unacked and is the first one of the next session. failures counts the
// sessions that failed before this one.
func (f *Forwarder) session(ctx context.Context, js jetstream.JetStream, pub message.Publisher, failures int) (int, error) {
	if err := f.ensureStream(ctx, js); err != nil {
		return 0, err
	}
	parking, err := f.events.Parking(ctx, f.cfg.ConsumerGroup)
	if err != nil {
		return 0, err
	}
	sub, err := f.events.NewSubscriber(eventstore.SubscriberOptions{
		ConsumerGroup: f.cfg.ConsumerGroup,
		PollInterval:  f.cfg.PollInterval,
		RetryInterval: f.cfg.RetryInterval,
		AckDeadline:   f.cfg.AckDeadline,
		// The subscriber logs every close at info; a session ends at
		// every broker failure, which Run reports once.
		Logger: watermill.NewSlogLoggerWithLevelMapping(f.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
	})
	if err != nil {
		return 0, err
	}
	msgs, err := sub.Subscribe(context.WithoutCancel(ctx), eventstore.Topic)
	if err != nil {
		_ = sub.Close()
		return 0, fmt.Errorf("fanout: subscribe: %w", err)
	}
	defer func() {
		_ = sub.Close()
		for range msgs { // closed once the subscriber has stopped
		}
	}()
	forwarded := 0
	for {
		select {
		case <-ctx.Done():
			return forwarded, nil
		case msg, ok := <-msgs:
			if !ok {
				return forwarded, nil
			}
			if err := f.forwardOrPark(pub, msg, parking); err != nil {
				return forwarded, err
			}
			msg.Ack()
			if forwarded++; forwarded == 1 && failures > 0 {
				f.log.Info("forwarding events again", "after_failures", failures)
			}
		}
	}
}

// forwardOrPark forwards one event, or parks it (R35): when an earlier
// event of its stream is parked, or when it cannot be published for a
// reason a retry does not cure (the event cannot be read or encoded, or it
// is larger than the broker accepts) eventstore.ParkAfter times in a row.
// A publish that fails otherwise (the broker is down or slow) is returned:
// the session ends and the event waits in the database.
func (f *Forwarder) forwardOrPark(pub message.Publisher, msg *message.Message, parking *eventstore.Parking) error {
	rec, err := f.events.DecodeRaw(msg) // the envelope needs no decoded event
	if err != nil {
		rec = eventstore.Record{ID: msg.UUID, Type: "unreadable"}
		return f.park(msg, parking, rec, fmt.Errorf("fanout: %w", err))
	}
	blocked, err := parking.Blocked(msg.Context(), rec.StreamID)
	if err != nil {
		return err
	}
	if blocked {
		return f.park(msg, parking, rec, eventstore.ErrBehindParked)
	}
	for attempt := range eventstore.ParkAfter {
		if attempt > 0 {
			time.Sleep(50 * time.Millisecond << (attempt - 1))
		}
		if err = f.forward(pub, rec); err == nil || eventstore.Transient(err) {
			return err
		}
	}
	return f.park(msg, parking, rec, err)
}

func (f *Forwarder) park(msg *message.Message, parking *eventstore.Parking, rec eventstore.Record, cause error) error {
	if err := parking.Park(msg.Context(), rec, cause); err != nil {
		return err
	}
	f.log.Error("event parked (R35): not forwarded; forwarding goes on with other streams", "event_type", rec.Name(),
		"position", rec.Position.String(), "stream_id", rec.StreamID, "err", eventstore.ParkError(cause))
	return nil
}

// forward publishes one event's envelope and waits for JetStream's ack.
// A failed publish is transient unless the message is too large.
func (f *Forwarder) forward(pub message.Publisher, rec eventstore.Record) error {
	body, err := json.Marshal(envelope.From(rec))
	if err != nil {
		return fmt.Errorf("fanout: envelope of %s: %w", rec.ID, err)
	}
	if err := pub.Publish(f.cfg.Subject(rec.StreamType), message.NewMessage(rec.ID, body)); err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return fmt.Errorf("fanout: publish %s (%s at %s): %w", rec.ID, rec.Name(), rec.Position, err)
		}
		return fmt.Errorf("fanout: publish %s (%s at %s): %w: %w", rec.ID, rec.Name(), rec.Position, eventstore.ErrTransient, err)
	}
	return nil
}

// ensureStream creates the stream when it is missing (a new broker, or
// one that lost its data). An existing stream is left as it is: its
// retention and limits are the operator's.
func (f *Forwarder) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PublishTimeout)
	defer cancel()
	_, err := js.Stream(ctx, f.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        f.cfg.Stream,
			Description: "Absender events, one message per event (docs/analytics.md)",
			Subjects:    []string{f.cfg.SubjectPrefix + ".>"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Duplicates:  f.cfg.DuplicateWindow,
		})
		switch {
		case errors.Is(err, jetstream.ErrStreamNameAlreadyInUse):
			err = nil // another process created it
		case err == nil:
			f.log.Info("created JetStream stream", "stream", f.cfg.Stream, "subjects", f.cfg.SubjectPrefix+".>",
				"duplicate_window", f.cfg.DuplicateWindow)
		}
	}
	if err != nil {
		return fmt.Errorf("fanout: stream %s: %w", f.cfg.Stream, err)
	}
	return nil
}
