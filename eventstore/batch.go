package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// ErrUnapplied is the ack query's refusal when watermill would move a
// group past an acked event whose statements the consumer has not sent
// yet (see Batches). The batch's transaction rolls back.
var ErrUnapplied = errors.New("eventstore: the batch's acked events are not all applied")

// maxBatch bounds the batch of a consumer far behind (see Batches).
const maxBatch = 2000

// Batches is what a consumer learns of the batches watermill-sql reads for
// it, so it can apply a batch's events together and send their statements
// before the batch's last event is acked (NewBatchSubscriber):
//
//   - watermill reads every row of a batch before it hands out the first,
//     so once a consumer holds a message, Len and Index describe its batch;
//   - the consumer calls Applied(msg) before it acks msg once msg and every
//     earlier event of the batch are in the transaction (sent, not queued);
//   - watermill moves the group to the last acked event also when a batch
//     ends early (the subscriber closing, ctx cancelled). The group's ack
//     query refuses (ErrUnapplied: the transaction rolls back) unless every
//     event up to that one was Applied, so acked-but-unsent statements can
//     never be lost behind a moved offset;
//   - after the batch's transaction commits, the group's position is
//     published in memory (Store.WaitFor wakes on it without a query).
//
// A batch that filled its limit is followed by a larger one (up to
// maxBatch events), so a consumer far behind catches up in fewer, larger
// transactions; the first batch that is not full goes back to the store's
// BatchSize.
type Batches struct {
	store *Store
	group string
	base  int

	mu      sync.Mutex
	limit   int      // the current batch's size limit
	rows    []int64  // offsets of the current batch, in delivery order
	streams []string // their streams
	applied int      // how many of rows are applied
	pending *Position
}

// NewBatchSubscriber is NewSubscriber that tells the consumer about its
// batches (see Batches).
func (s *Store) NewBatchSubscriber(opt SubscriberOptions) (*wsql.Subscriber, *Batches, error) {
	if err := opt.Validate(); err != nil {
		return nil, nil, err
	}
	b := &Batches{store: s, group: opt.ConsumerGroup, base: batchSize(s.batchSize)}
	b.limit = b.base
	sub, err := s.newSubscriber(opt, batchBeginner{Beginner: wsql.BeginnerFromStdSQL(s.db.Write.DB), b: b},
		batchSchema{SchemaAdapter: s.schema, b: b}, batchOffsets{OffsetsAdapter: s.offsets, b: b})
	return sub, b, err
}

// Len is the number of events of the current batch.
func (b *Batches) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.rows)
}

// Index is msg's place in the current batch, or -1.
func (b *Batches) Index(msg *message.Message) int {
	off, err := strconv.ParseInt(msg.Metadata.Get(keyOffset), 10, 64)
	if err != nil {
		return -1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.index(off)
}

func (b *Batches) index(off int64) int {
	for i := b.applied; i < len(b.rows); i++ {
		if b.rows[i] == off {
			return i
		}
	}
	for i := range min(b.applied, len(b.rows)) {
		if b.rows[i] == off {
			return i
		}
	}
	return -1
}

// Applied records that msg and every earlier event of its batch are in
// the transaction: the group may move past them.
func (b *Batches) Applied(msg *message.Message) {
	off, err := strconv.ParseInt(msg.Metadata.Get(keyOffset), 10, 64)
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := b.index(off); i >= b.applied {
		b.applied = i + 1
	}
}

// begin starts a batch: its size follows the last one's.
func (b *Batches) begin() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.rows) >= b.limit {
		b.limit = min(b.limit*4, max(maxBatch, b.base))
	} else {
		b.limit = b.base
	}
	b.rows = b.rows[:0]
	b.streams = b.streams[:0]
	b.applied = 0
	return b.limit
}

func (b *Batches) add(r wsql.Row) {
	b.mu.Lock()
	b.rows = append(b.rows, r.Offset)
	b.streams = append(b.streams, r.Msg.Metadata.Get(keyStreamID))
	b.mu.Unlock()
}

// Streams names the streams of the current batch's events, each once, so
// a consumer can read what it needs of them in one query.
func (b *Batches) Streams() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := make(map[string]bool, len(b.streams))
	out := make([]string, 0, len(b.streams))
	for _, s := range b.streams {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// acking checks that the group may move to last and remembers it for the
// commit.
func (b *Batches) acking(last wsql.Row) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.index(last.Offset)
	if i < 0 || i >= b.applied {
		return fmt.Errorf("%w: consumer group %s, event at offset %d (%d of %d applied)", ErrUnapplied, b.group, last.Offset, b.applied, len(b.rows))
	}
	p := Position{Offset: last.Offset}
	if tx, ok := last.ExtraData["transaction_id"].(wsql.XID8); ok {
		p.TxID = uint64(tx)
	}
	b.pending = &p
	return nil
}

func (b *Batches) committed() {
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.mu.Unlock()
	if p != nil {
		b.store.positions.publish(b.group, *p)
	}
}

func (b *Batches) rolledBack() {
	b.mu.Lock()
	b.pending = nil
	b.mu.Unlock()
}

// batchSchema reads a batch of the size Batches says and counts its rows.
type batchSchema struct {
	wsql.SchemaAdapter
	b *Batches
}

// sizedSchema is a schema adapter whose batch size can change.
type sizedSchema interface {
	withBatch(n int) wsql.SchemaAdapter
}

func (s postgresSchema) withBatch(n int) wsql.SchemaAdapter { s.batch = n; return s }
func (s sqliteSchema) withBatch(n int) wsql.SchemaAdapter   { s.batch = n; return s }

func (s batchSchema) SelectQuery(p wsql.SelectQueryParams) (wsql.Query, error) {
	n := s.b.begin()
	inner := s.SchemaAdapter
	if sized, ok := inner.(sizedSchema); ok {
		inner = sized.withBatch(n)
	}
	return inner.SelectQuery(p)
}

func (s batchSchema) UnmarshalMessage(p wsql.UnmarshalMessageParams) (wsql.Row, error) {
	r, err := s.SchemaAdapter.UnmarshalMessage(p)
	if err == nil {
		s.b.add(r)
	}
	return r, err
}

// batchOffsets refuses to move the group past what was not applied.
type batchOffsets struct {
	wsql.OffsetsAdapter
	b *Batches
}

func (o batchOffsets) AckMessageQuery(p wsql.AckMessageQueryParams) (wsql.Query, error) {
	if err := o.b.acking(p.LastRow); err != nil {
		return wsql.Query{}, err
	}
	return o.OffsetsAdapter.AckMessageQuery(p)
}

// batchBeginner learns when a batch's transaction committed.
type batchBeginner struct {
	wsql.Beginner
	b *Batches
}

func (x batchBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	x.b.rolledBack() // nothing pending from an earlier transaction
	tx, err := x.Beginner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	std, ok := tx.(*wsql.StdSQLTx)
	if !ok {
		_ = tx.Rollback()
		return nil, fmt.Errorf("eventstore: consumer transaction is %T, not database/sql", tx)
	}
	return &batchTx{StdSQLTx: std, b: x.b}, nil
}

type batchTx struct {
	*wsql.StdSQLTx
	b *Batches
}

// QueryContext and ExecContext run watermill's queries as prepared
// statements where the store keeps them (SQLite, see stmtCache).
func (t *batchTx) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	return t.b.store.stmts.query(ctx, t.Tx, query, args...)
}

func (t *batchTx) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	return t.b.store.stmts.exec(ctx, t.Tx, query, args...)
}

func (t *batchTx) Commit() error {
	err := t.StdSQLTx.Commit()
	if err == nil {
		t.b.committed()
	} else {
		t.b.rolledBack()
	}
	return err
}

// The savepoint of a batch (see Batches): the consumer takes it before the
// batch's first statement, releases it once everything was sent, or rolls
// back to it to apply the batch again event by event (Handle).

// BeginBatch takes the batch savepoint in msgCtx's consumer transaction.
func BeginBatch(msgCtx context.Context) error { return batchSavepoint(msgCtx, "SAVEPOINT batch") }

// EndBatch releases the batch savepoint: its statements stay.
func EndBatch(msgCtx context.Context) error { return batchSavepoint(msgCtx, "RELEASE SAVEPOINT batch") }

// UndoBatch rolls the transaction back to the batch savepoint and releases
// it.
func UndoBatch(msgCtx context.Context) error {
	if err := batchSavepoint(msgCtx, "ROLLBACK TO SAVEPOINT batch"); err != nil {
		return err
	}
	return batchSavepoint(msgCtx, "RELEASE SAVEPOINT batch")
}

func batchSavepoint(msgCtx context.Context, q string) error {
	std, err := consumerTx(msgCtx)
	if err != nil {
		return err
	}
	if _, err := std.ExecContext(msgCtx, q); err != nil {
		return fmt.Errorf("eventstore: %s: %w", q, err)
	}
	return nil
}

// ConsumerTx is the consumer transaction of a message's context.
func ConsumerTx(msgCtx context.Context) (*sql.Tx, error) { return consumerTx(msgCtx) }
