// Package eventstore appends events to streams with optimistic concurrency
// and delivers them to consumer groups, on PostgreSQL and SQLite through one
// code path.
//
// Publishing is the append: the events table is both the store and the
// watermill-sql topic. Append publishes through watermill's SQL publisher
// inside the command's transaction, so an event exists for consumers exactly
// when it is committed. A unique violation on (stream_id, version) is the
// concurrency conflict. Consumers are watermill-sql subscribers in consumer
// groups (see NewSubscriber): on PostgreSQL they read in (transaction_id,
// offset) order below the oldest running transaction of this database
// (horizonCTE), so an event that commits late is never skipped; on SQLite a
// single writer connection makes offset order commit order.
//
// No network I/O and no expensive work happens inside an append's
// transaction: a long transaction on PostgreSQL holds back every consumer.
package eventstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/database"
	"github.com/absender/absender/telemetry"
)

// Store is the event store.
type Store struct {
	db       *database.DB
	registry *Registry
	schema   wsql.SchemaAdapter
	offsets  wsql.OffsetsAdapter
	now      func() time.Time
	log      *slog.Logger
	dbURL    string // PostgreSQL: for LISTEN
	notify   bool   // PostgreSQL: NOTIFY other processes on append
	// appended holds a pending NOTIFY for other processes; Listen sends
	// it outside the append's transaction (see notifyLoop).
	appended chan struct{}

	// changed is broadcast after every local append and every consumer
	// batch commit; waiters wake on it, and so do consumers on PostgreSQL.
	changed *signal
	// work wakes the consumers on SQLite: local appends, Changed, and
	// consumer commits that appended (not every consumer commit: there is
	// no horizon a commit could have held back). See consumerWake.
	work *signal
	// looks counts the wake-ups whose events this process cannot place
	// (Changed, another process, an AppendTx or AppendSQLTx committed by
	// its caller): a consumer on SQLite then reads the log (see probe).
	looks atomic.Uint64
	// lastLocal is the offset of the last event appended by this store's
	// own commits (Append, AppendWith, AppendIf), set after the commit and
	// before the wake-up (SQLite).
	lastLocal atomic.Int64
	// appending counts the appends of this store under way (AppendWith,
	// AppendIf): more than one means others wait for SQLite's writer, and
	// an append then leaves its events to the consumers (see applyInline).
	appending atomic.Int64
	// probeStmt is sqliteProbeQuery prepared once on the read pool, shared
	// by every consumer's probe of this store (closed with the database).
	probeStmt struct {
		mu sync.Mutex
		st *sql.Stmt
	}
	// txAppends counts AppendTx and AppendSQLTx calls, whose commits are
	// the caller's: a consumer whose commit may have carried one wakes the
	// others (SQLite).
	txAppends atomic.Uint64
	// instance names this store in NOTIFY payloads, so it ignores its own.
	instance string
	// remote is broadcast when another process notified (PostgreSQL).
	remote *signal
	// positions are the consumer groups' positions committed by this
	// process's batch consumers (see wait.go).
	positions *positions
	batchSize int
	// stmts keeps the consumers' queries prepared (SQLite; nil on
	// PostgreSQL, whose driver caches them).
	stmts *stmtCache
	// inline are the groups applied in the append's transaction when
	// caught up (SQLite, see Inline).
	inline inlineSet
	// consumerTxs counts the consumers' batch transactions begun (tests).
	consumerTxs atomic.Int64
}

// Options configure a Store.
type Options struct {
	Registry *Registry
	Logger   *slog.Logger
	// Now is the clock for recorded-at times (default time.Now).
	Now func() time.Time
	// NoNotify turns off PostgreSQL NOTIFY after appends (other processes'
	// consumers then find new events by polling).
	NoNotify bool
	// BatchSize is how many events a consumer reads per transaction
	// (default 100).
	BatchSize int
}

// Validate reports every bad option (zero values take defaults).
func (o Options) Validate() error {
	if o.BatchSize < 0 {
		return fmt.Errorf("eventstore: BatchSize %d must not be negative", o.BatchSize)
	}
	return nil
}

// New returns a store on an open, migrated database. It panics when opt
// fails Validate: the options are the program's, never a user's, so a bad
// one is a bug to stop at once (as regexp.MustCompile does).
func New(db *database.DB, opt Options) *Store {
	if err := opt.Validate(); err != nil {
		panic(err)
	}
	s := &Store{
		db:        db,
		registry:  opt.Registry,
		now:       opt.Now,
		log:       opt.Logger,
		changed:   newSignal(),
		work:      newSignal(),
		remote:    newSignal(),
		batchSize: opt.BatchSize,
		appended:  make(chan struct{}, 1),
		instance:  uuid.NewString(),
	}
	s.positions = newPositions(s.changed)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	switch db.Kind {
	case database.Postgres:
		s.schema = postgresSchema{batch: opt.BatchSize}
		s.offsets = newPostgresOffsets()
		s.dbURL = db.URL
		s.notify = !opt.NoNotify
	default:
		s.schema = sqliteSchema{batch: opt.BatchSize}
		s.offsets = sqliteOffsets{}
		if db.Write != nil {
			s.stmts = newStmtCache(db.Write.DB)
		}
	}
	return s
}

// Sibling returns a store on the same database with other options, e.g. a
// consumer with a batch size of its own (fanout). It shares the database
// and nothing else: its wake-ups are its own (relay them with Notify and
// Changed).
func (s *Store) Sibling(opt Options) *Store { return New(s.db, opt) }

// Registry returns the event registry used for decoding.
func (s *Store) Registry() *Registry { return s.registry }

// Append appends events to one or more streams in one transaction. Every
// stream's ExpectedVersion must hold, or nothing is written and the error
// matches ErrConflict. Appending events whose IDs are already stored at the
// same places is an idempotent no-op that reports their positions.
func (s *Store) Append(ctx context.Context, appends ...StreamAppend) (res AppendResult, err error) {
	return s.AppendWith(ctx, nil, appends...)
}

// AppendWith is Append that also runs also (when not nil) in the append's
// transaction, after the events are written: the caller's writes to its
// own tables (through tx, e.g. a content store's Insert) commit together
// with the events or not at all. An error from also rolls everything back
// and is returned as it is. When the append turns out to be a retry of one
// already committed (its events are stored where it meant them), also does
// not run again: it ran with the first. Like Append, it wakes consumers
// after the commit. also must not do network I/O or other slow work (see
// the package comment).
func (s *Store) AppendWith(ctx context.Context, also func(ctx context.Context, tx bun.IDB) error, appends ...StreamAppend) (res AppendResult, err error) {
	var in inlined // what the transaction applied to caught-up groups (SQLite, see Inline)
	s.appending.Add(1)
	defer s.appending.Add(-1)
	ctx, span := startAppend(ctx, appends)
	defer func() { endAppend(ctx, span, appends, err) }()
	msgs, err := s.messages(ctx, appends)
	if err != nil {
		return AppendResult{}, err
	}
	if also == nil && s.db.Kind == database.Postgres {
		// One statement is its own transaction (see appendPostgres).
		res, err = s.appendPostgres(ctx, s.db.Write.DB, appends, msgs, nil)
	} else {
		err = s.db.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if res, err = s.appendTx(ctx, tx.Tx, appends, msgs); err != nil {
				return err
			}
			if also != nil {
				if err := also(ctx, tx); err != nil {
					return err
				}
			}
			in, err = s.applyInline(ctx, tx, res.Last, msgs)
			return err
		})
	}
	if err != nil {
		if constraint(err) == "events_uuid_key" || errors.Is(err, ErrConflict) {
			// A retried append conflicts with itself: if its events are
			// stored where it meant them, it already happened.
			if res, found, idErr := s.idempotentResult(ctx, appends, msgs); idErr != nil || found {
				if found {
					s.Changed() // the first try may have committed without waking anyone
				}
				return res, idErr
			}
		}
		return AppendResult{}, err
	}
	s.appendedLocal(res.Last, in)
	return res, nil
}

// AppendTx appends inside a transaction the caller owns, for writes that
// must commit together with the events. The caller commits; consumers in
// this process wake at the next append or poll. Conflicts are reported as
// by Append.
func (s *Store) AppendTx(ctx context.Context, tx bun.Tx, appends ...StreamAppend) (_ AppendResult, err error) {
	ctx, span := startAppend(ctx, appends)
	defer func() { endAppend(ctx, span, appends, err) }()
	msgs, err := s.messages(ctx, appends)
	if err != nil {
		return AppendResult{}, err
	}
	s.txAppends.Add(1)
	return s.appendTx(ctx, tx.Tx, appends, msgs)
}

// AppendSQLTx is AppendTx on a database/sql transaction, such as a
// consumer's (eventstore.Handle): events a consumer appends commit together
// with its offset, so a redelivered event never appends twice.
func (s *Store) AppendSQLTx(ctx context.Context, tx *sql.Tx, appends ...StreamAppend) (_ AppendResult, err error) {
	ctx, span := startAppend(ctx, appends)
	defer func() { endAppend(ctx, span, appends, err) }()
	msgs, err := s.messages(ctx, appends)
	if err != nil {
		return AppendResult{}, err
	}
	s.txAppends.Add(1)
	return s.appendTx(ctx, tx, appends, msgs)
}

// AppendIf is Append that also requires every stream of unchanged to be at
// exactly the given version (0: no events), without appending to it: a
// decision that read those streams commits only if they still say what it
// read. A changed stream is a conflict (ErrConflict). On SQLite the check
// and the append are one serialised write; on PostgreSQL they are one
// statement (read committed: a command committing while it runs is not
// seen).
func (s *Store) AppendIf(ctx context.Context, unchanged map[string]int64, appends ...StreamAppend) (res AppendResult, err error) {
	s.appending.Add(1)
	defer s.appending.Add(-1)
	ctx, span := startAppend(ctx, appends)
	defer func() { endAppend(ctx, span, appends, err) }()
	msgs, err := s.messages(ctx, appends)
	if err != nil {
		return AppendResult{}, err
	}
	if s.db.Kind == database.Postgres {
		// The check and the append in one statement (appendPostgres).
		if res, err = s.appendPostgres(ctx, s.db.Write.DB, appends, msgs, unchanged); err != nil {
			return AppendResult{}, err
		}
		s.appendedLocal(res.Last, inlined{})
		return res, nil
	}
	var in inlined // what the transaction applied to caught-up groups (see Inline)
	err = s.db.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if len(unchanged) > 0 {
			ids := make([]any, 0, len(unchanged))
			for id := range unchanged {
				ids = append(ids, id)
			}
			marks := strings.Repeat("?, ", len(ids)-1) + "?"
			rows, err := tx.Tx.QueryContext(ctx, rebind(s.db.Kind, `SELECT stream_id, MAX(version) FROM events WHERE stream_id IN (`+marks+`) GROUP BY stream_id`), ids...)
			if err != nil {
				return fmt.Errorf("eventstore: versions: %w", err)
			}
			current := make(map[string]int64, len(ids))
			for rows.Next() {
				var id string
				var v int64
				if err := rows.Scan(&id, &v); err != nil {
					_ = rows.Close()
					return fmt.Errorf("eventstore: versions: %w", err)
				}
				current[id] = v
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("eventstore: versions: %w", err)
			}
			for id, want := range unchanged {
				if current[id] != want {
					return &ConflictError{StreamID: id, Expected: want}
				}
			}
		}
		var err error
		if res, err = s.appendTx(ctx, tx.Tx, appends, msgs); err != nil {
			return err
		}
		in, err = s.applyInline(ctx, tx, res.Last, msgs)
		return err
	})
	if err != nil {
		return AppendResult{}, err
	}
	s.appendedLocal(res.Last, in)
	return res, nil
}

// recordedAt reads created_at as the drivers return it: time.Time on
// PostgreSQL, RFC 3339 text on SQLite (the zero time if unreadable).
func recordedAt(v any) time.Time {
	if t, ok := v.(time.Time); ok {
		return t.UTC()
	}
	t, _ := time.Parse(time.RFC3339Nano, formatTime(v))
	return t
}

// startAppend starts the span of an append.
func startAppend(ctx context.Context, appends []StreamAppend) (context.Context, trace.Span) {
	n := 0
	for _, a := range appends {
		n += len(a.Events)
	}
	ctx, span := telemetry.Tracer().Start(ctx, "eventstore.append", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.Int("absender.events", n), attribute.Int("absender.streams", len(appends))))
	if len(appends) > 0 {
		span.SetAttributes(attribute.String("absender.stream_id", appends[0].StreamID))
	}
	return ctx, span
}

// endAppend ends the span and counts what was appended.
func endAppend(ctx context.Context, span trace.Span, appends []StreamAppend, err error) {
	if err == nil {
		for _, a := range appends {
			telemetry.Appended(ctx, a.StreamType, len(a.Events))
		}
	}
	telemetry.End(span, err)
}

// Changed wakes consumers after a commit that appended: those of this
// process at once, those of other processes through Listen's NOTIFY. Append
// calls it; callers of AppendTx call it after their commit.
func (s *Store) Changed() {
	s.wakeAll()
	s.notifyOthers()
}

// wakeAll wakes waiters and consumers of this process; consumers read the
// log (looks).
func (s *Store) wakeAll() {
	s.looks.Add(1)
	s.changed.Broadcast()
	s.work.Broadcast()
}

// appendedLocal wakes after one of this store's own commits appended up to
// last: it records last, publishes the groups the commit moved inline,
// then wakes waiters and consumers. A consumer on SQLite whose group is
// known at or past last need not read the log (see probe).
func (s *Store) appendedLocal(last Position, in inlined) {
	for {
		cur := s.lastLocal.Load()
		if cur >= last.Offset || s.lastLocal.CompareAndSwap(cur, last.Offset) {
			break
		}
	}
	s.publishInlined(in)
	s.changed.Broadcast()
	s.work.Broadcast()
	s.notifyOthers()
}

// consumerWake is the signal consumers wait on: on PostgreSQL every
// wake-up (a consumer's commit may have held back another's horizon), on
// SQLite work.
func (s *Store) consumerWake() *signal {
	if s.db.Kind == database.Postgres {
		return s.changed
	}
	return s.work
}

// covered says whether the group's position is known in this process and
// whether, as committed in this process, it is at or past the last event
// this store appended (SQLite).
func (s *Store) covered(group string) (known, covered bool) {
	last := s.lastLocal.Load()
	s.positions.mu.Lock()
	cur, ok := s.positions.at[group]
	s.positions.mu.Unlock()
	return ok, ok && cur.Offset >= last
}

// notifyOthers has Listen's loop NOTIFY other processes (PostgreSQL).
func (s *Store) notifyOthers() {
	select {
	case s.appended <- struct{}{}:
	default: // a NOTIFY is already pending; it covers this commit too
	}
}

// Generation moves on with every append and every consumer commit seen by
// this process (its own, or another process's through Listen): a value
// read from a read model while Generation stayed the same is still current.
func (s *Store) Generation() uint64 { return s.changed.gen.Load() }

// Notify returns a channel closed at the next local append or consumer
// commit (take it before looking for new events, then wait on it).
func (s *Store) Notify() <-chan struct{} { return s.changed.Wait() }

// messages turns appends into watermill messages with versions assigned.
// Streams are sorted by id so that two transactions touching the same
// streams insert in the same order and do not deadlock.
func (s *Store) messages(ctx context.Context, appends []StreamAppend) ([]*message.Message, error) {
	if len(appends) == 0 {
		return nil, fmt.Errorf("no streams: %w", ErrInvalidAppend)
	}
	sort.SliceStable(appends, func(i, j int) bool { return appends[i].StreamID < appends[j].StreamID })
	now := s.now().UTC().Format(time.RFC3339Nano)
	group := strconv.FormatInt(rand.Int64N(math.MaxInt64-1)+1, 10)
	var msgs []*message.Message
	seen := map[string]bool{}
	for _, a := range appends {
		switch {
		case a.StreamID == "" || a.StreamType == "":
			return nil, fmt.Errorf("stream id and type are required: %w", ErrInvalidAppend)
		case seen[a.StreamID]:
			return nil, fmt.Errorf("stream %s appears twice: %w", a.StreamID, ErrInvalidAppend)
		case a.ExpectedVersion < Any:
			return nil, fmt.Errorf("stream %s: expected version %d: %w", a.StreamID, a.ExpectedVersion, ErrInvalidAppend)
		case len(a.Events) == 0:
			return nil, fmt.Errorf("stream %s: no events: %w", a.StreamID, ErrInvalidAppend)
		}
		seen[a.StreamID] = true
		for i, e := range a.Events {
			if e.Event == nil {
				return nil, fmt.Errorf("stream %s: nil event: %w", a.StreamID, ErrInvalidAppend)
			}
			typ, ver, err := SplitName(e.Event.EventName())
			if err != nil {
				return nil, err
			}
			payload, err := json.Marshal(e.Event)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", e.Event.EventName(), err)
			}
			id := e.ID
			if id == "" {
				id = uuid.NewString()
			}
			msg := message.NewMessage(id, payload)
			msg.SetContext(ctx)
			if e.Metadata.TraceParent == "" {
				// The appending span's trace travels with the event, so
				// its consumers join it.
				e.Metadata.TraceParent = telemetry.TraceParent(ctx)
			}
			md, err := metadataMap(e.Metadata)
			if err != nil {
				return nil, err
			}
			msg.Metadata = md
			msg.Metadata.Set(keyStreamType, a.StreamType)
			msg.Metadata.Set(keyStreamID, a.StreamID)
			msg.Metadata.Set(keyVersion, strconv.FormatInt(a.ExpectedVersion+1+int64(i), 10)) // fixed up for Any
			msg.Metadata.Set(keyEventType, typ)
			msg.Metadata.Set(keySchemaVersion, strconv.Itoa(ver))
			msg.Metadata.Set(keyRecordedAt, now)
			msg.Metadata.Set(keyAppendGroup, group)
			msgs = append(msgs, msg)
		}
	}
	return msgs, nil
}

func metadataMap(m Metadata) (message.Metadata, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := message.Metadata{}
	if err := json.Unmarshal(b, (*map[string]string)(&out)); err != nil {
		return nil, err
	}
	return out, nil
}

// rowQuerier is a database or a transaction, for the statements of an
// append.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, appends []StreamAppend, msgs []*message.Message) (AppendResult, error) {
	if s.db.Kind == database.Postgres {
		return s.appendPostgres(ctx, tx, appends, msgs, nil)
	}
	versions, err := s.checkVersions(ctx, tx, appends, msgs)
	if err != nil {
		return AppendResult{}, err
	}
	// SQLite: watermill's publisher writes the events in the transaction;
	// the one writer connection makes the version checks above race-free.
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: s.schema}, nil)
	if err != nil {
		return AppendResult{}, err
	}
	if err := pub.Publish(Topic, msgs...); err != nil {
		return AppendResult{}, s.appendError(err, appends)
	}
	res := AppendResult{Versions: versions}
	if err := tx.QueryRowContext(ctx, `SELECT last_insert_rowid()`).Scan(&res.Last.Offset); err != nil {
		return AppendResult{}, fmt.Errorf("eventstore: append: %w", err)
	}
	return res, nil
}

// appendPostgres appends in one statement on q, a transaction or (for an
// append that is all its transaction has to do) the database itself, then
// one round trip instead of four (BEGIN, INSERT, a SELECT of the position
// and the gap check, COMMIT). The statement is the schema adapter's insert
// (postgresInsert, the events' writer as for watermill's publisher) with
// its checks, wrapped to answer the append's last offset and transaction
// id. unchanged are AppendIf's streams that must stand at their versions.
// A failed check inserts nothing and is a conflict, as is a stale expected
// version (the unique constraint on (stream_id, version)).
func (s *Store) appendPostgres(ctx context.Context, q rowQuerier, appends []StreamAppend, msgs []*message.Message, unchanged map[string]int64) (AppendResult, error) {
	versions, err := s.checkVersions(ctx, q, appends, msgs)
	if err != nil {
		return AppendResult{}, err
	}
	ins, err := postgresInsert(msgs, unchanged)
	if err != nil {
		return AppendResult{}, err
	}
	res := AppendResult{Versions: versions}
	var txid string
	var n int
	err = q.QueryRowContext(ctx, `WITH ins AS (`+ins.Query+`)
		SELECT COALESCE(MAX("offset"), 0), pg_current_xact_id()::text, count(*) FROM ins`, ins.Args...).
		Scan(&res.Last.Offset, &txid, &n)
	if err != nil {
		return AppendResult{}, s.appendError(err, appends)
	}
	if n != len(msgs) {
		// An expected version past a stream's end, or an unchanged
		// stream that moved.
		if len(appends) == 1 && len(unchanged) == 0 {
			return AppendResult{}, &ConflictError{StreamID: appends[0].StreamID, Expected: appends[0].ExpectedVersion}
		}
		return AppendResult{}, &ConflictError{}
	}
	res.Last.TxID, _ = strconv.ParseUint(txid, 10, 64)
	return res, nil
}

// checkVersions resolves Any expectations to the stream's current version
// and, on SQLite (one writer, so the check cannot race), verifies every
// expectation before writing. On PostgreSQL a stale expectation surfaces as
// the unique violation on (stream_id, version), and one that points past the
// end as the gap check after the insert.
func (s *Store) checkVersions(ctx context.Context, tx rowQuerier, appends []StreamAppend, msgs []*message.Message) (map[string]int64, error) {
	versions := make(map[string]int64, len(appends))
	i := 0
	for _, a := range appends {
		expected := a.ExpectedVersion
		if expected == Any || s.db.Kind == database.SQLite {
			var current int64
			if err := tx.QueryRowContext(ctx, rebind(s.db.Kind, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?`), a.StreamID).Scan(&current); err != nil {
				return nil, fmt.Errorf("eventstore: version of %s: %w", a.StreamID, err)
			}
			if expected != Any && current != expected {
				return nil, &ConflictError{StreamID: a.StreamID, Expected: expected}
			}
			if expected == Any {
				for j := range a.Events {
					msgs[i+j].Metadata.Set(keyVersion, strconv.FormatInt(current+1+int64(j), 10))
				}
				expected = current
			}
		}
		versions[a.StreamID] = expected + int64(len(a.Events))
		i += len(a.Events)
	}
	return versions, nil
}

func (s *Store) appendError(err error, appends []StreamAppend) error {
	switch c := constraint(err); c {
	case "events_stream_version_key", "retry":
		if len(appends) == 1 {
			return &ConflictError{StreamID: appends[0].StreamID, Expected: appends[0].ExpectedVersion}
		}
		return &ConflictError{}
	case "events_uuid_key":
		return err // Append turns this into an idempotent result
	}
	return fmt.Errorf("eventstore: append: %w", err)
}

// idempotentResult answers a retried append whose event IDs are stored: if
// every event is stored at the same stream and version, the append already
// happened; otherwise the IDs were reused for something else.
func (s *Store) idempotentResult(ctx context.Context, appends []StreamAppend, msgs []*message.Message) (AppendResult, bool, error) {
	res := AppendResult{Versions: map[string]int64{}}
	for i, m := range msgs {
		var streamID string
		var version int64
		var pos Position
		var txid wsql.XID8
		err := s.db.Read.DB.QueryRowContext(ctx, rebind(s.db.Kind,
			`SELECT stream_id, version, "offset", `+txidText(s.db.Kind)+` FROM events WHERE uuid = ?`), m.UUID).
			Scan(&streamID, &version, &pos.Offset, &txid)
		pos.TxID = uint64(txid)
		if errors.Is(err, sql.ErrNoRows) {
			if i == 0 {
				return AppendResult{}, false, nil // not a retry: a real conflict
			}
			return AppendResult{}, false, &ConflictError{}
		}
		if err != nil {
			return AppendResult{}, false, fmt.Errorf("eventstore: idempotent append: %w", err)
		}
		if streamID != m.Metadata.Get(keyStreamID) || (strconv.FormatInt(version, 10) != m.Metadata.Get(keyVersion) && !isAny(appends, streamID)) {
			return AppendResult{}, false, fmt.Errorf("eventstore: event id %s is already used by %s v%d: %w", m.UUID, streamID, version, ErrInvalidAppend)
		}
		if res.Last.Less(pos) {
			res.Last = pos
		}
		if version > res.Versions[streamID] {
			res.Versions[streamID] = version
		}
	}
	return res, true, nil
}

func isAny(appends []StreamAppend, streamID string) bool {
	for _, a := range appends {
		if a.StreamID == streamID {
			return a.ExpectedVersion == Any
		}
	}
	return false
}

// txidText selects the transaction id of a position: PostgreSQL's xid8;
// on SQLite positions are offsets alone (transaction_id only groups an
// append's events there).
func txidText(k database.Kind) string {
	if k == database.Postgres {
		// Aliased: a cast keeps the column's name, and ORDER BY
		// transaction_id would then sort by the cast instead of walking the
		// primary key.
		return "transaction_id AS txid"
	}
	return "0 AS txid"
}

// rebind adapts a query to the store's database (see database.Rebind).
func rebind(k database.Kind, q string) string { return database.Rebind(k, q) }

// Load reads one stream from its first event.
func (s *Store) Load(ctx context.Context, streamID string) ([]Record, error) {
	return s.LoadFrom(ctx, streamID, 0)
}

// LoadMany reads several streams in one query, each from its first event.
func (s *Store) LoadMany(ctx context.Context, streamIDs ...string) (map[string][]Record, error) {
	return s.loadMany(ctx, s.db.Read.DB, streamIDs)
}

// LoadManySQLTx is LoadMany through a transaction, such as a consumer's
// (ConsumerTx): it sees what the transaction sees — on PostgreSQL a
// consumer's repeatable-read snapshot — and what it appended itself, so a
// decision appended with AppendSQLTx in the same transaction reads the
// streams in the view its version check has. For the saga's resolver,
// which loads the message streams of a whole batch at once.
func (s *Store) LoadManySQLTx(ctx context.Context, tx *sql.Tx, streamIDs ...string) (map[string][]Record, error) {
	return s.loadMany(ctx, tx, streamIDs)
}

func (s *Store) loadMany(ctx context.Context, q querier, streamIDs []string) (map[string][]Record, error) {
	out := make(map[string][]Record, len(streamIDs))
	if len(streamIDs) == 0 {
		return out, nil
	}
	marks := strings.Repeat("?, ", len(streamIDs)-1) + "?"
	args := make([]any, len(streamIDs))
	for i, id := range streamIDs {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, rebind(s.db.Kind,
		`SELECT `+recordColumns(s.db.Kind)+` FROM events WHERE stream_id IN (`+marks+`) ORDER BY stream_id, version`), args...)
	if err != nil {
		return nil, fmt.Errorf("eventstore: load %d streams: %w", len(streamIDs), err)
	}
	recs, err := s.scanRecords(rows)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		out[r.StreamID] = append(out[r.StreamID], r)
	}
	return out, nil
}

// LoadFrom reads the events of a stream after version afterVersion.
func (s *Store) LoadFrom(ctx context.Context, streamID string, afterVersion int64) ([]Record, error) {
	return s.loadFrom(ctx, s.db.Read.DB, streamID, afterVersion)
}

// LoadSQLTx is Load through a transaction, such as a consumer's
// (eventstore.Handle): it sees what the transaction sees — on PostgreSQL
// a consumer's repeatable-read snapshot — and what it appended itself,
// which a Load beside it does not. A decision appended with AppendSQLTx
// in the same transaction reads its stream so.
func (s *Store) LoadSQLTx(ctx context.Context, tx *sql.Tx, streamID string) ([]Record, error) {
	return s.loadFrom(ctx, tx, streamID, 0)
}

func (s *Store) loadFrom(ctx context.Context, q querier, streamID string, afterVersion int64) ([]Record, error) {
	rows, err := q.QueryContext(ctx, rebind(s.db.Kind,
		`SELECT `+recordColumns(s.db.Kind)+` FROM events WHERE stream_id = ? AND version > ? ORDER BY version`),
		streamID, afterVersion)
	if err != nil {
		return nil, fmt.Errorf("eventstore: load %s: %w", streamID, err)
	}
	return s.scanRecords(rows)
}

// ReadAll reads the global log after position from, in commit order, at
// most limit events. On PostgreSQL it stops below the oldest running
// transaction that could still append here (horizonCTE), so a later call
// never finds an event before one it returned.
func (s *Store) ReadAll(ctx context.Context, from Position, limit int) ([]Record, error) {
	return s.readAll(ctx, from, limit, true)
}

// ReadAllRaw is ReadAll without decoding: Event stays nil, Data holds the
// event as stored (for exports that pass events on).
func (s *Store) ReadAllRaw(ctx context.Context, from Position, limit int) ([]Record, error) {
	return s.readAll(ctx, from, limit, false)
}

func (s *Store) readAll(ctx context.Context, from Position, limit int, decode bool) ([]Record, error) {
	rows, err := s.queryLog(ctx, s.db.Read.DB, from, limit)
	if err != nil {
		return nil, err
	}
	return s.scanRecordsWith(rows, decode)
}

// ScanAllRaw is ReadAllRaw that hands each event to fn as it is read
// instead of collecting a page: for exports of long logs. rec, and the
// bytes of its Data, are valid only during the call (they are reused for
// the next event); fn copies what it keeps. fn runs while the page's read
// is open (a connection and, on PostgreSQL, a transaction): it must not
// block on I/O or use the store. An error from fn ends the read and is
// returned as it is. It returns how many events fn was given.
func (s *Store) ScanAllRaw(ctx context.Context, from Position, limit int, fn func(rec *Record) error) (int, error) {
	n, _, err := s.scanPage(ctx, from, Position{}, limit, fn)
	return n, err
}

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryLog selects the page of the log after from, in commit order, at
// most limit events: keyset paging on the primary key (from is the last
// event of the previous page), never OFFSET.
func (s *Store) queryLog(ctx context.Context, q querier, from Position, limit int) (*sql.Rows, error) {
	if limit <= 0 {
		limit = 1000
	}
	var rows *sql.Rows
	var err error
	switch s.db.Kind {
	case database.Postgres:
		// The row comparison walks the primary key (transaction_id,
		// "offset") from the cursor; an OR of the two cases made every page
		// scan and sort the rest of the log.
		rows, err = q.QueryContext(ctx, `WITH `+horizonCTE(`$1::text::xid8`, `$2`)+`
			SELECT `+recordColumns(s.db.Kind)+` FROM events
			WHERE (transaction_id, "offset") > ($1::text::xid8, $2)
			  AND transaction_id < (SELECT xid FROM horizon)
			ORDER BY events.transaction_id, events."offset" LIMIT $3`, strconv.FormatUint(from.TxID, 10), from.Offset, limit)
	default:
		rows, err = q.QueryContext(ctx, `SELECT `+recordColumns(s.db.Kind)+` FROM events
			WHERE "offset" > ? ORDER BY "offset" LIMIT ?`, from.Offset, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: read log: %w", err)
	}
	return rows, nil
}

// ReadUntil reads the log after from up to and including to, in commit
// order, at most limit events: a bounded read of what was committed when
// to was taken (e.g. from Head). Where ReadAll would stop early because an
// older transaction of this database is still running, ReadUntil waits for it,
// so the range is never cut short.
func (s *Store) ReadUntil(ctx context.Context, from, to Position, limit int) ([]Record, error) {
	return s.readUntil(ctx, from, to, limit, true)
}

// ReadUntilRaw is ReadUntil without decoding (see ReadAllRaw).
func (s *Store) ReadUntilRaw(ctx context.Context, from, to Position, limit int) ([]Record, error) {
	return s.readUntil(ctx, from, to, limit, false)
}

func (s *Store) readUntil(ctx context.Context, from, to Position, limit int, decode bool) ([]Record, error) {
	for !to.Less(from) && from != to {
		wake := s.changed.Wait()
		recs, err := s.readAll(ctx, from, limit, decode)
		if err != nil {
			return nil, err
		}
		n := 0
		for n < len(recs) && !to.Less(recs[n].Position) {
			n++
		}
		if n > 0 || len(recs) > 0 {
			return recs[:n], nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil, nil
}

// ScanUntilRaw is ReadUntilRaw that hands each event to fn as it is read
// (see ScanAllRaw): one page of at most limit events after from, up to and
// including to, waiting as ReadUntil does for older transactions still
// running. It returns how many events fn was given; 0 when the range is
// done.
func (s *Store) ScanUntilRaw(ctx context.Context, from, to Position, limit int, fn func(rec *Record) error) (int, error) {
	for !to.Less(from) && from != to {
		wake := s.changed.Wait()
		n, seen, err := s.scanPage(ctx, from, to, limit, fn)
		if err != nil || n > 0 || seen {
			return n, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-wake:
		case <-time.After(5 * time.Millisecond):
		}
	}
	return 0, nil
}

// scanPage reads one page of the log with queryLog and hands it to fn
// (scanRaw). On PostgreSQL the page runs in a read-only transaction that
// turns off sorting for the planner: without statistics on the events table
// (never analysed, or analysed when it was small) the planner sorted the
// rest of the log for every page (a bitmap scan and a sort, 50–150 ms per
// page at 100,000–200,000 events) instead of walking the primary key, which
// the ORDER BY follows anyway, so the walk is always the plan.
func (s *Store) scanPage(ctx context.Context, from, to Position, limit int, fn func(*Record) error) (n int, seen bool, err error) {
	if s.db.Kind != database.Postgres {
		rows, err := s.queryLog(ctx, s.db.Read.DB, from, limit)
		if err != nil {
			return 0, false, err
		}
		return s.scanRaw(rows, to, fn)
	}
	tx, err := s.db.Read.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, false, fmt.Errorf("eventstore: read log: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to commit
	// Both for this transaction only; plan_cache_mode too, because a
	// generic plan cached without enable_sort (the URL may turn custom
	// plans off) would keep its sort.
	if _, err := tx.ExecContext(ctx, `SELECT set_config('enable_sort', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)`); err != nil {
		return 0, false, fmt.Errorf("eventstore: read log: %w", err)
	}
	rows, err := s.queryLog(ctx, tx, from, limit)
	if err != nil {
		return 0, false, err
	}
	return s.scanRaw(rows, to, fn)
}

// scanRaw hands the rows to fn without decoding the event, reusing one
// Record and the driver's bytes (sql.RawBytes) for payload and metadata.
// A non-zero to ends the scan at the first event past it; seen reports
// whether any row was read at all.
func (s *Store) scanRaw(rows *sql.Rows, to Position, fn func(*Record) error) (n int, seen bool, err error) {
	defer rows.Close()
	var (
		r         Record
		payload   sql.RawBytes
		md        sql.RawBytes
		createdAt any
		txid      wsql.XID8
	)
	for rows.Next() {
		seen = true
		if err := rows.Scan(&r.Position.Offset, &txid, &r.ID, &payload, &md, &createdAt,
			&r.StreamType, &r.StreamID, &r.Version, &r.Type, &r.SchemaVersion); err != nil {
			return n, seen, fmt.Errorf("eventstore: scan: %w", err)
		}
		r.Position.TxID = uint64(txid)
		if to != (Position{}) && to.Less(r.Position) {
			return n, seen, nil
		}
		r.Data = json.RawMessage(payload)
		r.Metadata = Metadata{}
		if len(md) > 0 {
			if err := decodeMetadata(md, &r.Metadata); err != nil {
				return n, seen, fmt.Errorf("eventstore: metadata of %s: %w", r.ID, err)
			}
		}
		r.RecordedAt = recordedAt(createdAt)
		if err := fn(&r); err != nil {
			return n, seen, err
		}
		n++
	}
	return n, seen, rows.Err()
}

func recordColumns(k database.Kind) string {
	return `"offset", ` + txidText(k) + `, uuid, payload, metadata, created_at, stream_type, stream_id, version, event_type, schema_version`
}

func (s *Store) scanRecords(rows *sql.Rows) ([]Record, error) { return s.scanRecordsWith(rows, true) }

func (s *Store) scanRecordsWith(rows *sql.Rows, decode bool) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var (
			r         Record
			payload   []byte
			md        []byte
			createdAt any
		)
		var txid wsql.XID8
		if err := rows.Scan(&r.Position.Offset, &txid, &r.ID, &payload, &md, &createdAt,
			&r.StreamType, &r.StreamID, &r.Version, &r.Type, &r.SchemaVersion); err != nil {
			return nil, fmt.Errorf("eventstore: scan: %w", err)
		}
		r.Position.TxID = uint64(txid)
		r.Data = payload
		if len(md) > 0 {
			if err := decodeMetadata(md, &r.Metadata); err != nil {
				return nil, fmt.Errorf("eventstore: metadata of %s: %w", r.ID, err)
			}
		}
		r.RecordedAt = recordedAt(createdAt)
		if decode {
			ev, err := s.registry.Decode(r.Type, r.SchemaVersion, r.Data)
			if err != nil {
				return nil, err
			}
			r.Event = ev
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DecodeEvent decodes the event of a record read raw (ReadAllRaw,
// ReadUntilRaw), so a reader can go on past one it cannot decode.
func (s *Store) DecodeEvent(r *Record) error {
	ev, err := s.registry.Decode(r.Type, r.SchemaVersion, r.Data)
	if err != nil {
		return err
	}
	r.Event = ev
	return nil
}

// Decode turns a message delivered to a consumer into a Record.
func (s *Store) Decode(msg *message.Message) (Record, error) { return s.decode(msg, true) }

// DecodeRaw is Decode without decoding the event itself (Event stays nil):
// for consumers that pass events on, so an event this version cannot
// decode never stops them.
func (s *Store) DecodeRaw(msg *message.Message) (Record, error) { return s.decode(msg, false) }

func (s *Store) decode(msg *message.Message, decode bool) (Record, error) {
	md := msg.Metadata
	r := Record{
		ID:         msg.UUID,
		StreamType: md.Get(keyStreamType),
		StreamID:   md.Get(keyStreamID),
		Type:       md.Get(keyEventType),
		Data:       json.RawMessage(msg.Payload),
		Metadata: Metadata{
			Actor:          md.Get("actor"),
			TenantID:       md.Get("tenant_id"),
			CorrelationID:  md.Get("correlation_id"),
			CausationID:    md.Get("causation_id"),
			IdempotencyKey: md.Get("idempotency_key"),
			TraceParent:    md.Get("traceparent"),
		},
	}
	var err error
	if r.Version, err = strconv.ParseInt(md.Get(keyVersion), 10, 64); err != nil {
		return Record{}, fmt.Errorf("eventstore: message %s is not an event: %w", msg.UUID, err)
	}
	if r.SchemaVersion, err = strconv.Atoi(md.Get(keySchemaVersion)); err != nil {
		return Record{}, fmt.Errorf("eventstore: message %s is not an event: %w", msg.UUID, err)
	}
	r.Position.Offset, _ = strconv.ParseInt(md.Get(keyOffset), 10, 64)
	r.Position.TxID, _ = strconv.ParseUint(md.Get(keyTxID), 10, 64)
	r.RecordedAt, _ = time.Parse(time.RFC3339Nano, md.Get(keyRecordedAt))
	if decode {
		if r.Event, err = s.registry.Decode(r.Type, r.SchemaVersion, r.Data); err != nil {
			return Record{}, err
		}
	}
	return r, nil
}

// Head is the position of the newest committed event in consumer order
// (zero for an empty log): waiting for a consumer to reach it waits for
// everything committed so far.
func (s *Store) Head(ctx context.Context) (Position, error) {
	var p Position
	var err error
	switch s.db.Kind {
	case database.Postgres:
		err = s.db.Read.DB.QueryRowContext(ctx, `SELECT "offset", transaction_id::text::bigint AS txid FROM events
			ORDER BY events.transaction_id DESC, events."offset" DESC LIMIT 1`).Scan(&p.Offset, &p.TxID)
	default:
		err = s.db.Read.DB.QueryRowContext(ctx, `SELECT "offset" FROM events ORDER BY "offset" DESC LIMIT 1`).Scan(&p.Offset)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, nil
	}
	return p, err
}

// PositionOf completes a global position (an offset, as the API shows
// positions) with its transaction id, for resuming in consumer order.
func (s *Store) PositionOf(ctx context.Context, offset int64) (Position, error) {
	if offset <= 0 || s.db.Kind != database.Postgres {
		return Position{Offset: max(offset, 0)}, nil
	}
	p := Position{Offset: offset}
	err := s.db.Read.DB.QueryRowContext(ctx, `SELECT transaction_id::text::bigint FROM events WHERE "offset" = $1`, offset).Scan(&p.TxID)
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, fmt.Errorf("%w: %d", ErrNoPosition, offset)
	}
	return p, err
}

// ErrNoPosition: no event stands at the position asked for.
var ErrNoPosition = errors.New("eventstore: no event at this position")

// Count is the number of stored events.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.Read.DB.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}
