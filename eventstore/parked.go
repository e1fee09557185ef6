package eventstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/absender/absender/database"
)

// R35 Read models never halt. A consumer group that fails on an event with
// the same non-transient error ParkAfter times in a row parks it: the
// event, the group and a bounded error text go into parked_events (this
// package's table) in the consumer's transaction, together with the
// group's offset, and the consumer goes on. Every later event of the same
// stream is parked too, so the stream's order holds once the events are
// re-applied. A transient error (a lost connection, a cancelled context, a
// busy database) parks nothing: the consumer pauses and tries again.

// ParkAfter is how many times in a row a consumer fails on an event before
// it parks it (R35).
const ParkAfter = 3

// ErrTransient marks an error as transient (errors.Is): a consumer that
// meets it pauses instead of parking the event.
var ErrTransient = errors.New("eventstore: transient failure")

// ErrBehindParked is the cause recorded for an event parked because an
// earlier event of its stream is parked for the same consumer group.
var ErrBehindParked = errors.New("an earlier event of the stream is parked")

// Transient reports whether err is a failure that passes by itself: the
// database or broker unreachable or busy, a serialization conflict, a
// cancelled or expired context. Everything else (decode errors,
// constraint violations, SQL the data makes invalid, panics) is not.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	for _, target := range []error{ErrTransient, context.Canceled, context.DeadlineExceeded, driver.ErrBadConn,
		sql.ErrConnDone, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.SQLState()) == 5 {
		switch pgErr.SQLState()[:2] {
		case "08", "40", "53", "57", "58": // connection, rollback, resources, operator, system
			return true
		}
		return pgErr.SQLState() == "55P03" // lock not available
	}
	msg := err.Error()
	for _, s := range []string{"database is locked", "database table is locked", "SQLITE_BUSY", "SQLITE_LOCKED",
		"disk I/O error", "conn closed", "connection reset", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// maxParkError bounds the error text of a parked event.
const maxParkError = 300

// ParkError is the error text recorded for a parked event and logged with
// it: bounded, one line, and without what the error quotes (SQL errors and
// JSON errors quote the statement or the input, which hold the event's
// payload). A panic's value is withheld unless it is a runtime error.
func ParkError(err error) string {
	var p *PanicError
	if errors.As(err, &p) {
		if re, ok := p.Value.(runtime.Error); ok {
			return bound(redact(p.Where + ": panic: " + re.Error()))
		}
		return bound(p.Where + ": panic (value withheld)")
	}
	return bound(redact(err.Error()))
}

// PanicError is a panic recovered in a consumer's handler.
type PanicError struct {
	Where string
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("%s panicked: %v", e.Where, e.Value) }

// redact replaces every quoted part ("…", '…', `…`, also one left open)
// by "…", and control characters by spaces.
func redact(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\'' || r == '`':
			end := strings.IndexRune(s[i+size:], r)
			if end < 0 {
				b.WriteString(`"…"`)
				return b.String()
			}
			b.WriteString(`"…"`)
			i += size + end + size
			continue
		case unicode.IsControl(r) || r == utf8.RuneError:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func bound(s string) string {
	if utf8.RuneCountInString(s) <= maxParkError {
		return s
	}
	r := []rune(s)
	return string(r[:maxParkError-1]) + "…"
}

// ParkedEvent is an event a consumer group set aside (SPEC §4 ParkedEvent).
type ParkedEvent struct {
	Group     string
	Position  Position
	EventID   string
	StreamID  string
	EventType string // versioned, e.g. "MailboxAdded.v1"
	Error     string
	At        time.Time
}

// ParkedStreams is a subquery of the stream ids with a parked event for the
// consumer group given as its one argument, for read models that fail
// closed (R35): what such a stream grants or offers is left out.
const ParkedStreams = `SELECT stream_id FROM parked_events WHERE consumer_group = ?`

// Parking is one consumer's view of its parked streams. It remembers the
// streams it saw parked — loaded at its start and again at most every
// parkingRefresh (another process of the same group may have parked one),
// plus those it parked itself; for one of them it asks the database, in
// the consumer transaction, whether the stream is still parked (a retry
// in another process may have cleared it).
type Parking struct {
	store  *Store
	group  string
	mu     sync.Mutex
	seen   map[string]bool
	loaded time.Time
}

// parkingRefresh bounds how long a stream parked by another process of
// the same consumer group may go unnoticed.
const parkingRefresh = time.Second

// Parking loads the streams parked for group.
func (s *Store) Parking(ctx context.Context, group string) (*Parking, error) {
	p := &Parking{store: s, group: group, seen: map[string]bool{}}
	return p, p.load(ctx)
}

func (p *Parking) load(ctx context.Context) error {
	rows, err := p.store.db.Read.DB.QueryContext(ctx, rebind(p.store.db.Kind, `SELECT DISTINCT stream_id FROM parked_events WHERE consumer_group = ?`), p.group)
	if err != nil {
		return fmt.Errorf("eventstore: parked streams of %s: %w", p.group, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("eventstore: parked streams of %s: %w", p.group, err)
		}
		seen[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("eventstore: parked streams of %s: %w", p.group, err)
	}
	p.mu.Lock()
	for id := range p.seen {
		seen[id] = true // parked here, maybe not yet committed
	}
	p.seen, p.loaded = seen, time.Now()
	p.mu.Unlock()
	return nil
}

// Blocked reports whether an earlier event of streamID is parked for the
// group, so that an event of it must be parked too (stream order).
func (p *Parking) Blocked(msgCtx context.Context, streamID string) (bool, error) {
	p.mu.Lock()
	stale := time.Since(p.loaded) > parkingRefresh
	p.mu.Unlock()
	if stale {
		if err := p.load(msgCtx); err != nil {
			return false, err
		}
	}
	p.mu.Lock()
	seen := p.seen[streamID]
	p.mu.Unlock()
	if !seen {
		return false, nil
	}
	tx, err := consumerTx(msgCtx)
	if err != nil {
		return false, err
	}
	var n int
	err = tx.QueryRowContext(msgCtx, rebind(p.store.db.Kind,
		`SELECT count(*) FROM parked_events WHERE consumer_group = ? AND stream_id = ?`), p.group, streamID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("eventstore: parked events of %s: %w", streamID, err)
	}
	if n == 0 {
		p.mu.Lock()
		delete(p.seen, streamID)
		p.mu.Unlock()
	}
	return n > 0, nil
}

// Park records rec as parked for the group with the text of cause (see
// ParkError), in the consumer transaction of msgCtx, so the record commits
// with the group's offset. The caller then acks the event.
func (p *Parking) Park(msgCtx context.Context, rec Record, cause error) error {
	tx, err := consumerTx(msgCtx)
	if err != nil {
		return err
	}
	if err := p.store.park(msgCtx, tx, p.group, rec, ParkError(cause)); err != nil {
		return err
	}
	p.mu.Lock()
	p.seen[rec.StreamID] = true
	p.mu.Unlock()
	return nil
}

// ParkTx records rec as parked for group in tx, with the text of cause
// (see ParkError): for a consumer that runs its own transaction, as a
// rebuild does.
func (s *Store) ParkTx(ctx context.Context, tx *sql.Tx, group string, rec Record, cause error) error {
	return s.park(ctx, tx, group, rec, ParkError(cause))
}

func (s *Store) park(ctx context.Context, tx *sql.Tx, group string, rec Record, text string) error {
	_, err := tx.ExecContext(ctx, rebind(s.db.Kind, `INSERT INTO parked_events
		(consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (consumer_group, "offset") DO NOTHING`),
		group, rec.Position.Offset, int64(rec.Position.TxID), rec.ID, rec.StreamID, rec.Name(), text,
		s.now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("eventstore: park %s at %s for %s: %w", rec.Name(), rec.Position, group, err)
	}
	return nil
}

// Parked lists the parked events of group ("" for every group), in log
// order within each group.
func (s *Store) Parked(ctx context.Context, group string) ([]ParkedEvent, error) {
	q := `SELECT consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at FROM parked_events`
	var args []any
	if group != "" {
		q += ` WHERE consumer_group = ?`
		args = append(args, group)
	}
	q += ` ORDER BY consumer_group, transaction_id, "offset"`
	rows, err := s.db.Read.DB.QueryContext(ctx, rebind(s.db.Kind, q), args...)
	if err != nil {
		return nil, fmt.Errorf("eventstore: parked events: %w", err)
	}
	defer rows.Close()
	var out []ParkedEvent
	for rows.Next() {
		var e ParkedEvent
		var tx int64
		var at string
		if err := rows.Scan(&e.Group, &e.Position.Offset, &tx, &e.EventID, &e.StreamID, &e.EventType, &e.Error, &at); err != nil {
			return nil, fmt.Errorf("eventstore: parked events: %w", err)
		}
		e.Position.TxID = uint64(tx)
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ParkedCounts counts the parked events by consumer group.
func (s *Store) ParkedCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.Read.DB.QueryContext(ctx, `SELECT consumer_group, count(*) FROM parked_events GROUP BY consumer_group`)
	if err != nil {
		return nil, fmt.Errorf("eventstore: count parked events: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var g string
		var n int64
		if err := rows.Scan(&g, &n); err != nil {
			return nil, fmt.Errorf("eventstore: count parked events: %w", err)
		}
		out[g] = n
	}
	return out, rows.Err()
}

// Unpark deletes one parked event of group in tx: it was re-applied.
func (s *Store) Unpark(ctx context.Context, tx *sql.Tx, group string, pos Position) error {
	_, err := tx.ExecContext(ctx, rebind(s.db.Kind, `DELETE FROM parked_events WHERE consumer_group = ? AND "offset" = ?`), group, pos.Offset)
	if err != nil {
		return fmt.Errorf("eventstore: unpark %s of %s: %w", pos, group, err)
	}
	return nil
}

// UnparkAll deletes every parked event of group in tx (a rebuild replayed
// them).
func (s *Store) UnparkAll(ctx context.Context, tx *sql.Tx, group string) error {
	_, err := tx.ExecContext(ctx, rebind(s.db.Kind, `DELETE FROM parked_events WHERE consumer_group = ?`), group)
	if err != nil {
		return fmt.Errorf("eventstore: unpark %s: %w", group, err)
	}
	return nil
}

// RecordAt reads the event at a global position (offset), decoded; for
// re-applying a parked event. A decode error is returned with the record.
func (s *Store) RecordAt(ctx context.Context, offset int64) (Record, error) {
	rec, err := s.RawRecordAt(ctx, offset)
	if err != nil {
		return Record{}, err
	}
	rec.Event, err = s.registry.Decode(rec.Type, rec.SchemaVersion, rec.Data)
	return rec, err
}

// RawRecordAt is RecordAt without decoding the event (Event stays nil),
// for consumers that pass events on (see DecodeRaw).
func (s *Store) RawRecordAt(ctx context.Context, offset int64) (Record, error) {
	rows, err := s.db.Read.DB.QueryContext(ctx, rebind(s.db.Kind, `SELECT `+recordColumns(s.db.Kind)+` FROM events WHERE "offset" = ?`), offset)
	if err != nil {
		return Record{}, fmt.Errorf("eventstore: read event at %d: %w", offset, err)
	}
	recs, err := s.scanRecordsWith(rows, false)
	if err != nil {
		return Record{}, err
	}
	if len(recs) == 0 {
		return Record{}, ErrNoPosition
	}
	return recs[0], nil
}

// Retried is what a retry of a consumer group's parked events did.
type Retried struct {
	// Applied counts the parked events re-applied (and no longer parked).
	Applied int
	// Left counts those still parked: an event that failed again and the
	// later events of its stream.
	Left int
	// Failures names the events that failed again, with the error (as
	// ParkError shows it).
	Failures []string
}

// RetryParked re-applies the parked events of group (R35) in log order,
// after a fix, with apply, which re-applies one event and deletes its row
// (Unpark) when it succeeds, so a row goes only with its event applied.
// An event that fails again stays parked, and so do the later events of
// its stream (their order holds); other streams go on. A transient error
// (see Transient: the database or broker unreachable, a cancelled
// context) stops the retry with what was done so far: it says nothing
// about the event, which stays parked for the next retry.
func (s *Store) RetryParked(ctx context.Context, group string, apply func(context.Context, ParkedEvent) error) (Retried, error) {
	var res Retried
	parked, err := s.Parked(ctx, group)
	if err != nil {
		return res, err
	}
	failed := map[string]bool{}
	for _, pe := range parked {
		if failed[pe.StreamID] {
			res.Left++
			continue
		}
		if err := apply(ctx, pe); err != nil {
			if Transient(err) {
				return res, fmt.Errorf("eventstore: retry %s at %s for %s: %w", pe.EventType, pe.Position, group, err)
			}
			failed[pe.StreamID] = true
			res.Left++
			res.Failures = append(res.Failures, fmt.Sprintf("%s at %s: %s", pe.EventType, pe.Position, ParkError(err)))
			continue
		}
		res.Applied++
	}
	return res, nil
}

// consumerTx is the consumer transaction of a delivered message's context.
func consumerTx(msgCtx context.Context) (*sql.Tx, error) {
	wtx, ok := wsql.TxFromContext(msgCtx)
	if !ok {
		return nil, errors.New("eventstore: no consumer transaction in context")
	}
	if b, ok := wtx.(*batchTx); ok {
		return b.Tx, nil
	}
	if t, ok := wtx.(*stmtTx); ok {
		return t.Tx, nil
	}
	std, ok := wtx.(*wsql.StdSQLTx)
	if !ok {
		return nil, fmt.Errorf("eventstore: consumer transaction is %T, not database/sql", wtx)
	}
	return std.Tx, nil
}

// ParkedAppend reports whether a consumer group parked an event of the
// append of n events whose last event is at last: a read model that went
// past it has not applied it (R36 answers from the committed events then).
// On PostgreSQL an append is one transaction (its transaction_id); on
// SQLite, where positions carry none, its events have the n offsets up to
// last (one writer, one INSERT).
func (s *Store) ParkedAppend(ctx context.Context, last Position, n int) (bool, error) {
	from := int64(0)
	if s.db.Kind == database.SQLite {
		from = last.Offset - int64(n)
	}
	var count int
	err := s.db.Read.DB.QueryRowContext(ctx, rebind(s.db.Kind,
		`SELECT count(*) FROM parked_events WHERE transaction_id = ? AND "offset" > ? AND "offset" <= ?`),
		int64(last.TxID), from, last.Offset).Scan(&count)
	if err != nil {
		return false, fmt.Errorf("eventstore: parked events of the append at %s: %w", last, err)
	}
	return count > 0, nil
}
