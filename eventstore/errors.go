package eventstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
// violated, or "" when err is not a unique violation ("retry" for a
// PostgreSQL deadlock or serialization failure). Both drivers are asked by
// code, never by message text: PostgreSQL's SQLSTATE 23505, which also
// names the constraint, and SQLite's extended result codes
// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (modernc.org/sqlite
// turns extended codes on). SQLite names no constraint, only its columns
// ("UNIQUE constraint failed: events.uuid"), so the columns say which one.
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
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqliteConstraint(liteErr.Error())
		}
	}
	return ""
}

// sqliteConstraint maps the columns a SQLite unique violation names to
// the PostgreSQL constraint of the same index ("unique" for any other).
// The driver's text reads "constraint failed: UNIQUE constraint failed:
// events.uuid (2067)": the columns follow the last "constraint failed: ".
func sqliteConstraint(msg string) string {
	_, cols, ok := cutLast(msg, "constraint failed: ")
	if !ok {
		return "unique"
	}
	switch {
	case strings.HasPrefix(cols, "events.uuid"):
		return "events_uuid_key"
	case strings.HasPrefix(cols, "events.stream_id"):
		return "events_stream_version_key"
	}
	return "unique"
}

// cutLast is strings.Cut at the last occurrence of sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// ErrGroupMovesBack: a consumer group was to be moved to a position
// before the one it stands at (MoveGroup refuses it). Groups only move
// forward: a process's read-your-writes waiters trust the positions its
// consumers committed (R36).
var ErrGroupMovesBack = errors.New("eventstore: consumer group would move back")
