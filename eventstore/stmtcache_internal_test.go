package eventstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/absender/absender/internal/dbtest"
)

// The statement cache answers as the plain query does, prepares each text
// once in the background (never on the transaction's own connection,
// which would wait for itself on SQLite's single writer), and stops adding
// at maxStmts (R34: bounded).
func TestStmtCacheAnswersAndIsBounded(t *testing.T) {
	db := dbtest.SQLite(t)
	c := newStmtCache(db.Write.DB)
	ask := func(q string, want int) {
		t.Helper()
		tx, err := db.Write.DB.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		rows, err := c.query(t.Context(), tx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got int
		for rows.Next() {
			if err := rows.Scan(&got); err != nil {
				t.Fatal(err)
			}
		}
		if got != want {
			t.Fatalf("%s: got %d, want %d", q, got, want)
		}
	}
	prepared := func(q string) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.m[q] != nil
	}
	ask("SELECT 1", 1) // first time: as it is, prepared in the background
	deadline := time.Now().Add(10 * time.Second)
	for !prepared("SELECT 1") {
		if time.Now().After(deadline) {
			t.Fatal("SELECT 1 was never prepared")
		}
		time.Sleep(time.Millisecond)
	}
	ask("SELECT 1", 1) // now through the prepared statement
	for i := range 2 * maxStmts {
		ask(fmt.Sprintf("SELECT %d", i+2), i+2)
	}
	time.Sleep(100 * time.Millisecond)
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > maxStmts {
		t.Fatalf("%d statements kept, want at most %d", n, maxStmts)
	}
	ask(fmt.Sprintf("SELECT %d", 2*maxStmts+1), 2*maxStmts+1) // past the bound: still answered
}
