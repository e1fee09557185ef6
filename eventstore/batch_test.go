package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// Batch safety (issue 13): watermill-sql moves a group to the last acked
// event also when a batch ends early (here: the subscriber closes before
// the second event is acked). A consumer that acked the first event with
// its statements still queued must not lose them behind a moved offset:
// the ack query refuses and the batch rolls back. Once the consumer says
// the first event is applied, the same early end moves the group past it
// — and the committed position is published to WaitFor without a query.
func TestBatchAckRefusesUnappliedEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("thing-1", 0, "a", "b", "c")); err != nil {
			t.Fatal(err)
		}
		for _, applied := range []bool{false, true} {
			sub, batches, err := s.NewBatchSubscriber(eventstore.SubscriberOptions{ConsumerGroup: "batchy", PollInterval: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := sub.Subscribe(ctx, eventstore.Topic)
			if err != nil {
				t.Fatal(err)
			}
			first := <-msgs
			if got := batches.Len(); got != 3 {
				t.Fatalf("batch of %d events, want 3", got)
			}
			if got := batches.Index(first); got != 0 {
				t.Fatalf("first message at %d, want 0", got)
			}
			if applied {
				batches.Applied(first)
			}
			first.Ack()
			<-msgs // the second, never acked: the batch ends early
			if err := sub.Close(); err != nil {
				t.Fatal(err)
			}
			cp, err := s.Checkpoint(ctx, "batchy")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := s.DecodeRaw(first)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := cp.Reached(rec.Position), applied; got != want {
				t.Fatalf("applied=%v: group at %s, past the first event = %v, want %v", applied, cp, got, want)
			}
			if applied {
				wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := s.WaitFor(wctx, rec.Position, "batchy")
				cancel()
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
