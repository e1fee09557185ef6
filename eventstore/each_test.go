package eventstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// A group commit checks each append on its own: conflicts refuse only
// their own append and write nothing of it; the others are written with
// their positions (the saga's group commit of attempts and outcomes, R23).
func TestAppendEachChecksEachAppendOnItsOwn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("msg-stale", 0, "a", "b"), add("config", 0, "c")); err != nil {
			t.Fatal(err)
		}
		results, errs := s.AppendEach(ctx, []eventstore.Guarded{
			{Appends: []eventstore.StreamAppend{add("msg-new", 0, "new-1", "new-2")}},
			{Appends: []eventstore.StreamAppend{add("msg-stale", 1, "stale")}},
			{Unchanged: map[string]int64{"config": 1}, Appends: []eventstore.StreamAppend{add("msg-checked", 0, "checked")}},
			{Unchanged: map[string]int64{"config": 0}, Appends: []eventstore.StreamAppend{add("msg-moved", 0, "moved")}},
			{Appends: []eventstore.StreamAppend{add("msg-past", 4, "past")}},
		})
		want := []bool{true, false, true, false, false}
		for i, ok := range want {
			if ok && errs[i] != nil {
				t.Errorf("append %d: got %v, want success", i, errs[i])
			}
			if !ok && !errors.Is(errs[i], eventstore.ErrConflict) {
				t.Errorf("append %d: got %v, want ErrConflict", i, errs[i])
			}
		}
		for stream, n := range map[string]int{"msg-new": 2, "msg-stale": 2, "msg-checked": 1, "msg-moved": 0, "msg-past": 0} {
			recs, err := s.Load(ctx, stream)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != n {
				t.Errorf("%s holds %d events, want %d", stream, len(recs), n)
			}
			if n > 0 && stream != "msg-stale" {
				i := map[string]int{"msg-new": 0, "msg-checked": 2}[stream]
				if results[i].Last != recs[n-1].Position || results[i].Versions[stream] != int64(n) {
					t.Errorf("%s: result %+v, stored last %v", stream, results[i], recs[n-1].Position)
				}
			}
		}
		if n, _ := s.Count(ctx); n != 6 {
			t.Errorf("log has %d events, want 6", n)
		}
	})
}

// A writer that takes a version of one of the group's streams while the
// group waits for it makes the group's statement fail as a whole (the
// unique constraint); each append is then tried on its own, so only the
// one that lost is refused.
func TestAppendEachAfterAConcurrentWriter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendTx(ctx, tx, add("msg-2", 0, "theirs")); err != nil {
			t.Fatal(err)
		}
		type outcome struct {
			results []eventstore.AppendResult
			errs    []error
		}
		done := make(chan outcome)
		go func() {
			r, e := s.AppendEach(ctx, []eventstore.Guarded{
				{Appends: []eventstore.StreamAppend{add("msg-1", 0, "ours-1")}},
				{Appends: []eventstore.StreamAppend{add("msg-2", 0, "ours-2")}},
			})
			done <- outcome{r, e}
		}()
		time.Sleep(200 * time.Millisecond) // the group waits for the writer's row
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		o := <-done
		if o.errs[0] != nil {
			t.Errorf("msg-1: got %v, want success", o.errs[0])
		}
		if !errors.Is(o.errs[1], eventstore.ErrConflict) {
			t.Errorf("msg-2: got %v, want ErrConflict", o.errs[1])
		}
		for stream, name := range map[string]string{"msg-1": "ours-1", "msg-2": "theirs"} {
			recs, err := s.Load(ctx, stream)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Event.(thingAdded).Name != name {
				t.Errorf("%s holds %v, want only %q", stream, recs, name)
			}
		}
	})
}
