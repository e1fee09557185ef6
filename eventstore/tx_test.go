package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// callerTable is a table of the caller's own, written in the event store's
// transactions.
func callerTable(t *testing.T, db *database.DB) func() int {
	t.Helper()
	if _, err := db.Write.ExecContext(t.Context(), `CREATE TABLE caller_rows (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return func() int {
		var n int
		if err := db.Read.NewRaw(`SELECT count(*) FROM caller_rows`).Scan(t.Context(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

func insertRow(id string) func(ctx context.Context, tx bun.IDB) error {
	return func(ctx context.Context, tx bun.IDB) error {
		_, err := tx.NewRaw(`INSERT INTO caller_rows (id) VALUES (?)`, id).Exec(ctx)
		return err
	}
}

// AppendWith commits the caller's rows with the events, or neither: an
// error of the caller's function undoes the append, and a conflicting
// append never runs it.
func TestAppendWithCommitsTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		rows := callerTable(t, db)
		if _, err := s.AppendWith(ctx, insertRow("r1"), add("thing-1", 0, "a")); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		_, err := s.AppendWith(ctx, func(ctx context.Context, tx bun.IDB) error {
			if err := insertRow("r2")(ctx, tx); err != nil {
				return err
			}
			return boom
		}, add("thing-2", 0, "b"))
		if !errors.Is(err, boom) {
			t.Errorf("append with a failing function: got %v, want %v", err, boom)
		}
		ran := false
		_, err = s.AppendWith(ctx, func(context.Context, bun.IDB) error { ran = true; return nil }, add("thing-1", 0, "c"))
		if !errors.Is(err, eventstore.ErrConflict) || ran {
			t.Errorf("conflicting append: got %v (function ran: %v), want ErrConflict without running it", err, ran)
		}
		if got := rows(); got != 1 {
			t.Errorf("caller rows: got %d, want 1", got)
		}
		if recs, _ := s.Load(ctx, "thing-2"); len(recs) != 0 {
			t.Errorf("thing-2: got %d events, want none (rolled back with the caller's row)", len(recs))
		}
	})
}

// InGroupTx moves the group, parks and unparks, and writes the caller's
// rows in one commit; on an error none of it stays.
func TestInGroupTxCommitsTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		rows := callerTable(t, db)
		res, err := s.Append(ctx, add("thing-1", 0, "a", "b"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := s.Load(ctx, "thing-1")
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = s.InGroupTx(ctx, "g", func(ctx context.Context, tx eventstore.GroupTx) error {
			if err := tx.MoveTo(ctx, res.Last); err != nil {
				return err
			}
			if err := tx.Park(ctx, recs[0], boom); err != nil {
				return err
			}
			return insertRow("r1")(ctx, tx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Checkpoint(ctx, "g"); got != res.Last {
			t.Errorf("checkpoint: got %v, want %v", got, res.Last)
		}
		if parked, _ := s.Parked(ctx, "g"); len(parked) != 1 || rows() != 1 {
			t.Errorf("after the commit: %d parked, %d rows, want 1 and 1", len(parked), rows())
		}
		err = s.InGroupTx(ctx, "g", func(ctx context.Context, tx eventstore.GroupTx) error {
			// Forward: a group never moves back (R36).
			if err := tx.MoveTo(ctx, eventstore.Position{Offset: res.Last.Offset + 100, TxID: res.Last.TxID + 100}); err != nil {
				return err
			}
			if err := tx.UnparkAll(ctx); err != nil {
				return err
			}
			if err := insertRow("r2")(ctx, tx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("failing group transaction: got %v, want %v", err, boom)
		}
		if got, _ := s.Checkpoint(ctx, "g"); got != res.Last {
			t.Errorf("checkpoint after a rollback: got %v, want %v", got, res.Last)
		}
		if parked, _ := s.Parked(ctx, "g"); len(parked) != 1 || rows() != 1 {
			t.Errorf("after a rollback: %d parked, %d rows, want 1 and 1", len(parked), rows())
		}
	})
}

// R35 retry: UnparkWith deletes a parked row only together with what the
// caller's function wrote; nil unparks alone.
func TestR35_UnparkWithCommitsTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		rows := callerTable(t, db)
		if _, err := s.Append(ctx, add("thing-1", 0, "a"), add("thing-2", 0, "b")); err != nil {
			t.Fatal(err)
		}
		// ReadUntil the head, not ReadAll: on PostgreSQL a read right after
		// an append may stop short (see TestBehind).
		head, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.ReadUntil(ctx, eventstore.Position{}, head, 10)
		if err != nil || len(all) != 2 {
			t.Fatalf("read: %d events, %v", len(all), err)
		}
		boom := errors.New("boom")
		if err := s.InGroupTx(ctx, "g", func(ctx context.Context, tx eventstore.GroupTx) error {
			for _, r := range all {
				if err := tx.Park(ctx, r, boom); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		err = s.UnparkWith(ctx, "g", all[0].Position, func(ctx context.Context, tx bun.Tx) error {
			if err := insertRow("r1")(ctx, tx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("failing unpark: got %v, want %v", err, boom)
		}
		if parked, _ := s.Parked(ctx, "g"); len(parked) != 2 || rows() != 0 {
			t.Errorf("after a failed unpark: %d parked, %d rows, want 2 and 0", len(parked), rows())
		}
		if err := s.UnparkWith(ctx, "g", all[0].Position, func(ctx context.Context, tx bun.Tx) error {
			return insertRow("r1")(ctx, tx)
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.UnparkWith(ctx, "g", all[1].Position, nil); err != nil {
			t.Fatal(err)
		}
		if parked, _ := s.Parked(ctx, "g"); len(parked) != 0 || rows() != 1 {
			t.Errorf("after unparking: %d parked, %d rows, want 0 and 1", len(parked), rows())
		}
	})
}

// LoadSQLTx reads a stream as the transaction sees it: with what the
// transaction appended (AppendSQLTx), which a Load beside it does not see
// until the commit — a decision appended in the transaction reads its
// stream so (the saga's failMessage on SQLite, R35).
func TestLoadSQLTxSeesTheTransactionsOwnAppends(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("thing-1", 0, "a")); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Write.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := s.AppendSQLTx(ctx, tx, add("thing-1", 1, "b")); err != nil {
			t.Fatal(err)
		}
		in, err := s.LoadSQLTx(ctx, tx, "thing-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(in) != 2 || in[1].Version != 2 || in[1].Event != (thingAdded{Name: "b"}) {
			t.Errorf("LoadSQLTx: got %d events %+v, want 2 with the transaction's own at version 2", len(in), in)
		}
		beside, err := s.Load(ctx, "thing-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(beside) != 1 {
			t.Errorf("Load beside the open transaction: got %d events, want the 1 committed", len(beside))
		}
	})
}
