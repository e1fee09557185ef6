package eventstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// consume delivers the group's events to got (Applied and acked at once).
func consume(t *testing.T, s *eventstore.Store, group string, poll time.Duration) <-chan eventstore.Record {
	t.Helper()
	sub, batches, err := s.NewBatchSubscriber(eventstore.SubscriberOptions{ConsumerGroup: group, PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	msgs, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = sub.Close() })
	got := make(chan eventstore.Record, 1000)
	go func() {
		for msg := range msgs {
			batches.Applied(msg)
			rec, err := s.Decode(msg)
			if err == nil {
				got <- rec
			}
			msg.Ack()
		}
	}()
	return got
}

func await(t *testing.T, got <-chan eventstore.Record, within time.Duration, what string) {
	t.Helper()
	select {
	case <-got:
	case <-time.After(within):
		t.Fatalf("the consumer did not get %s within %s", what, within)
	}
}

// Issue 13 item 2: on SQLite an append that moved a caught-up group inline
// (Store.Inline) leaves that group's consumer nothing to do, and every
// consumer transaction there takes the one writer connection. Appends the
// group's position already covers, and the group's own commits, must not
// make its consumer begin a batch transaction. (Before: one or more per
// append.)
func TestInlinedAppendsBeginNoConsumerTransaction(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := t.Context()
	s := newStore(t, db)
	if _, err := s.Append(ctx, add("warmup", 0, "w")); err != nil {
		t.Fatal(err)
	}
	got := consume(t, s, "quiet", 2*time.Second)
	await(t, got, 10*time.Second, "the warm-up event")
	if err := s.WaitFor(ctx, eventstore.Position{Offset: 1}, "quiet"); err != nil {
		t.Fatal(err)
	}
	applied := 0
	remove := s.Inline("quiet", func(ctx context.Context, tx bun.Tx, recs []eventstore.Record) error {
		applied += len(recs)
		return nil
	})
	defer remove()
	time.Sleep(50 * time.Millisecond) // the consumer has settled
	before := s.ConsumerTxs()
	const n = 30
	for i := range n {
		if _, err := s.Append(ctx, add(fmt.Sprintf("s-%d", i), 0, "x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if applied != n {
		t.Fatalf("applied inline: %d events, want %d (the group was not caught up)", applied, n)
	}
	if d := s.ConsumerTxs() - before; d != 0 {
		t.Errorf("%d appends applied inline made the consumer begin %d batch transactions, want 0", n, d)
	}
	select {
	case rec := <-got:
		t.Errorf("the consumer delivered %s again after it was applied inline", rec.Position)
	default:
	}
}

// Another process appending to the same SQLite file wakes nobody here: the
// consumer must still look, within its poll interval, even though it is at
// or past everything this process appended.
func TestConsumerSeesOtherProcessAppendsSQLite(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := t.Context()
	s := newStore(t, db)
	if _, err := s.Append(ctx, add("warmup", 0, "w")); err != nil {
		t.Fatal(err)
	}
	got := consume(t, s, "remote", 50*time.Millisecond)
	await(t, got, 10*time.Second, "the warm-up event")
	other := newStore(t, db) // its own wake-ups: another process
	for i := range 3 {
		if _, err := other.Append(ctx, add(fmt.Sprintf("o-%d", i), 0, "x")); err != nil {
			t.Fatal(err)
		}
		await(t, got, 2*time.Second, fmt.Sprintf("the other process's event %d", i))
	}
}

// The same without a single local append, on both databases: a group
// whose position this process never learned must look.
func TestConsumerWithoutLocalAppendsLooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		other := newStore(t, db)
		got := consume(t, s, "fresh", 50*time.Millisecond)
		if _, err := other.Append(ctx, add("o", 0, "x")); err != nil {
			t.Fatal(err)
		}
		await(t, got, 5*time.Second, "the other store's event")
	})
}

// Issue 13 item 2: while another append of this store waits for SQLite's
// one writer, an append leaves its events to the consumers, which apply
// the waiting appends' events together in one batch (far less CPU per
// event than each append applying its own); alone, it applies them inline
// (TestInlinedAppendsBeginNoConsumerTransaction). Nothing is lost either
// way: the consumer delivers both events (R36 read-your-writes then waits
// for it).
func TestInlineLeftToConsumersWhileAnotherAppendWaits(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := t.Context()
	s := newStore(t, db)
	if _, err := s.Append(ctx, add("warmup", 0, "w")); err != nil {
		t.Fatal(err)
	}
	got := consume(t, s, "busy", 2*time.Second)
	await(t, got, 10*time.Second, "the warm-up event")
	if err := s.WaitFor(ctx, eventstore.Position{Offset: 1}, "busy"); err != nil {
		t.Fatal(err)
	}
	var applied atomic.Int64
	remove := s.Inline("busy", func(ctx context.Context, tx bun.Tx, recs []eventstore.Record) error {
		applied.Add(int64(len(recs)))
		return nil
	})
	defer remove()

	release, inTx := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := s.AppendWith(ctx, func(ctx context.Context, tx bun.IDB) error {
			close(inTx)
			<-release // holds the writer until the second append waits for it
			return nil
		}, add("first", 0, "a"))
		first <- err
	}()
	<-inTx
	second := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, add("second", 0, "b"))
		second <- err
	}()
	time.Sleep(50 * time.Millisecond) // the second append is under way, waiting for the writer
	close(release)
	for _, done := range []chan error{first, second} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := applied.Load(); n != 0 {
		t.Errorf("applied inline %d events while another append waited, want 0 (the consumer batches them)", n)
	}
	await(t, got, 10*time.Second, "the first event")
	await(t, got, 10*time.Second, "the second event")
}
