package eventstore_test

import (
	"testing"

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
