package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/absender/absender/database"
)

// R35: projections retry-parked re-applies a read model's parked events
// (here one whose cause was fixed) and clears them; with nothing parked
// it reports so.
func TestR35_RetryParked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	if err := run(t.Context(), []string{"seed", "demo", "--database-url", path}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(t.Context(), path, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write.ExecContext(t.Context(), `INSERT INTO parked_events (consumer_group, "offset", transaction_id, event_id, stream_id, event_type, error, parked_at)
		SELECT 'directory', "offset", 0, uuid, stream_id, event_type || '.v1', 'failed before the fix', '2026-12-07T00:00:00Z' FROM events WHERE "offset" = 1`); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"projections", "retry-parked", "directory", "--database-url", path}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("retry-parked: %v\n%s", err, out.String())
	}
	if want := "directory: 1 parked events re-applied, 0 still parked"; !strings.Contains(out.String(), want) {
		t.Errorf("retry-parked printed %q, want %q", out.String(), want)
	}
	var n int
	if err := db.Read.QueryRowContext(t.Context(), `SELECT count(*) FROM parked_events`).Scan(&n); err != nil || n != 0 {
		t.Errorf("parked events after retry-parked: %d (%v), want 0", n, err)
	}
}
