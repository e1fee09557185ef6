package eventstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrConflict is matched (errors.Is) by every concurrency conflict.
var ErrConflict = errors.New("eventstore: concurrency conflict")

// ConflictError says that a stream moved on since the caller loaded it. The
// command layer reloads and decides again.
type ConflictError struct {
	StreamID string
	Expected int64
}

func (e *ConflictError) Error() string {
	if e.StreamID == "" {
		return "eventstore: concurrent append, retry"
	}
	return fmt.Sprintf("eventstore: stream %s is not at version %d", e.StreamID, e.Expected)
}

func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ErrInvalidAppend reports a malformed append (a programming error).
var ErrInvalidAppend = errors.New("eventstore: invalid append")

// constraint names a unique violation: which constraint a driver error
// violated, or "" when err is not a unique violation. PostgreSQL reports the
// constraint name (23505); SQLite names the columns.
func constraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return pgErr.ConstraintName
		case "40P01", "40001": // deadlock, serialization failure: retry
			return "retry"
		}
		return ""
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") {
		switch {
		case strings.Contains(msg, "events.uuid"):
			return "events_uuid_key"
		case strings.Contains(msg, "events.stream_id"):
			return "events_stream_version_key"
		}
		return "unique"
	}
	return ""
}
