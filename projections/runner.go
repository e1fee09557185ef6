// Package projections builds the read models from the event log. Each
// projection is a watermill-sql consumer group (see eventstore.NewSubscriber)
// whose handler writes through the consumer's transaction: the read-model
// change and the group's offset commit together, and a handler that fails
// leaves nothing behind (a savepoint per event). Handlers are idempotent
// too (upserts and deletes keyed by ids), so a redelivered event changes
// nothing.
package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/telemetry"
)

// Projection is one read model.
type Projection interface {
	// Name is the consumer group, stable across versions.
	Name() string
	// Apply applies one event inside the consumer transaction. Events of
	// types it does not handle are ignored.
	Apply(ctx context.Context, tx Tx, rec eventstore.Record) error
}

// Selective is a projection that says which events it applies; the
// runner skips the others without a savepoint round trip.
type Selective interface {
	Handles(rec eventstore.Record) bool
}

// Tx runs bun-formatted queries (? placeholders, both dialects) on the
// consumer transaction.
type Tx struct {
	db   bun.IDB // formats queries: the read models' database, or the transaction itself
	conn *sql.Tx
	// batch, when set, collects statements and sends many in one round
	// trip (a rebuild); a Scan sends what is pending first.
	batch *batch
}

type batch struct {
	gen schema.QueryGen
	sql strings.Builder
	// fields is the audit projection's memory of stream fields during a
	// rebuild from empty tables, so it need not read them back.
	fields map[string]map[string]*string
	// stale names the streams whose memory was dropped when statements
	// were rolled back (a rebuild parking an event): their fields are
	// read back from the table once.
	stale map[string]bool
}

// forget drops what a batch remembers of a stream and what it has not
// sent yet: the statements were rolled back.
func (b *batch) forget(streamIDs ...string) {
	b.sql.Reset()
	for _, id := range streamIDs {
		delete(b.fields, id)
		b.stale[id] = true
	}
}

// NewTx wraps a transaction (for tests); db formats its queries (the
// database conn belongs to, or a bun.Tx of conn).
func NewTx(db bun.IDB, conn *sql.Tx) Tx { return Tx{db: db, conn: conn} }

// txOf wraps a transaction the event store opened (eventstore.InGroupTx,
// UnparkWith).
func txOf(tx bun.Tx) Tx { return Tx{db: tx, conn: tx.Tx} }

// newBatchTx wraps a transaction whose statements are sent in batches.
func newBatchTx(tx bun.Tx) Tx {
	return Tx{db: tx, conn: tx.Tx, batch: &batch{gen: schema.NewQueryGen(tx.Dialect()),
		fields: map[string]map[string]*string{}, stale: map[string]bool{}}}
}

// Exec runs a statement (or queues it, in a batch).
func (t Tx) Exec(ctx context.Context, query string, args ...any) error {
	if t.batch != nil {
		t.batch.sql.WriteString(t.batch.gen.FormatQuery(query, args...))
		t.batch.sql.WriteString(";\n")
		if t.batch.sql.Len() > 256<<10 {
			return t.Flush(ctx)
		}
		return nil
	}
	_, err := t.db.NewRaw(query, args...).Conn(t.conn).Exec(ctx)
	return err
}

// Flush sends the queued statements of a batch.
func (t Tx) Flush(ctx context.Context) error {
	if t.batch == nil || t.batch.sql.Len() == 0 {
		return nil
	}
	_, err := t.conn.ExecContext(ctx, t.batch.sql.String())
	t.batch.sql.Reset()
	return err
}

// Scan runs a query and scans its rows into dest (as bun's Scan does).
func (t Tx) Scan(ctx context.Context, dest any, query string, args ...any) error {
	if err := t.Flush(ctx); err != nil {
		return err
	}
	return t.db.NewRaw(query, args...).Conn(t.conn).Scan(ctx, dest)
}

// Preparer is a projection that readies its tables before it consumes,
// e.g. fills in Go a column a migration added (Directory's sort keys). A
// failure pauses the projection as a transient one does.
type Preparer interface {
	Prepare(ctx context.Context, db *bun.DB) error
}

// Runner runs projections as consumer groups.
type Runner struct {
	store       *eventstore.Store
	db          *database.DB // the read models' tables
	projections []Projection
	log         *slog.Logger
	poll        time.Duration
}

// NewRunner returns a runner for the given projections, whose tables are
// in db (the event store's database: their changes commit with the
// consumer groups' offsets).
func NewRunner(store *eventstore.Store, db *database.DB, log *slog.Logger, ps ...Projection) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{store: store, db: db, projections: ps, log: log, poll: time.Second}
}

// Groups names the consumer groups, for waiting on them.
func (r *Runner) Groups() []string {
	out := make([]string, len(r.projections))
	for i, p := range r.projections {
		out[i] = p.Name()
	}
	return out
}

// WaitFor returns once every projection has applied the event at pos
// (read-your-writes), or with ctx's error.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	return r.store.WaitFor(ctx, pos, r.Groups()...)
}

// Run consumes until ctx ends; running is closed once every projection
// has subscribed.
//
// Each projection consumes in sessions: a session reads batches in one
// transaction each and applies every event in a savepoint, trying a
// failing event up to eventstore.ParkAfter times. An event that keeps
// failing with an error that is not transient is parked (R35), with every
// later event of its stream, and the session goes on. On a transient
// error (a lost connection) the session ends — the subscriber closes,
// committing what was applied, so no transaction stays open — and the
// projection pauses outside any transaction (50 ms, doubling to 30 s)
// before it tries again from the failed event. A transaction held open
// around a failing event would stop every other writer on SQLite and hold
// back every consumer on PostgreSQL.
func (r *Runner) Run(ctx context.Context, running chan<- struct{}) error {
	logger := watermill.NewSlogLoggerWithLevelMapping(r.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	db := r.db.Write
	var wg sync.WaitGroup
	started := make(chan struct{}, len(r.projections))
	for _, p := range r.projections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.consume(ctx, db, p, logger, started)
		}()
	}
	for range r.projections {
		select {
		case <-started:
		case <-ctx.Done():
		}
	}
	if running != nil {
		close(running)
	}
	wg.Wait()
	return nil
}

func (r *Runner) consume(ctx context.Context, db *bun.DB, p Projection, logger watermill.LoggerAdapter, started chan<- struct{}) {
	failures := 0
	first := true
	prep, prepare := p.(Preparer)
	for ctx.Err() == nil {
		var applied int
		var err error
		if prepare {
			if err = prep.Prepare(ctx, db); err == nil {
				prepare = false
			}
		}
		if !prepare {
			applied, err = r.session(ctx, db, p, logger, func() {
				if first {
					first = false
					started <- struct{}{}
				}
			})
		}
		if ctx.Err() != nil {
			return
		}
		if applied > 0 {
			failures = 0
		}
		failures++
		wait := min(50*time.Millisecond<<min(failures-1, 20), 30*time.Second)
		r.log.Error("projection paused at a transient failure; it tries again", "projection", p.Name(), "err", err, "failures", failures, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// session consumes until an event fails transiently (its error) or ctx
// ends. An event that fails for good is parked (R35) and the session goes
// on.
func (r *Runner) session(ctx context.Context, db *bun.DB, p Projection, logger watermill.LoggerAdapter, subscribed func()) (int, error) {
	parking, err := r.store.Parking(ctx, p.Name())
	if err != nil {
		return 0, err
	}
	sub, err := r.store.NewSubscriber(eventstore.SubscriberOptions{ConsumerGroup: p.Name(), PollInterval: r.poll, Logger: logger})
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
		_ = sub.Close() // commits what was acked, ends the transaction
		for range msgs {
		}
	}()
	applied := 0
	for {
		select {
		case <-ctx.Done():
			return applied, nil
		case msg, ok := <-msgs:
			if !ok {
				return applied, errors.New("subscription ended")
			}
			if err := r.consumeOne(msg, db, p, parking); err != nil {
				return applied, err
			}
			msg.Ack()
			applied++
		}
	}
}

// consumeOne applies one event, or parks it (R35): when an earlier event
// of its stream is parked, or when it fails eventstore.ParkAfter times in
// a row with errors that are not transient. A transient error is
// returned: the session ends and the projection pauses.
func (r *Runner) consumeOne(msg *message.Message, db *bun.DB, p Projection, parking *eventstore.Parking) error {
	rec, err := r.store.DecodeRaw(msg)
	if err != nil {
		// Not even the stream columns: park it on its own.
		rec = eventstore.Record{ID: msg.UUID, Type: "unreadable"}
		return r.park(msg, p, parking, rec, fmt.Errorf("projection %s: %w", p.Name(), err))
	}
	if sel, ok := p.(Selective); ok && !sel.Handles(rec) {
		return nil // no savepoint, no span for an event the projection ignores
	}
	blocked, err := parking.Blocked(msg.Context(), rec.StreamID)
	if err != nil {
		return err
	}
	if blocked {
		return r.park(msg, p, parking, rec, eventstore.ErrBehindParked)
	}
	err = r.applyWithRetries(msg, db, p)
	if err == nil || eventstore.Transient(err) {
		return err
	}
	return r.park(msg, p, parking, rec, err)
}

func (r *Runner) park(msg *message.Message, p Projection, parking *eventstore.Parking, rec eventstore.Record, cause error) error {
	if err := parking.Park(msg.Context(), rec, cause); err != nil {
		return err
	}
	r.log.Error("projection parked an event; it goes on with other streams (R35)", "projection", p.Name(),
		"event_type", rec.Name(), "position", rec.Position.String(), "stream_id", rec.StreamID, "err", eventstore.ParkError(cause))
	return nil
}

// applyWithRetries applies one event, up to eventstore.ParkAfter times (50,
// 100 ms apart) while it fails with errors that are not transient; a
// panic counts as such a failure.
func (r *Runner) applyWithRetries(msg *message.Message, db *bun.DB, p Projection) error {
	var err error
	for attempt := range eventstore.ParkAfter {
		if attempt > 0 {
			time.Sleep(50 * time.Millisecond << (attempt - 1))
		}
		if err = r.apply(msg, db, p); err == nil || eventstore.Transient(err) {
			return err
		}
	}
	return err
}

func (r *Runner) apply(msg *message.Message, db *bun.DB, p Projection) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "projection " + p.Name(), Value: v}
		}
	}()
	return r.handler(db, p)(msg)
}

// ErrNotFound is returned by read-model lookups that find nothing.
var ErrNotFound = errors.New("projections: not found")

func (r *Runner) handler(db *bun.DB, p Projection) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		rec, err := r.store.Decode(msg)
		if err != nil {
			return fmt.Errorf("projection %s: %w", p.Name(), err)
		}
		if rec.Event == nil {
			return nil // a type this version does not know: skip it
		}
		// The event's trace continues here: one span per projection and
		// event, a child of the span that appended it.
		ctx, span := telemetry.Tracer().Start(telemetry.WithTraceParent(msg.Context(), rec.Metadata.TraceParent),
			"projection "+p.Name(), trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("absender.event_type", rec.Name()), attribute.String("absender.stream_id", rec.StreamID)))
		defer func() { telemetry.End(span, err) }() // also when Apply panics
		err = eventstore.Handle(msg.Context(), func(tx *sql.Tx) error {
			return p.Apply(ctx, Tx{db: db, conn: tx}, rec)
		})
		if err != nil {
			return fmt.Errorf("projection %s: %s at %s: %w", p.Name(), rec.Name(), rec.Position, err)
		}
		return nil
	}
}
