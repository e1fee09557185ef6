package saga

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/telemetry"
)

// The resolver consumes the saga's group in watermill-sql's batches
// (eventstore.NewBatchSubscriber, as the projections' runner does) and
// applies a batch together, behind one savepoint: the batch's message
// streams are loaded in one query through the consumer's transaction, the
// resolutions of its MessageQueued events without one are appended in one
// append, and each message's schedule row is set once, from its state
// after the batch, in one upsert and one delete. The batch's statements
// are sent before its last event is acked, so they commit with the
// group's offset (R23; eventstore.Batches refuses to move the group past
// an event whose statements were not sent).
//
// When anything fails in a batch (a decode, a read, a resolution, a
// statement, a panic), the batch is rolled back to its savepoint and
// applied again event by event, exactly as before batching: each event
// in a savepoint of its own (consume), tried eventstore.ParkAfter times,
// then taken by the poison handling (a message event it cannot handle
// ends its message FAILED, an event whose message cannot even be ended
// so is parked, R35). A transient error ends the session: the
// subscriber closes (the batch's transaction rolls back) and the
// resolver pauses outside any transaction before it reads the batch
// again.

// runResolver runs the resolver until ctx ends; running is closed once it
// has subscribed.
func (s *Saga) runResolver(ctx context.Context, running chan<- struct{}) {
	logger := watermill.NewSlogLoggerWithLevelMapping(s.opt.Log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	// R35: an event is tried eventstore.ParkAfter times (50, 100 ms apart)
	// before the poison handling takes it.
	retry := middleware.Retry{MaxRetries: eventstore.ParkAfter - 1, InitialInterval: 50 * time.Millisecond, MaxInterval: time.Second,
		Multiplier: 2, Logger: logger}
	// Outermost first: an event that fails every retry is poison.
	one := s.poison(retry.Middleware(recoverer(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		return nil, s.consume(msg)
	})))
	subscribed := func() {
		if running != nil {
			close(running)
			running = nil
		}
	}
	failures := 0
	for ctx.Err() == nil {
		applied, err := s.session(ctx, logger, one, subscribed)
		if ctx.Err() != nil {
			return
		}
		if applied > 0 {
			failures = 0
		}
		failures++
		wait := min(50*time.Millisecond<<min(failures-1, 20), 30*time.Second)
		s.opt.Log.ErrorContext(ctx, "saga: the resolver paused at a transient failure; it tries again", "error", err,
			"failures", failures, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// session consumes until an event fails transiently (its error) or ctx
// ends; one handles an event on its own (retries, poison handling).
func (s *Saga) session(ctx context.Context, logger watermill.LoggerAdapter, one wmessage.HandlerFunc, subscribed func()) (int, error) {
	sub, batches, err := s.opt.Store.NewBatchSubscriber(eventstore.SubscriberOptions{ConsumerGroup: ConsumerGroup, Logger: logger})
	if err != nil {
		return 0, err
	}
	msgs, err := sub.Subscribe(context.WithoutCancel(ctx), eventstore.Topic)
	if err != nil {
		_ = sub.Close()
		return 0, err
	}
	subscribed()
	defer func() {
		// Commits what was applied and acked; an acked event whose
		// statements were not sent makes the ack refuse (the batch rolls
		// back, see eventstore.Batches).
		_ = sub.Close()
		for range msgs {
		}
	}()
	var cur *resolverBatch
	applied := 0
	for {
		select {
		case <-ctx.Done():
			return applied, nil
		case msg, ok := <-msgs:
			if !ok {
				return applied, errors.New("saga: the resolver's subscription ended")
			}
			i, n := batches.Index(msg), batches.Len()
			if i <= 0 || cur == nil {
				cur = &resolverBatch{alone: i < 0}
			}
			last := i < 0 || i == n-1
			if err := s.consumeBatched(msg, one, cur, last); err != nil {
				return applied, err
			}
			if last {
				batches.Applied(msg)
				cur = nil
			}
			msg.Ack()
			applied++
		}
	}
}

// resolverBatch is the batch a session is applying.
type resolverBatch struct {
	msgs  []*wmessage.Message // the events received so far
	alone bool                // the batch goes event by event
}

// consumeBatched takes msg as part of its batch; the batch's last event
// applies the batch (applyBatch). On a failure that is not transient the
// batch goes event by event from its start.
func (s *Saga) consumeBatched(msg *wmessage.Message, one wmessage.HandlerFunc, cur *resolverBatch, last bool) error {
	ctx := msg.Context() // the live message's: earlier ones' end with their ack
	cur.msgs = append(cur.msgs, msg)
	if !cur.alone {
		if !last {
			return nil
		}
		err := s.applyBatch(ctx, cur.msgs)
		if err == nil || eventstore.Transient(err) {
			return err
		}
		s.opt.Log.DebugContext(ctx, "saga: a batch of the resolver is applied again event by event", "events", len(cur.msgs),
			"cause", eventstore.ParkError(err))
		cur.alone = true
		for _, m := range cur.msgs[:len(cur.msgs)-1] {
			if err := s.handleOne(ctx, m, one); err != nil {
				return err
			}
		}
	}
	return s.handleOne(ctx, msg, one)
}

// handleOne handles an event on its own, in the consumer transaction of
// ctx (that of the batch's live event).
func (s *Saga) handleOne(ctx context.Context, msg *wmessage.Message, one wmessage.HandlerFunc) error {
	m := msg.Copy()
	m.SetContext(ctx)
	_, err := one(m)
	return err
}

// applyBatch applies the message events of a batch together behind one
// savepoint (see above); on an error it leaves nothing behind.
func (s *Saga) applyBatch(ctx context.Context, msgs []*wmessage.Message) (err error) {
	recs := make([]eventstore.Record, 0, len(msgs))
	for _, msg := range msgs {
		raw, err := s.opt.Store.DecodeRaw(msg)
		if err != nil {
			return err
		}
		if raw.StreamType != string(message.StreamKind) || ignoredEvent(raw) {
			continue
		}
		rec, err := s.opt.Store.Decode(msg)
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil
	}
	tx, err := eventstore.ConsumerTx(ctx)
	if err != nil {
		return err
	}
	if err := eventstore.BeginBatch(ctx); err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "saga resolver", Value: v}
		}
		if err != nil {
			if undoErr := eventstore.UndoBatch(ctx); undoErr != nil {
				err = errors.Join(err, undoErr)
			}
		}
	}()
	if err := s.applyRecords(ctx, tx, recs); err != nil {
		return err
	}
	if beforeBatchEnd != nil {
		if err := beforeBatchEnd(len(recs)); err != nil {
			return err
		}
	}
	return eventstore.EndBatch(ctx)
}

// beforeBatchEnd, set by tests only, runs when a batch's statements were
// sent, before its savepoint is released; an error fails the batch (a
// transient one as a crash at that moment: nothing commits).
var beforeBatchEnd func(events int) error

// batchMessage is a message of a batch: its state and stream as loaded
// (m moves on by the resolution the batch appends for it).
type batchMessage struct {
	m    message.State
	recs []eventstore.Record
}

// applyRecords applies message events in tx as apply does one by one:
// every MessageQueued gets its resolution step, and every message's
// schedule is set from its state after the batch.
func (s *Saga) applyRecords(ctx context.Context, tx *sqlTx, recs []eventstore.Record) error {
	var streams []string
	byStream := map[string]*batchMessage{}
	for _, rec := range recs {
		if _, ok := messageID(rec.StreamID); !ok {
			return fmt.Errorf("saga: %s in stream %s, not a message's", rec.Name(), rec.StreamID)
		}
		if byStream[rec.StreamID] == nil {
			byStream[rec.StreamID] = &batchMessage{}
			streams = append(streams, rec.StreamID)
		}
	}
	// Read through tx: the view the resolutions' version checks have,
	// with what tx wrote itself (resolveQueued's note).
	loaded, err := s.opt.Store.LoadManySQLTx(ctx, tx, streams...)
	if err != nil {
		return err
	}
	for _, id := range streams {
		byStream[id].recs = loaded[id]
		byStream[id].m = stateOf(loaded[id])
	}
	var appends []eventstore.StreamAppend
	var rejected []context.Context
	for _, rec := range recs {
		q, ok := rec.Event.(message.MessageQueued)
		if !ok {
			continue
		}
		bm := byStream[rec.StreamID]
		if err := s.resolveInBatch(ctx, rec, q, bm, &appends, &rejected); err != nil {
			return err
		}
	}
	if len(appends) > 0 {
		if _, err := s.opt.Store.AppendSQLTx(ctx, tx, appends...); err != nil {
			return err
		}
	}
	rows := make([]scheduled, 0, len(streams))
	for _, id := range streams {
		bm := byStream[id]
		if row, ok := s.scheduleRow(&bm.m, bm.recs); ok {
			rows = append(rows, row)
		}
	}
	if err := s.scheduleRows(ctx, tx, rows); err != nil {
		return err
	}
	for _, ctx := range rejected {
		telemetry.Message(ctx, string(message.StatusRejected), "")
	}
	return nil
}

// resolveInBatch is resolveQueued within a batch: the step (its span and
// decorator as apply gives it) decides on the message as loaded, and the
// resolution joins the batch's appends.
func (s *Saga) resolveInBatch(ctx context.Context, rec eventstore.Record, q message.MessageQueued, bm *batchMessage,
	appends *[]eventstore.StreamAppend, rejected *[]context.Context) (err error) {
	ctx, span := telemetry.Tracer().Start(telemetry.WithTraceParent(ctx, rec.Metadata.TraceParent), "saga.resolver",
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attribute.String("absender.message_id", q.MessageID)))
	defer func() { telemetry.End(span, err) }()
	ctx = s.opt.App.WithActor(ctx, principal, rec.Metadata.TenantID, rec.Metadata.CorrelationID)
	return s.step(ctx, stepResolveMessage, func(ctx context.Context) error {
		m := &bm.m
		events, rejection, err := s.resolution(ctx, m)
		if err != nil || len(events) == 0 {
			return err // on an error the batch goes event by event: the consumer retries
		}
		*appends = append(*appends, appendAt(cursorOf(bm.recs), m, events))
		for _, ev := range events {
			m.Apply(ev)
		}
		if rejection {
			*rejected = append(*rejected, ctx)
		}
		return nil
	})
}
