package saga

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// noted is an event of the committer's tests.
type noted struct{ N string }

func (noted) EventName() string { return "Noted.v1" }

func noteOn(stream string) eventstore.StreamAppend {
	return eventstore.StreamAppend{StreamType: "note", StreamID: stream, Events: []eventstore.NewEvent{{Event: noted{N: stream}}}}
}

// groupCommitter is a committer on db, where it writes groups, and its
// store.
func groupCommitter(t *testing.T, db *database.DB) (*committer, *eventstore.Store) {
	if db.Kind != database.Postgres {
		t.Skip("SQLite: the committer appends each at once, there is no group and no writer to wait for")
	}
	reg, err := eventstore.NewRegistry(noted{})
	if err != nil {
		t.Fatal(err)
	}
	s := eventstore.New(db, eventstore.Options{Registry: reg})
	return &committer{store: s}, s
}

// appendAsync runs c.append for stream and delivers its error.
func appendAsync(ctx context.Context, c *committer, stream string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.append(ctx, nil, noteOn(stream))
		done <- err
	}()
	return done
}

// waitQueued waits until n appends wait in c's queue.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.queue)
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// result waits for an append's error, failing the test if it never comes.
func result(t *testing.T, name string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting after 10s", name)
		return nil
	}
}

// streams lists which of the tests' streams hold events.
func streams(t *testing.T, s *eventstore.Store) string {
	t.Helper()
	got, err := s.LoadMany(t.Context(), "a", "b", "c", "d")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id, recs := range got {
		if len(recs) > 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// R23 (every unfinished message resumes): a group write that panics —
// the writer's alone, and then the group of the workers that waited for
// it — is an error for each of its workers, and every one of them
// returns; the next worker is not left waiting for a writer that is
// gone, and commits.
func TestR23_APanicOfAGroupWriteLeavesLaterWorkersAbleToCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c, s := groupCommitter(t, db)
		var calls atomic.Int32
		entered, release := make(chan struct{}), make(chan struct{})
		c.appendEach = func(ctx context.Context, each []eventstore.Guarded) ([]eventstore.AppendResult, []error) {
			switch calls.Add(1) {
			case 1:
				close(entered)
				<-release
				panic("injected into the first group")
			case 2:
				panic(fmt.Sprintf("injected into the second group of %d", len(each)))
			}
			return s.AppendEach(ctx, each)
		}
		a := appendAsync(ctx, c, "a")
		<-entered // a writes its group: b and c wait for the next
		b, cc := appendAsync(ctx, c, "b"), appendAsync(ctx, c, "c")
		waitQueued(t, c, 2)
		close(release)
		var pe *eventstore.PanicError
		for name, done := range map[string]<-chan error{"a": a, "b": b, "c": cc} {
			if err := result(t, name, done); !errors.As(err, &pe) {
				t.Errorf("%s: got %v, want the group write's panic as an error", name, err)
			}
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("%d group writes, want 2 (a's, then b's and c's)", n)
		}
		if err := result(t, "d", appendAsync(ctx, c, "d")); err != nil {
			t.Fatalf("d after the panics: got %v, want success", err)
		}
		if got := streams(t, s); got != "d" {
			t.Errorf("events of streams %q, want only d's", got)
		}
	})
}

// R23: a worker whose context ends while its append waits in the queue
// (a writer is slow) returns with the context's error at once, and its
// append is not written; the writer and the workers after it go on.
func TestR23_AWaitingWorkerHonoursItsContext(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c, s := groupCommitter(t, db)
		var calls atomic.Int32
		entered, release := make(chan struct{}), make(chan struct{})
		c.appendEach = func(ctx context.Context, each []eventstore.Guarded) ([]eventstore.AppendResult, []error) {
			if calls.Add(1) == 1 {
				close(entered)
				<-release
			}
			return s.AppendEach(ctx, each)
		}
		a := appendAsync(ctx, c, "a")
		<-entered
		bctx, cancel := context.WithCancel(ctx)
		b := appendAsync(bctx, c, "b")
		waitQueued(t, c, 1)
		cancel()
		if err := result(t, "b", b); !errors.Is(err, context.Canceled) {
			t.Errorf("b: got %v, want context.Canceled while a's group is written", err)
		}
		close(release)
		if err := result(t, "a", a); err != nil {
			t.Errorf("a: got %v, want success", err)
		}
		if err := result(t, "d", appendAsync(ctx, c, "d")); err != nil {
			t.Errorf("d: got %v, want success", err)
		}
		if got := streams(t, s); got != "a,d" {
			t.Errorf("events of streams %q, want a's and d's", got)
		}
	})
}
