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

// R23 (the saga records an attempt only against the configuration it was
// checked against): a group in which one append writes a stream that
// another requires unchanged gives what the appends give one after the
// other, on both databases. In one PostgreSQL statement both checks
// would read the statement's snapshot and both pass, so such a group is
// not written as one: the append that required the stream at its old
// version is refused, and nothing of it is written.
func TestR23_AppendEachRefusesWhatAnEarlierAppendOfTheGroupChanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("config", 0, "c1")); err != nil {
			t.Fatal(err)
		}
		_, errs := s.AppendEach(ctx, []eventstore.Guarded{
			{Appends: []eventstore.StreamAppend{add("config", 1, "c2")}},
			{Unchanged: map[string]int64{"config": 1}, Appends: []eventstore.StreamAppend{add("msg-1", 0, "decided-on-c1")}},
		})
		if errs[0] != nil {
			t.Errorf("config: got %v, want success", errs[0])
		}
		if !errors.Is(errs[1], eventstore.ErrConflict) {
			t.Errorf("msg-1 decided on config v1, config at v2 after the group: got %v, want ErrConflict", errs[1])
		}
		if recs, err := s.Load(ctx, "msg-1"); err != nil || len(recs) != 0 {
			t.Errorf("msg-1 holds %d events (%v), want none", len(recs), err)
		}
	})
}

// R23 (an outcome committed is not reported late): an append of a group
// that is a retry of one already stored where it meant to be — its group
// committed but the answer was lost — is answered as done, with the
// stored positions, as Append answers it; nothing is written twice.
func TestR23_AppendEachAnswersARetryOfAStoredAppendAsDone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("config", 0, "c1")); err != nil {
			t.Fatal(err)
		}
		retried := func(stream, id string) eventstore.StreamAppend {
			a := add(stream, 0, "x")
			a.Events[0].ID = id
			return a
		}
		first, err := s.AppendIf(ctx, map[string]int64{"config": 1}, retried("r-1", "0190a0b4-0000-7000-8000-000000000001"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, retried("r-2", "0190a0b4-0000-7000-8000-000000000002")); err != nil {
			t.Fatal(err)
		}
		results, errs := s.AppendEach(ctx, []eventstore.Guarded{
			{Unchanged: map[string]int64{"config": 1}, Appends: []eventstore.StreamAppend{retried("r-1", "0190a0b4-0000-7000-8000-000000000001")}},
			{Appends: []eventstore.StreamAppend{add("r-3", 0, "y")}},
			{Appends: []eventstore.StreamAppend{retried("r-2", "0190a0b4-0000-7000-8000-000000000002")}},
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("append %d: got %v, want success", i, err)
			}
		}
		if results[0].Last != first.Last || results[0].Versions["r-1"] != 1 {
			t.Errorf("retry of r-1: got %+v, want %+v", results[0], first)
		}
		if n, _ := s.Count(ctx); n != 4 {
			t.Errorf("log has %d events, want 4", n)
		}
		// The same when the group's statement fails as a whole (an event
		// ID stored elsewhere) and each append is tried on its own.
		results, errs = s.AppendEach(ctx, []eventstore.Guarded{
			{Appends: []eventstore.StreamAppend{retried("r-2", "0190a0b4-0000-7000-8000-000000000002")}},
			{Appends: []eventstore.StreamAppend{retried("r-5", "0190a0b4-0000-7000-8000-000000000001")}},
		})
		if errs[0] != nil || results[0].Versions["r-2"] != 1 {
			t.Errorf("retry of r-2 in a failed group: got %+v, %v, want done at version 1", results[0], errs[0])
		}
		if !errors.Is(errs[1], eventstore.ErrInvalidAppend) {
			t.Errorf("r-5 with r-1's event ID: got %v, want ErrInvalidAppend", errs[1])
		}
		// An append whose stream moved on and whose events are not
		// stored stays a conflict.
		_, errs = s.AppendEach(ctx, []eventstore.Guarded{
			{Appends: []eventstore.StreamAppend{add("r-1", 0, "other")}},
			{Appends: []eventstore.StreamAppend{add("r-4", 0, "z")}},
		})
		if !errors.Is(errs[0], eventstore.ErrConflict) || errs[1] != nil {
			t.Errorf("got %v / %v, want ErrConflict / success", errs[0], errs[1])
		}
	})
}
