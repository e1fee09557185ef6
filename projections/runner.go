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
	"slices"
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
	// live is a live consumer's batch: its tables did not start empty, so
	// the audit projection reads a stream's fields once before it
	// remembers them: at the first read, it reads the fields of every
	// stream of the batch (streams) in one query.
	live    bool
	streams func() []string
	sql     strings.Builder
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
	remove := func() {}
	defer func() { remove() }()
	for ctx.Err() == nil {
		var applied int
		var err error
		if prepare {
			if err = prep.Prepare(ctx, db); err == nil {
				prepare = false
			}
		}
		if !prepare {
			if first {
				// Once its tables are ready, appends apply to the
				// projection in their own transactions while it is
				// caught up (SQLite, eventstore.Store.Inline).
				remove = r.store.Inline(p.Name(), r.inlineApply(p))
			}
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
//
// Events come in watermill-sql's batches (eventstore.Batches): the
// events of a batch are applied together, their statements queued and
// sent in few round trips behind one savepoint, and sent before the
// batch's last event is acked, so they commit with the group's offset.
// When anything fails in a batch (a statement, a decode, a panic, an
// event behind a parked one), the batch is rolled back to its savepoint
// and applied again event by event (consumeOne: a savepoint per event,
// retries, parking), which finds the failing event; the next batch is
// applied together again.
func (r *Runner) session(ctx context.Context, db *bun.DB, p Projection, logger watermill.LoggerAdapter, subscribed func()) (int, error) {
	parking, err := r.store.Parking(ctx, p.Name())
	if err != nil {
		return 0, err
	}
	sub, batches, err := r.store.NewBatchSubscriber(eventstore.SubscriberOptions{ConsumerGroup: p.Name(), PollInterval: r.poll, Logger: logger})
	if err != nil {
		return 0, err
	}
	msgs, err := sub.Subscribe(context.WithoutCancel(ctx), eventstore.Topic)
	if err != nil {
		_ = sub.Close()
		return 0, err
	}
	subscribed()
	var cur *liveBatch
	defer func() {
		cur.end(nil)
		// Commits what was applied and acked; an acked event whose
		// statements were not sent yet makes the ack refuse (the batch
		// rolls back, see eventstore.Batches).
		_ = sub.Close()
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
			i, n := batches.Index(msg), batches.Len()
			if i <= 0 || cur == nil {
				cur.end(nil)
				cur = &liveBatch{size: n, alone: i < 0, streams: batches.Streams}
			}
			last := i < 0 || i == n-1
			if err := r.consumeBatched(msg, db, p, parking, cur, last); err != nil {
				cur.end(err)
				cur = nil
				return applied, err
			}
			if last {
				batches.Applied(msg)
				cur.end(nil)
				cur = nil
			}
			msg.Ack()
			applied++
		}
	}
}

// liveBatch is the batch a session is applying.
type liveBatch struct {
	size    int
	streams func() []string    // the batch's streams (eventstore.Batches.Streams)
	msgs    []*message.Message // the events received so far
	tx      Tx                 // queues the batch's statements
	open    bool               // the batch savepoint is taken
	alone   bool               // the batch goes event by event
	// span is the batch's: a child of the span that appended its first
	// applied event (whose type and stream it names), linked to the spans
	// that appended the others; absender.events counts the applied events.
	// A batch that goes event by event ends it with absender.one_by_one and
	// gives each event its own span (handle) as before.
	span  trace.Span
	count int
}

func (b *liveBatch) end(err error) {
	if b == nil || b.span == nil {
		return
	}
	b.span.SetAttributes(attribute.Int("absender.events", b.count), attribute.Bool("absender.one_by_one", b.alone))
	telemetry.End(b.span, err)
	b.span = nil
}

// errBlocked sends a batch with an event behind a parked one event by
// event, where it is parked.
var errBlocked = errors.New("an earlier event of the stream is parked")

// consumeBatched applies msg as part of its batch; the batch's last event
// sends its statements. On a failure that is not transient the batch goes
// event by event from its start.
func (r *Runner) consumeBatched(msg *message.Message, db *bun.DB, p Projection, parking *eventstore.Parking, cur *liveBatch, last bool) error {
	ctx := msg.Context() // the live message's: earlier ones' end with their ack
	cur.msgs = append(cur.msgs, msg)
	if !cur.alone {
		err := r.queue(ctx, db, p, parking, cur, msg)
		if err == nil && last && cur.open {
			if err = cur.tx.Flush(ctx); err == nil {
				err = eventstore.EndBatch(ctx)
				cur.open = false
			}
		}
		if err == nil || eventstore.Transient(err) {
			return err
		}
		if cur.open {
			if err := eventstore.UndoBatch(ctx); err != nil {
				return err
			}
			cur.open = false
		}
		if cur.tx.batch != nil {
			cur.tx.batch.sql.Reset()
		}
		cur.alone = true
		if cur.span != nil {
			cur.span.AddEvent("applied again event by event", trace.WithAttributes(attribute.String("absender.cause", eventstore.ParkError(err))))
		}
		for _, m := range cur.msgs[:len(cur.msgs)-1] {
			if err := r.consumeOne(ctx, m, db, p, parking); err != nil {
				return err
			}
		}
	}
	return r.consumeOne(ctx, msg, db, p, parking)
}

// queue applies one event of a batch with its statements queued.
func (r *Runner) queue(ctx context.Context, db *bun.DB, p Projection, parking *eventstore.Parking, cur *liveBatch, msg *message.Message) (err error) {
	rec, err := r.store.DecodeRaw(msg)
	if err != nil {
		return err
	}
	if sel, ok := p.(Selective); ok && !sel.Handles(rec) {
		return nil
	}
	blocked, err := parking.Blocked(ctx, rec.StreamID)
	if err != nil {
		return err
	}
	if blocked {
		return errBlocked
	}
	if err := r.store.DecodeEvent(&rec); err != nil {
		return err
	}
	if rec.Event == nil {
		return nil // a type this version does not know: skip it
	}
	if !cur.open {
		conn, err := eventstore.ConsumerTx(ctx)
		if err != nil {
			return err
		}
		if err := eventstore.BeginBatch(ctx); err != nil {
			return err
		}
		cur.open = true
		if cur.tx.batch == nil {
			cur.tx = Tx{db: db, conn: conn, batch: &batch{gen: schema.NewQueryGen(db.Dialect()), live: true, streams: cur.streams,
				fields: map[string]map[string]*string{}, stale: map[string]bool{}}}
		}
	}
	if cur.span == nil {
		// Named as an event's span: a batch of one is one event's span.
		_, cur.span = telemetry.Tracer().Start(telemetry.WithTraceParent(context.WithoutCancel(ctx), rec.Metadata.TraceParent),
			"projection "+p.Name(), trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.Int("absender.batch_size", cur.size),
				attribute.String("absender.event_type", rec.Name()), attribute.String("absender.stream_id", rec.StreamID)))
	} else if link, ok := telemetry.LinkTo(rec.Metadata.TraceParent); ok {
		cur.span.AddLink(link)
	}
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "projection " + p.Name(), Value: v}
		}
	}()
	if err := p.Apply(trace.ContextWithSpan(ctx, cur.span), cur.tx, rec); err != nil {
		return fmt.Errorf("projection %s: %s at %s: %w", p.Name(), rec.Name(), rec.Position, err)
	}
	cur.count++
	return nil
}

// consumeOne applies one event, or parks it (R35): when an earlier event
// of its stream is parked, or when it fails eventstore.ParkAfter times in
// a row with errors that are not transient. A transient error is
// returned: the session ends and the projection pauses. ctx carries the
// consumer transaction.
func (r *Runner) consumeOne(ctx context.Context, msg *message.Message, db *bun.DB, p Projection, parking *eventstore.Parking) error {
	rec, err := r.store.DecodeRaw(msg)
	if err != nil {
		// Not even the stream columns: park it on its own.
		rec = eventstore.Record{ID: msg.UUID, Type: "unreadable"}
		return r.park(ctx, p, parking, rec, fmt.Errorf("projection %s: %w", p.Name(), err))
	}
	if sel, ok := p.(Selective); ok && !sel.Handles(rec) {
		return nil // no savepoint, no span for an event the projection ignores
	}
	blocked, err := parking.Blocked(ctx, rec.StreamID)
	if err != nil {
		return err
	}
	if blocked {
		return r.park(ctx, p, parking, rec, eventstore.ErrBehindParked)
	}
	err = r.applyWithRetries(ctx, msg, db, p)
	if err == nil || eventstore.Transient(err) {
		return err
	}
	return r.park(ctx, p, parking, rec, err)
}

func (r *Runner) park(ctx context.Context, p Projection, parking *eventstore.Parking, rec eventstore.Record, cause error) error {
	if err := parking.Park(ctx, rec, cause); err != nil {
		return err
	}
	r.log.Error("projection parked an event; it goes on with other streams (R35)", "projection", p.Name(),
		"event_type", rec.Name(), "position", rec.Position.String(), "stream_id", rec.StreamID, "err", eventstore.ParkError(cause))
	return nil
}

// applyWithRetries applies one event, up to eventstore.ParkAfter times (50,
// 100 ms apart) while it fails with errors that are not transient; a
// panic counts as such a failure.
func (r *Runner) applyWithRetries(ctx context.Context, msg *message.Message, db *bun.DB, p Projection) error {
	var err error
	for attempt := range eventstore.ParkAfter {
		if attempt > 0 {
			time.Sleep(50 * time.Millisecond << (attempt - 1))
		}
		if err = r.apply(ctx, msg, db, p); err == nil || eventstore.Transient(err) {
			return err
		}
	}
	return err
}

func (r *Runner) apply(ctx context.Context, msg *message.Message, db *bun.DB, p Projection) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "projection " + p.Name(), Value: v}
		}
	}()
	return r.handle(ctx, msg, db, p)
}

// ErrNotFound is returned by read-model lookups that find nothing.
var ErrNotFound = errors.New("projections: not found")

// handle applies one event in a savepoint of its own, in a span of its
// own (a child of the span that appended it).
func (r *Runner) handle(ctx context.Context, msg *message.Message, db *bun.DB, p Projection) (err error) {
	rec, err := r.store.Decode(msg)
	if err != nil {
		return fmt.Errorf("projection %s: %w", p.Name(), err)
	}
	if rec.Event == nil {
		return nil // a type this version does not know: skip it
	}
	sctx, span := telemetry.Tracer().Start(telemetry.WithTraceParent(ctx, rec.Metadata.TraceParent),
		"projection "+p.Name(), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("absender.event_type", rec.Name()), attribute.String("absender.stream_id", rec.StreamID)))
	defer func() { telemetry.End(span, err) }() // also when Apply panics
	err = eventstore.Handle(ctx, func(tx *sql.Tx) error {
		return p.Apply(sctx, Tx{db: db, conn: tx}, rec)
	})
	if err != nil {
		return fmt.Errorf("projection %s: %s at %s: %w", p.Name(), rec.Name(), rec.Position, err)
	}
	return nil
}

// inlineApply applies an append's events to p inside the append's
// transaction (eventstore.Store.Inline), as a live batch would: the
// events it handles, their statements queued and sent together. An error
// or a panic leaves the events to the consumer (the store rolls back to
// its savepoint), which applies or parks them (R35).
func (r *Runner) inlineApply(p Projection) eventstore.InlineApply {
	sel, selective := p.(Selective)
	return func(ctx context.Context, tx bun.Tx, recs []eventstore.Record) error {
		t := Tx{db: tx, conn: tx.Tx, batch: &batch{gen: schema.NewQueryGen(tx.Dialect()), live: true,
			streams: func() []string {
				out := make([]string, 0, len(recs))
				for _, rec := range recs {
					if !slices.Contains(out, rec.StreamID) {
						out = append(out, rec.StreamID)
					}
				}
				return out
			},
			fields: map[string]map[string]*string{}, stale: map[string]bool{}}}
		for _, rec := range recs {
			if rec.Event == nil || (selective && !sel.Handles(rec)) {
				continue
			}
			if err := p.Apply(ctx, t, rec); err != nil {
				return fmt.Errorf("projection %s: %s at %s: %w", p.Name(), rec.Name(), rec.Position, err)
			}
		}
		return t.Flush(ctx)
	}
}
