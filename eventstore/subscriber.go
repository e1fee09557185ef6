package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"

	"github.com/absender/absender/database"
)

// SubscriberOptions configure a consumer group.
type SubscriberOptions struct {
	// ConsumerGroup names the consumer; its position is stored under this
	// name. Required.
	ConsumerGroup string
	// PollInterval is the fallback when no wake-up arrives (default 1s).
	PollInterval time.Duration
	// RetryInterval is the pause after a failing batch (default 1s).
	RetryInterval time.Duration
	// AckDeadline bounds one event's handling (default 30s).
	AckDeadline time.Duration
	Logger      watermill.LoggerAdapter
}

// Validate names every missing or bad option; zero durations take their
// defaults, negative ones are refused.
func (o SubscriberOptions) Validate() error {
	var errs []error
	if o.ConsumerGroup == "" {
		errs = append(errs, errors.New("eventstore: ConsumerGroup is required"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PollInterval", o.PollInterval}, {"RetryInterval", o.RetryInterval}, {"AckDeadline", o.AckDeadline}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("eventstore: %s %s must not be negative", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

// NewSubscriber returns a watermill-sql subscriber of the events topic for
// one consumer group. Every batch of events is handled in one transaction
// that also advances the group's offset; a handler writes its read-model
// change through wsql.TxFromContext(msg.Context()) (or Handle) so the change
// and the offset commit together. A nacked event is delivered again in the
// same transaction, so handlers either write idempotently or use Handle,
// which rolls their writes back to a savepoint on error (watermill#224).
func (s *Store) NewSubscriber(opt SubscriberOptions) (*wsql.Subscriber, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	return s.newSubscriber(opt, stmtBeginner{Beginner: wsql.BeginnerFromStdSQL(s.db.Write.DB), s: s}, s.schema, s.offsets)
}

func (s *Store) newSubscriber(opt SubscriberOptions, db wsql.Beginner, schema wsql.SchemaAdapter, offsets wsql.OffsetsAdapter) (*wsql.Subscriber, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = time.Second
	}
	if opt.RetryInterval <= 0 {
		opt.RetryInterval = time.Second
	}
	if opt.AckDeadline <= 0 {
		opt.AckDeadline = 30 * time.Second
	}
	ack := opt.AckDeadline
	db = countBeginner{Beginner: db, n: &s.consumerTxs}
	wake := s.consumerWake()
	backoff := &wakeBackoff{store: s, wake: wake, retry: opt.RetryInterval}
	backoff.probe = &probe{store: s, wake: wake, group: opt.ConsumerGroup, poll: opt.PollInterval, force: true}
	db = probeBeginner{Beginner: db, p: backoff.probe}
	return wsql.NewSubscriber(db, wsql.SubscriberConfig{
		ConsumerGroup:  opt.ConsumerGroup,
		AckDeadline:    &ack,
		PollInterval:   opt.PollInterval,
		ResendInterval: 10 * time.Millisecond,
		RetryInterval:  opt.RetryInterval,
		BackoffManager: backoff,
		SchemaAdapter:  schema,
		OffsetsAdapter: offsets,
	}, opt.Logger)
}

// countBeginner counts the consume loop's batch transactions (watermill
// passes their isolation level; Subscribe's own transaction has none).
type countBeginner struct {
	wsql.Beginner
	n *atomic.Int64
}

func (b countBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	if opts != nil {
		b.n.Add(1)
	}
	return b.Beginner.BeginTx(ctx, opts)
}

// wakeBackoff replaces watermill's fixed poll sleep. It does not sleep
// here: the next batch transaction begins only once probe (see
// probeBeginner) found work, and probe does the waiting. The subscriber
// calls HandleError right after each batch transaction ends, which is also
// when waiters for the group's position must look again.
type wakeBackoff struct {
	store    *Store
	wake     *signal // the consumers' wake-up (Store.consumerWake)
	retry    time.Duration
	failures atomic.Int32
	probe    *probe
	// txAppends is Store.txAppends as this consumer last saw it (SQLite).
	txAppends uint64
}

func (b *wakeBackoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	if errors.Is(err, errIdle) {
		return 0 // the probe found nothing and waited
	}
	if err != nil {
		n := b.failures.Add(1)
		if !errors.Is(err, context.Canceled) {
			logger.Error("event consumer batch failed", err, watermill.LogFields{"failures": n})
		}
		b.probe.force = true
		return b.retry * time.Duration(min(n, 30))
	}
	b.failures.Store(0)
	if !noMsg {
		// The batch may have stopped at its limit, before events this
		// process cannot place (another process's): look again.
		b.probe.force = true
	}
	if noMsg {
		b.probe.empty = true
		return 0
	}
	if b.store.db.Kind == database.Postgres {
		// A batch committed: wake position waiters and other consumers
		// (this transaction may have held back their snapshot horizon), in
		// this process and, through NOTIFY, in others (their read-model
		// caches must look again).
		b.store.Changed()
		return 0
	}
	// SQLite: wake the position waiters (Generation moves on). The other
	// consumers only if this batch may have appended (AppendSQLTx): a
	// commit that did not has nothing for them, and holds nobody back.
	b.store.changed.Broadcast()
	if n := b.store.txAppends.Load(); n != b.txAppends {
		b.txAppends = n
		b.store.wakeAll()
	}
	return 0
}

// Handle runs fn with the consumer transaction of msgCtx inside a
// savepoint: if fn fails, its writes are undone and the event can be
// redelivered in the same transaction without leaving anything behind.
func Handle(msgCtx context.Context, fn func(tx *sql.Tx) error) (err error) {
	std, err := consumerTx(msgCtx)
	if err != nil {
		return err
	}
	if _, err := std.ExecContext(msgCtx, "SAVEPOINT handler"); err != nil {
		return fmt.Errorf("eventstore: savepoint: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			// A panicking handler leaves nothing behind either.
			_, _ = std.ExecContext(msgCtx, "ROLLBACK TO SAVEPOINT handler")
			panic(v)
		}
	}()
	if err := fn(std); err != nil {
		if _, rbErr := std.ExecContext(msgCtx, "ROLLBACK TO SAVEPOINT handler"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("eventstore: rollback to savepoint: %w", rbErr))
		}
		return err
	}
	if _, err := std.ExecContext(msgCtx, "RELEASE SAVEPOINT handler"); err != nil {
		return fmt.Errorf("eventstore: release savepoint: %w", err)
	}
	return nil
}

// Checkpoint is the position a consumer group has committed (zero before
// its first batch).
func (s *Store) Checkpoint(ctx context.Context, group string) (Position, error) {
	var p Position
	var off sql.NullInt64
	var tx string
	err := s.db.Read.DB.QueryRowContext(ctx, rebind(s.db.Kind,
		`SELECT offset_acked, last_processed_transaction_id`+castText(s.db.Kind)+` FROM events_offsets WHERE consumer_group = ?`), group).
		Scan(&off, &tx)
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("eventstore: checkpoint of %s: %w", group, err)
	}
	p.Offset = off.Int64
	p.TxID, _ = strconv.ParseUint(tx, 10, 64)
	return p, nil
}

func castText(k database.Kind) string {
	if k == database.Postgres {
		return "::text"
	}
	return ""
}
