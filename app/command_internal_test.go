package app

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

func testCore(t *testing.T, db *database.DB) *core {
	t.Helper()
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return &core{store: eventstore.New(db, eventstore.Options{Registry: reg}), newID: func() string { return "" }, retries: 3}
}

// The core's execute: the write a decision gives its attempt (with) runs
// in the append's transaction — its error rolls the events back and is
// returned as it is, and a decision without events runs no write — and a
// stream the decision creates must be new: one that exists is CONFLICT
// after the bounded retries, with nothing written.
func TestExecuteWritesWithTheAppend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := testCore(t, db)
		ctx := t.Context()
		queued := func(id string) domain.Changes {
			return one(message.StreamKind, id, []domain.Event{message.MessageQueued{MessageID: id, TenantID: "t1"}})
		}
		count := func() int64 {
			t.Helper()
			n, err := c.store.Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		wrote := 0
		res, err := c.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			a.create(message.StreamKind, "m1")
			a.with(func(ctx context.Context, tx bun.IDB) error { wrote++; return nil })
			return queued("m1"), nil
		})
		if err != nil || res.Events != 1 || wrote != 1 {
			t.Fatalf("create m1: got %+v, %v, %d writes; want 1 event, nil, 1 write", res, err, wrote)
		}
		before := count()

		errWrite := errors.New("the write failed")
		_, err = c.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			a.create(message.StreamKind, "m2")
			a.with(func(ctx context.Context, tx bun.IDB) error { return errWrite })
			return queued("m2"), nil
		})
		if !errors.Is(err, errWrite) {
			t.Errorf("a failing write: got %v, want the write's error", err)
		}
		if n := count(); n != before {
			t.Errorf("a failing write left %d events", n-before)
		}

		wrote = 0
		if res, err = c.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			a.create(message.StreamKind, "m3")
			a.with(func(ctx context.Context, tx bun.IDB) error { wrote++; return nil })
			return one(message.StreamKind, "m3", nil), nil
		}); err != nil || res.Events != 0 || wrote != 0 {
			t.Errorf("no events: got %+v, %v, %d writes; want 0 events, nil, no write", res, err, wrote)
		}

		decisions, wrote := 0, 0
		_, err = c.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			decisions++
			a.create(message.StreamKind, "m1")
			a.with(func(ctx context.Context, tx bun.IDB) error { wrote++; return nil })
			return queued("m1"), nil
		})
		if !errors.Is(err, domain.ErrConflict) || decisions != c.retries || wrote != 0 {
			t.Errorf("creating m1 again: got %v after %d decisions, %d writes; want CONFLICT after %d, no write", err, decisions, wrote, c.retries)
		}
		if n := count(); n != before {
			t.Errorf("creating m1 again wrote %d events", n-before)
		}
	})
}
