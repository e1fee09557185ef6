package eventstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
)

// A unique violation is recognised by the driver's code on both databases
// (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE), wrapped or not, and
// named after the index it hit; an error that merely reads like one is not.
func TestConstraintByDriverCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		txid := "0"
		if db.Kind == database.Postgres {
			txid = "pg_current_xact_id()"
		}
		insert := func(uuid, stream string, version int) error {
			_, err := db.Write.DB.ExecContext(t.Context(), database.Rebind(db.Kind, `INSERT INTO events
				("uuid", created_at, payload, metadata, transaction_id, stream_type, stream_id, version, event_type, schema_version)
				VALUES (?, '2026-01-01T00:00:00Z', '{}', '{}', `+txid+`, 'thing', ?, ?, 'ThingAdded', 1)`), uuid, stream, version)
			return err
		}
		if err := insert("e1", "s1", 1); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			err  error
			want string
		}{
			{"same event id", insert("e1", "s2", 1), "events_uuid_key"},
			{"same stream version", insert("e2", "s1", 1), "events_stream_version_key"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.err == nil {
					t.Fatal("got no error, want a unique violation")
				}
				if got := constraint(tt.err); got != tt.want {
					t.Errorf("constraint(%v) = %q, want %q", tt.err, got, tt.want)
				}
				if got := constraint(fmt.Errorf("append: %w", tt.err)); got != tt.want {
					t.Errorf("constraint of the wrapped error = %q, want %q", got, tt.want)
				}
			})
		}
		// Another constraint (NOT NULL) is no unique violation.
		_, err := db.Write.DB.ExecContext(t.Context(), `INSERT INTO events ("uuid") VALUES (NULL)`)
		if err == nil {
			t.Fatal("got no error for a NULL uuid")
		}
		if got := constraint(err); got != "" {
			t.Errorf("constraint of a NOT NULL violation = %q, want none", got)
		}
	})
	if got := constraint(errors.New("constraint failed: UNIQUE constraint failed: events.uuid (2067)")); got != "" {
		t.Errorf("constraint of a plain error reading like one = %q, want none (codes, not text)", got)
	}
}
