package eventstore_test

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/absender/absender/eventstore"
)

// R35: what is transient pauses a consumer; everything else is parked
// after eventstore.ParkAfter failures.
func TestR35_TransientErrors(t *testing.T) {
	var v struct{ Subject string }
	decodeErr := json.Unmarshal([]byte(`{"Subject": 5}`), &v)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"cancelled context", fmt.Errorf("apply: %w", context.Canceled), true},
		{"bad connection", fmt.Errorf("apply: %w", driver.ErrBadConn), true},
		{"PostgreSQL connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"PostgreSQL serialization failure", &pgconn.PgError{Code: "40001"}, true},
		{"PostgreSQL admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"SQLite busy", errors.New("database is locked (5) (SQLITE_BUSY)"), true},
		{"marked transient", fmt.Errorf("publish: %w", eventstore.ErrTransient), true},
		{"PostgreSQL syntax error", &pgconn.PgError{Code: "42601", Message: `syntax error at or near "x"`}, false},
		{"PostgreSQL NUL in text", &pgconn.PgError{Code: "22021"}, false},
		{"PostgreSQL unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"SQLite unrecognized token", errors.New(`SQL logic error: unrecognized token: "'abc" (1)`), false},
		{"decode error", decodeErr, false},
		{"panic", &eventstore.PanicError{Where: "projection x", Value: "boom"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventstore.Transient(tt.err); got != tt.want {
				t.Errorf("Transient(%v): got %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// R35: the error recorded for a parked event is bounded, one line, and
// does not copy what SQL, JSON or a panic quoted from the payload.
func TestR35_ParkErrorWithholdsPayload(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"SQLite", errors.New("projection messages: MessageQueued.v1 at 5: SQL logic error: unrecognized token: \"'secret\x00"),
			`projection messages: MessageQueued.v1 at 5: SQL logic error: unrecognized token: "…"`},
		{"PostgreSQL", &pgconn.PgError{Severity: "ERROR", Code: "42601", Message: `syntax error at or near "secret"`},
			`ERROR: syntax error at or near "…" (SQLSTATE 42601)`},
		{"JSON", errors.New("decode MailboxAdded.v1: invalid character 's' looking for beginning of value"),
			`decode MailboxAdded.v1: invalid character "…" looking for beginning of value`},
		{"panic", &eventstore.PanicError{Where: "projection audit", Value: "secret"}, "projection audit: panic (value withheld)"},
		{"control characters", errors.New("line\nbreak\ttab"), "line break tab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventstore.ParkError(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	long := eventstore.ParkError(errors.New(strings.Repeat("é", 1000)))
	if n := len([]rune(long)); n != 300 {
		t.Errorf("a long error: got %d characters, want 300", n)
	}
}
