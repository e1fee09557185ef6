package eventstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// R35 rebuild: LockGroup and MoveGroup set a consumer group's checkpoint
// in the rebuild's transaction, new or existing, and nothing before the
// commit.
func TestR35_MoveGroupSetsTheCheckpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		for _, want := range []eventstore.Position{{Offset: 7, TxID: 123}, {Offset: 9, TxID: 130}} {
			tx, err := db.Write.DB.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.LockGroup(t.Context(), tx, "g"); err != nil {
				t.Fatal(err)
			}
			if err := s.MoveGroup(t.Context(), tx, "g", want); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			got, err := s.Checkpoint(t.Context(), "g")
			if err != nil || got != want {
				t.Errorf("checkpoint: got %v, %v, want %v", got, err, want)
			}
		}
		tx, err := db.Write.DB.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MoveGroup(t.Context(), tx, "g", eventstore.Position{Offset: 20, TxID: 200}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Checkpoint(t.Context(), "g"); got != (eventstore.Position{Offset: 9, TxID: 130}) {
			t.Errorf("checkpoint after a rolled-back move: got %v, want 9/130", got)
		}
	})
}

// R35 retry beside a live consumer: a batch of the group that waits for
// InGroupTx's lock (watermill's first statement, SELECT … FOR UPDATE of
// the offset, in a repeatable-read transaction) does not go on with the
// snapshot it took before the wait — blind to what InGroupTx wrote, it
// would fail on every row InGroupTx changed, again and again in that
// snapshot: it fails at once with a serialization failure, and the next
// batch sees InGroupTx's writes. PostgreSQL only (SQLite has one writer).
func TestR35_InGroupTxRestartsAnOverlappingBatch(t *testing.T) {
	overlappingBatchRestarts(t, func(ctx context.Context, s *eventstore.Store, write func(context.Context, bun.IDB) error) error {
		return s.InGroupTx(ctx, "g", func(ctx context.Context, tx eventstore.GroupTx) error { return write(ctx, tx) })
	})
}

// R35 retry: UnparkWith locks the group as InGroupTx does, so a
// projection's or the fan-out's retry-parked beside a live consumer makes
// its overlapping batch start again instead of stalling it.
func TestR35_UnparkWithRestartsAnOverlappingBatch(t *testing.T) {
	overlappingBatchRestarts(t, func(ctx context.Context, s *eventstore.Store, write func(context.Context, bun.IDB) error) error {
		return s.UnparkWith(ctx, "g", eventstore.Position{Offset: 1, TxID: 1}, func(ctx context.Context, tx bun.Tx) error { return write(ctx, tx) })
	})
}

// overlappingBatchRestarts: while hold (a transaction of group g) is open,
// a repeatable-read batch of g waits for the group's offset row; once hold
// has committed its write, the batch fails its first statement (40001) or
// sees the write — never goes on in a snapshot without it.
func overlappingBatchRestarts(t *testing.T, hold func(ctx context.Context, s *eventstore.Store, write func(context.Context, bun.IDB) error) error) {
	t.Helper()
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	rows := callerTable(t, db)
	if err := s.InGroupTx(ctx, "g", func(ctx context.Context, tx eventstore.GroupTx) error {
		return tx.MoveTo(ctx, eventstore.Position{Offset: 1, TxID: 1})
	}); err != nil {
		t.Fatal(err)
	}
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- hold(ctx, s, func(ctx context.Context, tx bun.IDB) error {
			close(locked)
			<-release
			return insertRow("r1")(ctx, tx)
		})
	}()
	<-locked
	batch, err := db.Write.DB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = batch.Rollback() }()
	first := make(chan error, 1)
	go func() {
		var off int64
		first <- batch.QueryRowContext(ctx, `SELECT offset_acked FROM events_offsets WHERE consumer_group = 'g' FOR UPDATE`).Scan(&off)
	}()
	time.Sleep(200 * time.Millisecond) // the batch waits for the lock
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	err = <-first
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "40001" {
		if got := rows(); got != 1 {
			t.Errorf("rows after the group's transaction: got %d, want 1", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("the batch's first statement: got %v, want a serialization failure (40001) or success", err)
	}
	var n int
	if err := batch.QueryRowContext(ctx, `SELECT count(*) FROM caller_rows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the batch went on after the group's transaction committed, in a snapshot without its row (%d rows seen): want it restarted (40001)", n)
	}
}

// R36: a consumer group never moves back. The read-your-writes waiters of
// a process keep the positions its consumers committed in memory and
// trust them (wait.go): MoveGroup refuses a position before the group's
// (ErrGroupMovesBack) and changes nothing; the same position or a later
// one is fine.
func TestR36_MoveGroupRefusesToMoveBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		move := func(pos eventstore.Position) error {
			tx, err := db.Write.DB.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			if err := s.LockGroup(t.Context(), tx, "g"); err != nil {
				t.Fatal(err)
			}
			if err := s.MoveGroup(t.Context(), tx, "g", pos); err != nil {
				return err
			}
			return tx.Commit()
		}
		at := eventstore.Position{Offset: 9, TxID: 130}
		if err := move(at); err != nil {
			t.Fatal(err)
		}
		for _, back := range []eventstore.Position{{Offset: 8, TxID: 130}, {Offset: 10, TxID: 120}, {}} {
			if db.Kind == database.SQLite && back.Offset > at.Offset {
				continue // SQLite's position is the offset alone
			}
			if err := move(back); !errors.Is(err, eventstore.ErrGroupMovesBack) {
				t.Errorf("move from %s back to %s: got %v, want ErrGroupMovesBack", at, back, err)
			}
			if got, _ := s.Checkpoint(t.Context(), "g"); got != at {
				t.Errorf("checkpoint after a refused move to %s: got %s, want %s", back, got, at)
			}
		}
		for _, fwd := range []eventstore.Position{at, {Offset: 11, TxID: 131}} {
			if err := move(fwd); err != nil {
				t.Errorf("move from %s to %s: got %v, want it done", at, fwd, err)
			}
		}
		// The one way back, for tests, benchmarks and repairs: ResetGroup.
		if err := s.ResetGroup(t.Context(), "g"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Checkpoint(t.Context(), "g"); got != (eventstore.Position{}) {
			t.Errorf("checkpoint after ResetGroup: got %s, want the start", got)
		}
	})
}
