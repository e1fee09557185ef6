package eventstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Metadata travels with every event. The store adds the stream, version,
// position and time; the command layer fills the rest.
type Metadata struct {
	Actor          string `json:"actor,omitempty"`
	TenantID       string `json:"tenant_id,omitempty"`
	CorrelationID  string `json:"correlation_id,omitempty"`
	CausationID    string `json:"causation_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// TraceParent is the W3C trace context of the command that appended
	// the event, so asynchronous consumers join its trace.
	TraceParent string `json:"traceparent,omitempty"`
}

// Event is what the store persists: a value whose EventName is a versioned
// type name such as "MailboxAdded.v1".
type Event interface {
	EventName() string
}

// NewEvent is an event to append. ID identifies it for idempotent retries:
// appending an event whose ID is already stored, at the same stream and
// version, succeeds without writing anything. An empty ID gets a new UUID.
type NewEvent struct {
	ID       string
	Event    Event
	Metadata Metadata
}

// Any is the expected version that skips the concurrency check. Use it only
// for streams whose events never depend on earlier ones.
const Any int64 = -1

// StreamAppend appends events to one stream. ExpectedVersion is the version
// the caller decided against: 0 for a new stream. A stale expectation fails
// the whole append with a *ConflictError.
type StreamAppend struct {
	StreamType      string
	StreamID        string
	ExpectedVersion int64
	Events          []NewEvent
}

// Position is a point in the log. Offset is the global position; TxID is
// the PostgreSQL transaction that wrote it (0 on SQLite). Consumers read in
// (TxID, Offset) order, which is commit order on both databases.
type Position struct {
	TxID   uint64 `json:"tx,omitempty"`
	Offset int64  `json:"offset"`
}

// Less reports whether p comes before q in consumer order.
func (p Position) Less(q Position) bool {
	if p.TxID != q.TxID {
		return p.TxID < q.TxID
	}
	return p.Offset < q.Offset
}

// Reached reports whether a consumer standing at p has consumed the event
// at q.
func (p Position) Reached(q Position) bool { return !p.Less(q) }

func (p Position) String() string {
	if p.TxID == 0 {
		return fmt.Sprintf("%d", p.Offset)
	}
	return fmt.Sprintf("%d@%d", p.Offset, p.TxID)
}

// ParsePosition reads a position written by Position.String: "offset" or
// "offset@txid".
func ParsePosition(s string) (Position, error) {
	var p Position
	off, tx, found := strings.Cut(s, "@")
	var err error
	if p.Offset, err = strconv.ParseInt(off, 10, 64); err != nil || p.Offset < 0 {
		return Position{}, fmt.Errorf("eventstore: position %q is not a position", s)
	}
	if found {
		if p.TxID, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return Position{}, fmt.Errorf("eventstore: position %q is not a position", s)
		}
	}
	return p, nil
}

// Record is a stored event.
type Record struct {
	ID            string
	StreamType    string
	StreamID      string
	Version       int64
	Position      Position
	Type          string // without version, e.g. "MailboxAdded"
	SchemaVersion int
	// Data is the event as stored (before upcasting).
	Data json.RawMessage
	// Event is the decoded event after upcasting; nil when its type is not
	// registered (consumers must skip such events, not fail on them).
	Event      Event
	Metadata   Metadata
	RecordedAt time.Time
}

// Name is the versioned type name, e.g. "MailboxAdded.v1".
func (r Record) Name() string { return fmt.Sprintf("%s.v%d", r.Type, r.SchemaVersion) }

// AppendResult tells where an append landed.
type AppendResult struct {
	// Last is the position of the last event appended (or found, for an
	// idempotent retry). Wait for consumers to reach it for read-your-writes.
	Last Position
	// Versions holds each stream's version after the append, by stream id.
	Versions map[string]int64
}
