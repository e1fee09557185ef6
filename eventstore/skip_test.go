package eventstore_test

import (
	"sync"
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// SkipAhead moves a group far behind over the leading events its consumer
// does nothing with and stops before the first it handles; a group close
// to the head is left alone; of several callers at once one moves it.
func TestSkipAheadStopsAtTheFirstHandledEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		ctx := t.Context()
		var names []string
		for range 30 {
			names = append(names, "x")
		}
		if _, err := s.Append(ctx, add("ignored-1", 0, names...)); err != nil {
			t.Fatal(err)
		}
		before, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, add("handled-1", 0, "h")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, add("ignored-2", 0, names...)); err != nil {
			t.Fatal(err)
		}
		skips := func(rec eventstore.Record) bool { return rec.StreamID != "handled-1" }
		if n, err := s.SkipAhead(ctx, "close", 100, skips); err != nil || n != 0 {
			t.Errorf("group 61 events behind, bound 100: skipped %d (%v), want 0", n, err)
		}
		if cp, _ := s.Checkpoint(ctx, "close"); cp != (eventstore.Position{}) {
			t.Errorf("group close to the head moved to %s, want it left at the start", cp)
		}
		var wg sync.WaitGroup
		got := make([]int64, 3)
		for i := range got {
			wg.Go(func() {
				var err error
				if got[i], err = s.SkipAhead(ctx, "g", 10, skips); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if total := got[0] + got[1] + got[2]; total != 30 {
			t.Errorf("skipped %v events by three callers, want 30 by one", got)
		}
		if cp, _ := s.Checkpoint(ctx, "g"); cp != before {
			t.Errorf("group at %s, want just before the handled event, %s", cp, before)
		}
	})
}
