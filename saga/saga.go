// Package saga is the send saga (R23): it drives every message from
// MessageQueued to MessageSent, MessageFailed or MessageRejected. All of
// it lives here: its steps (steps.go), its driver (this file, worker.go),
// its schedule (schedule.go) and the recovery of parked events (retry.go).
// It reads what it needs of the command side through App (port.go), which
// app.SagaPort implements, and appends message events itself. Every step
// runs under a stable name (resolveMessage, beginAttempt, recordOutcome,
// failMessage, purgeExpiredContent) through the decorator of every
// command (package observe): its span, the commands metric and a log line.
//
// Two parts, so that a slow server or a backoff never blocks other
// messages:
//
//   - The resolver is an ordered event consumer (its own consumer group,
//     "saga") that applies watermill-sql's batches together, and a batch
//     that fails event by event with retries and poison handling
//     (resolver.go).
//     On MessageQueued it resolves the transport and records
//     TransportResolved or MessageRejected in the consumer's transaction;
//     on every message event it sets the message's row of the schedule
//     (saga_schedule) from the message's stream as it stands, in the same
//     transaction. So the record, the schedule and the group's progress
//     commit together. It never talks to a server. A message event it
//     cannot handle ends its message FAILED (R35).
//   - The delivery workers take due messages from the schedule — claimed
//     with FOR UPDATE SKIP LOCKED on PostgreSQL, through the single writer
//     on SQLite, by a lease in saga_leases whose upsert decides — and make
//     one attempt each:
//     beginAttempt re-resolves and records DeliveryAttempted (asserting the
//     configuration it read is unchanged) before the server is contacted,
//     and recordOutcome records the answer.
//
// Both tables are this package's alone. The resolver alone writes
// saga_schedule (and RetryParked, holding the group's offset as a batch of
// the resolver does) and the workers alone write saga_leases, so that the
// resolver's transaction (repeatable read on PostgreSQL) never meets a row
// a worker changed meanwhile.
//
// Crash safety: an attempt is recorded before it is made, and the schedule
// makes an attempt without outcome due again after AttemptTimeout
// (message.AttemptTimeout by default); the next attempt then records the
// unknown outcome as an interrupted (temporary) failure first. So a
// message is never sent twice without a recorded attempt in between, and
// after a restart every unfinished message resumes.
package saga

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/telemetry"
	"github.com/absender/absender/transport"
)

// ConsumerGroup is the resolver's consumer group.
const ConsumerGroup = "saga"

// Sender sends one message through server settings (transport.Transport).
type Sender interface {
	Send(ctx context.Context, s domain.ServerSettings, creds transport.Credentials, m transport.Message) (transport.Result, error)
}

// Options configure a Saga.
type Options struct {
	// App is the command side's port (app.NewSagaPort).
	App App
	// Store is the event store the saga reads and appends message events
	// with; DB is the database of its schedule (the same database).
	Store  *eventstore.Store
	DB     *database.DB
	Sender Sender
	Log    *slog.Logger
	// Workers is the number of concurrent deliveries (default 8).
	Workers int
	// Poll is the longest pause between looks for due messages (default 1 s);
	// appends in this process wake the workers at once.
	Poll time.Duration
	// Sweep is the interval of the retention sweep (R25, default 1 min).
	Sweep time.Duration
	// Now is the clock (default time.Now); it must agree with the app's.
	Now func() time.Time
	// AttemptTimeout is how long an attempt may stay without outcome
	// before another worker counts it as interrupted (default
	// message.AttemptTimeout); the schedule makes it due then.
	AttemptTimeout time.Duration
	// BeforeSend, when set, runs after an attempt was recorded and before
	// the server is contacted; an error abandons the attempt without an
	// outcome, as a crash at that moment would. For fault-injection tests.
	BeforeSend func(ctx context.Context, d *Delivery) error
}

// Saga runs the resolver and the delivery workers.
type Saga struct {
	opt   Options
	hints chan due
	// commits group-commits the workers' attempts and outcomes.
	commits *committer
}

// due is a message to attempt, with the trace context of the request that
// queued it and the revision of its schedule row a claim leased (0 for a
// hint, which leases nothing).
type due struct {
	id          string
	rev         int64
	traceParent string
}

// Due tells the workers of this process that a message is due now (it was
// just queued with its resolution), so it is attempted without waiting for
// the resolver to schedule it. Hints are best effort: when many are
// pending, the schedule finds the message instead. Attempting a message twice
// at once is harmless: the second finds the first's attempt recorded.
// traceParent is the queueing request's W3C trace context.
func (s *Saga) Due(messageID, traceParent string) {
	select {
	case s.hints <- due{id: messageID, traceParent: traceParent}:
	default:
	}
}

// Validate reports every missing or bad option; a zero count or duration
// takes its default, a negative one is refused.
func (o Options) Validate() error {
	var errs []error
	if o.App == nil {
		errs = append(errs, errors.New("saga: App is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("saga: Store is required"))
	}
	if o.DB == nil {
		errs = append(errs, errors.New("saga: DB is required"))
	}
	if o.Sender == nil {
		errs = append(errs, errors.New("saga: Sender is required"))
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("saga: Workers %d must not be negative", o.Workers))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"Poll", o.Poll}, {"Sweep", o.Sweep}, {"AttemptTimeout", o.AttemptTimeout}} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("saga: %s %s must not be negative", d.name, d.d))
		}
	}
	return errors.Join(errs...)
}

// New returns a Saga; App, Store, DB and Sender are required (Validate).
func New(opt Options) (*Saga, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	return &Saga{opt: opt.withDefaults(), hints: make(chan due, 1024), commits: &committer{store: opt.Store}}, nil
}

// withDefaults fills in the defaults of zero options.
func (opt Options) withDefaults() Options {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Workers <= 0 {
		opt.Workers = 8
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Sweep <= 0 {
		opt.Sweep = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.AttemptTimeout <= 0 {
		opt.AttemptTimeout = message.AttemptTimeout
	}
	return opt
}

// Run resolves and delivers until ctx ends; deliveries under way finish
// (each within the transport's send timeout) before it returns. running
// is closed once the resolver consumes. It returns nil: a resolver that
// fails pauses and tries again (runResolver), as the projections do, and
// the workers and the sweep stop only when ctx ends.
func (s *Saga) Run(ctx context.Context, running chan<- struct{}) error {
	// The first part to stop stops the others: a saga without its
	// resolver is not one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	resolving := make(chan struct{})
	wg.Add(3)
	go func() { defer wg.Done(); s.runResolver(ctx, resolving); cancel() }()
	go func() { defer wg.Done(); s.deliver(ctx); cancel() }()
	go func() { defer wg.Done(); s.sweep(ctx); cancel() }()
	select {
	case <-resolving:
		if running != nil {
			close(running)
		}
	case <-ctx.Done():
	}
	wg.Wait()
	return nil
}

// recoverer turns a panic of the resolver into an error that does not
// copy the panic's value (eventstore.ParkError withholds it).
func recoverer(h wmessage.HandlerFunc) wmessage.HandlerFunc {
	return func(msg *wmessage.Message) (out []*wmessage.Message, err error) {
		defer func() {
			if v := recover(); v != nil {
				err = &eventstore.PanicError{Where: "saga resolver", Value: v}
			}
		}()
		return h(msg)
	}
}

// ignored are the event types of message streams the resolver skips
// (Ignores).
var ignored = Ignores()

// ignoredEvent reports whether the resolver skips rec (Ignores).
func ignoredEvent(rec eventstore.Record) bool { return ignored[rec.Name()] != "" }

// consume handles one event: a MessageQueued gets its resolution, and
// every message event sets the message's schedule from its state, in the
// consumer's transaction. Events of other streams, and those Ignores
// names, are skipped before they are decoded, so none of them can stop
// the resolver.
func (s *Saga) consume(msg *wmessage.Message) error {
	raw, err := s.opt.Store.DecodeRaw(msg)
	if err != nil {
		return err
	}
	if raw.StreamType != string(message.StreamKind) || ignoredEvent(raw) {
		return nil
	}
	rec, err := s.opt.Store.Decode(msg)
	if err != nil {
		return err
	}
	return eventstore.Handle(msg.Context(), func(tx *sqlTx) error { return s.apply(msg.Context(), tx, rec) })
}

// messageID is the id of the message whose stream is streamID.
func messageID(streamID string) (string, bool) {
	return strings.CutPrefix(streamID, string(message.StreamKind)+"-")
}

// apply applies one message event in tx: on MessageQueued the resolver's
// step, and on every one the schedule, set from the message's stream as
// it stands (scheduleState), so that the events' order — a parked event
// retried after later ones (R35) — does not matter.
func (s *Saga) apply(ctx context.Context, tx *sqlTx, rec eventstore.Record) (err error) {
	q, ok := rec.Event.(message.MessageQueued)
	if !ok {
		id, ok := messageID(rec.StreamID)
		if !ok {
			return fmt.Errorf("saga: %s in stream %s, not a message's", rec.Name(), rec.StreamID)
		}
		m, recs, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		return s.scheduleState(ctx, tx, &m, recs)
	}
	ctx, span := telemetry.Tracer().Start(telemetry.WithTraceParent(ctx, rec.Metadata.TraceParent), "saga.resolver",
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attribute.String("absender.message_id", q.MessageID)))
	defer func() { telemetry.End(span, err) }()
	ctx = s.opt.App.WithActor(ctx, principal, rec.Metadata.TenantID, rec.Metadata.CorrelationID)
	var m message.State
	var recs []eventstore.Record
	if err := s.step(ctx, stepResolveMessage, func(ctx context.Context) (err error) {
		m, recs, err = s.resolveQueued(ctx, tx, q.MessageID)
		return err
	}); err != nil {
		return err
	}
	return s.scheduleState(ctx, tx, &m, recs)
}

// FailedReason is the reason of a message the resolver could not handle
// (R35: the saga does not park a message, it ends it FAILED).
var FailedReason = string(domain.CodeInternal) + ": internal error while resolving the transport"

// UnappliedReason is the reason of a message one of whose later events
// the resolver could not apply to the schedule (R35).
var UnappliedReason = string(domain.CodeInternal) + ": internal error while scheduling the message"

// poison takes an event the resolver failed on eventstore.ParkAfter times
// with errors that are not transient (R35). The message of any message
// event ends FAILED with an INTERNAL reason (FailedReason for its
// MessageQueued, UnappliedReason for a later one); an event whose message
// cannot be ended so (its stream cannot even be read) is parked for the
// saga's group. Either way the resolver goes on. A transient error is
// returned: the event is tried again. On PostgreSQL the MessageFailed
// commits at once, before the group's progress (failMessage says why); a
// redelivered event then finds the message FAILED and records nothing.
func (s *Saga) poison(h wmessage.HandlerFunc) wmessage.HandlerFunc {
	return func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		out, err := h(msg)
		if err == nil || eventstore.Transient(err) {
			return out, err
		}
		raw, decErr := s.opt.Store.DecodeRaw(msg)
		id, ok := messageID(raw.StreamID)
		if decErr == nil && ok && raw.StreamType == string(message.StreamKind) {
			reason := UnappliedReason
			if raw.Type == queuedType {
				reason = FailedReason
			}
			ctx := s.opt.App.WithActor(telemetry.WithTraceParent(msg.Context(), raw.Metadata.TraceParent), principal,
				raw.Metadata.TenantID, raw.Metadata.CorrelationID)
			s.opt.Log.ErrorContext(ctx, "saga: a message event cannot be handled; the message fails", "message", id,
				"event_type", raw.Name(), "error", eventstore.ParkError(err))
			failErr := eventstore.Handle(msg.Context(), func(tx *sqlTx) error {
				return s.step(ctx, stepFailMessage, func(ctx context.Context) error {
					return s.failMessage(ctx, tx, id, &failure{reason, err})
				})
			})
			if failErr == nil {
				return nil, nil
			}
			if eventstore.Transient(failErr) {
				return nil, errors.Join(err, failErr)
			}
			err = errors.Join(err, failErr)
		}
		return nil, s.park(msg, err)
	}
}

// queuedType is the event type of MessageQueued, unversioned.
var queuedType = func() string {
	typ, _, _ := eventstore.SplitName(message.MessageQueued{}.EventName())
	return typ
}()

// park parks the event of msg for the saga's group.
func (s *Saga) park(msg *wmessage.Message, cause error) error {
	rec, err := s.opt.Store.DecodeRaw(msg)
	if err != nil {
		rec = eventstore.Record{ID: msg.UUID, Type: "unreadable"}
	}
	parking, err := s.opt.Store.Parking(msg.Context(), ConsumerGroup)
	if err != nil {
		return errors.Join(cause, err)
	}
	if err := parking.Park(msg.Context(), rec, cause); err != nil {
		return errors.Join(cause, err)
	}
	s.opt.Log.ErrorContext(telemetry.WithTraceParent(msg.Context(), rec.Metadata.TraceParent), "saga: event parked (R35); the resolver goes on",
		"event_type", rec.Name(), "position", rec.Position.String(), "stream_id", rec.StreamID, "error", eventstore.ParkError(cause))
	return nil
}

// sweep erases content past its retention (R25) and drops the leases
// of finished messages.
func (s *Saga) sweep(ctx context.Context) {
	t := time.NewTicker(s.opt.Sweep)
	defer t.Stop()
	for {
		var n int
		if err := s.step(ctx, stepPurgeExpiredContent, func(ctx context.Context) (err error) {
			n, err = s.opt.App.PurgeExpired(ctx, 500)
			return err
		}); err != nil && ctx.Err() == nil {
			s.opt.Log.ErrorContext(ctx, "saga: retention sweep failed", "error", err)
		} else if n > 0 {
			s.opt.Log.InfoContext(ctx, "saga: message content purged after retention", "messages", n)
		}
		if err := s.dropEndedLeases(ctx); err != nil && ctx.Err() == nil {
			s.opt.Log.ErrorContext(ctx, "saga: dropping the leases of finished messages failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
