package eventstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// holdForeignXID opens a transaction with a transaction id in a scratch
// database of the same PostgreSQL server (another application's long
// transaction) and holds it until the test ends. It returns the id.
func holdForeignXID(t *testing.T) uint64 {
	t.Helper()
	url := dbtest.NewPostgresDatabase(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var xid uint64
	if err := tx.QueryRow(t.Context(), `SELECT pg_current_xact_id()::text::bigint`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	// Registered after NewPostgresDatabase's drop, so it runs first.
	t.Cleanup(func() {
		_ = tx.Rollback(context.Background())
		_ = conn.Close(context.Background())
	})
	return xid
}

// A transaction open in ANOTHER database of the server holds an id below
// every later append of ours, but it can never write to our events table:
// it must not delay consumers, reads of the log or read-your-writes here
// (issue 13 item 2: with the cluster-wide pg_snapshot_xmin as the horizon,
// every consumer waited until it ended).
func TestForeignTransactionDoesNotHoldBackConsumers(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	foreign := holdForeignXID(t)

	res, err := s.Append(ctx, add("thing-1", 0, "after the foreign transaction"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Last.TxID <= foreign {
		t.Fatalf("append got transaction id %d, not after the foreign %d", res.Last.TxID, foreign)
	}

	// ReadAll stops below the horizon: it returns the event at once.
	recs, err := s.ReadAll(ctx, eventstore.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Position != res.Last {
		t.Fatalf("ReadAll while another database's transaction is open: got %d events, want the one at %s", len(recs), res.Last)
	}

	// A consumer group gets it and read-your-writes returns, long before
	// the foreign transaction ends (it ends with the test).
	c := startConsumer(t, s, "foreign-horizon", nil)
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.WaitFor(waitCtx, res.Last, "foreign-horizon"); err != nil {
		t.Fatalf("WaitFor while another database's transaction is open: %v", err)
	}
	if got := c.wait(t, 1); got[0].Position != res.Last {
		t.Fatalf("consumer got %s, want %s", got[0].Position, res.Last)
	}
}

// Gap-free delivery still holds with a foreign transaction open: a
// transaction of OUR database that has taken an id holds the horizon, so
// an event committed after a later one, with the smaller transaction id, is
// delivered and read in commit order, never skipped.
func TestOwnTransactionStillHoldsHorizon(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	foreign := holdForeignXID(t)
	if _, err := s.Append(ctx, add("warmup", 0, "w")); err != nil {
		t.Fatal(err)
	}
	c := startConsumer(t, s, "own-horizon", nil)
	c.wait(t, 1)

	// A: an append of ours, open, with an id between the foreign one and B's.
	txA, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = txA.Rollback() }()
	resA, err := s.AppendTx(ctx, txA, add("thing-a", 0, "A"))
	if err != nil {
		t.Fatal(err)
	}
	// An idle transaction of our database with an id (not an append), taken
	// between A's and B's, holds the horizon too: it might still append.
	other, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }()
	if _, err := other.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	resB, err := s.Append(ctx, add("thing-b", 0, "B"))
	if err != nil {
		t.Fatal(err)
	}
	if !(foreign < resA.Last.TxID && resA.Last.TxID < resB.Last.TxID) {
		t.Fatalf("transaction ids: foreign %d, A %d, B %d; want ascending", foreign, resA.Last.TxID, resB.Last.TxID)
	}
	s.Changed()
	time.Sleep(300 * time.Millisecond) // the consumer polls (every 50 ms) and would move past A if it could
	if recs := c.wait(t, 1); len(recs) != 1 {
		t.Fatalf("consumer got %d events while A was open; B must wait behind A", len(recs))
	}
	recs, err := s.ReadAll(ctx, eventstore.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("ReadAll returned %d events while A was open; want only the warm-up", len(recs))
	}

	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Changed()
	time.Sleep(300 * time.Millisecond)
	// A is below the other transaction's id and arrives; B, above it, not.
	if recs := c.wait(t, 2); len(recs) != 2 || recs[1].Position != resA.Last {
		t.Fatalf("consumer got %v while the other transaction of ours was open; want the warm-up and A", recs)
	}
	if err := other.Rollback(); err != nil {
		t.Fatal(err)
	}
	s.Changed()
	got := c.wait(t, 3)
	if len(got) != 3 || got[1].Position != resA.Last || got[2].Position != resB.Last {
		t.Fatalf("consumer got %v, want the warm-up, A, B in commit order", got)
	}
	recs, err = s.ReadAll(ctx, eventstore.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1].Position != resA.Last || recs[2].Position != resB.Last {
		t.Fatalf("ReadAll got %d events, want the warm-up, A, B", len(recs))
	}
}

// The horizon is taken in the consumer's REPEATABLE READ snapshot and
// agrees with it: with a foreign transaction open, many appends racing a
// consumer are all delivered, each once, in (transaction_id, offset) order.
func TestForeignTransactionConcurrentAppendsGapFree(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	holdForeignXID(t)
	c := startConsumer(t, s, "foreign-race", nil)
	const writers, each = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				stream := fmt.Sprintf("race-%d-%d", w, i)
				if _, err := s.Append(ctx, add(stream, 0, "x")); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := c.wait(t, writers*each)
	if len(got) != writers*each {
		t.Fatalf("consumer got %d events, want %d", len(got), writers*each)
	}
	seen := map[string]bool{}
	for i, r := range got {
		if seen[r.ID] {
			t.Fatalf("event %s delivered twice", r.ID)
		}
		seen[r.ID] = true
		if i > 0 && !got[i-1].Position.Less(r.Position) {
			t.Fatalf("event %d at %s delivered after %s", i, r.Position, got[i-1].Position)
		}
	}
}
