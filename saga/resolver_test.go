package saga_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
)

// queuedBatch appends n MessageQueued without a resolution (nor content:
// a worker ends each FAILED, its content purged) in one append, so the
// resolver reads them in one batch and resolves each itself; poison
// inserts, after the first, a MessageQueued whose JSON does not decode.
func (e *env) queuedBatch(n int, poison bool) (ids []string, unreadable string) {
	e.t.Helper()
	var appends []eventstore.StreamAppend
	add := func(id string, ev eventstore.Event) {
		appends = append(appends, eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: app.MessageStreamID(id),
			ExpectedVersion: 0, Events: []eventstore.NewEvent{{Event: ev, Metadata: eventstore.Metadata{TenantID: e.tenant}}}})
	}
	for i := range n {
		id := uuid.NewString()
		ids = append(ids, id)
		add(id, message.MessageQueued{MessageID: id, TenantID: e.tenant, UserID: e.userID, Kind: message.KindMessage,
			From: message.Mailbox{Address: "noreply@absender.example"}, To: []message.Mailbox{{Address: "bob@example.org"}},
			Subject: fmt.Sprintf("batch %d", i)})
		if poison && i == 0 {
			unreadable = uuid.NewString()
			add(unreadable, rawEvent{"MessageQueued.v1", `{"messageId": 7}`})
		}
	}
	if _, err := e.srv.Store.Append(e.t.(*testing.T).Context(), appends...); err != nil {
		e.t.Fatal(err)
	}
	return ids, unreadable
}

// count runs a counting query.
func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// resolvedOnce checks that each message was resolved exactly once and
// then failed by a worker (no content) exactly once.
func (e *env) resolvedOnce(ids []string) {
	e.t.Helper()
	for _, id := range ids {
		m := e.await(id)
		if m.Status != string(message.StatusFailed) {
			e.t.Errorf("message %s: got %s, want FAILED (no content)", id, m.Status)
		}
		if got, want := joined(e.events(id)), "MessageQueued,TransportResolved,MessageFailed"; got != want {
			e.t.Errorf("events of %s: got %s, want %s", id, got, want)
		}
	}
}

// R23 (crash safety of a batch): the resolver applies a batch of queued
// messages together — their resolutions and schedule rows sent — and
// the process dies before the batch commits. Nothing of the batch is
// left (no resolution, no schedule row, the group not past it); the next
// process applies the batch again and resolves and schedules every
// message exactly once.
func TestR23_ACrashMidBatchResolvesAndSchedulesEveryMessageOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const n = 5
		var crashes, largest atomic.Int32
		reset := saga.SetBeforeBatchEnd(func(events int) error {
			crashes.Add(1)
			if int32(events) > largest.Load() {
				largest.Store(int32(events))
			}
			return fmt.Errorf("%w: simulated crash", eventstore.ErrTransient)
		})
		t.Cleanup(reset) // after the process stopped (cleanups run last first)
		e := newEnv(t, db, server.Options{})
		ids, _ := e.queuedBatch(n, false)
		waitFor(t, func() bool { return crashes.Load() >= 2 }) // the batch failed, and again after the pause
		e.stop()                                               // the crashed process is gone
		reset()
		if got := largest.Load(); got != n {
			t.Errorf("the batch the crash interrupted held %d message events, want %d (one batch)", got, n)
		}
		for _, id := range ids {
			if got := joined(e.events(id)); got != "MessageQueued" {
				t.Errorf("events of %s after the crash: got %s, want MessageQueued alone (the batch's resolution rolled back)", id, got)
			}
		}
		if got := e.count(`SELECT count(*) FROM saga_schedule`); got != 0 {
			t.Errorf("schedule rows after the crash: got %d, want 0 (the batch's rows rolled back)", got)
		}

		srv2, _ := run(t, db, server.Options{Transport: transportLoopback()})
		e.srv = srv2
		e.resolvedOnce(ids)
		if parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup); err != nil || len(parked) != 0 {
			t.Errorf("parked for the saga: got %+v (%v), want none", parked, err)
		}
	})
}

// R35: a batch with one event the resolver cannot read goes event by
// event: that event is parked, and every other message of the batch is
// resolved and scheduled as if alone.
func TestR35_ABatchWithOnePoisonousEventSchedulesTheOthers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var batches atomic.Int32
		reset := saga.SetBeforeBatchEnd(func(int) error { batches.Add(1); return nil })
		t.Cleanup(reset) // after the process stopped (cleanups run last first)
		e := newEnv(t, db, server.Options{})
		ids, unreadable := e.queuedBatch(4, true)
		e.resolvedOnce(ids)
		parked, err := e.srv.Store.Parked(t.Context(), saga.ConsumerGroup)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 1 || parked[0].StreamID != app.MessageStreamID(unreadable) {
			t.Errorf("parked for the saga: got %+v, want the unreadable MessageQueued only", parked)
		}
		// The workers' MessageFailed came in later batches, applied together.
		if batches.Load() == 0 {
			t.Errorf("no batch was applied together")
		}
	})
}
