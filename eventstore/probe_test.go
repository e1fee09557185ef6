package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

// An idle consumer on PostgreSQL holds no transaction id (issue 13 item 2):
// its batch transaction takes the group's row FOR UPDATE, which gives it
// an id that holds every other consumer's horizon below it. Looking for
// work must not: while the consumer polls every 5 ms and is woken again
// and again, no backend of the database but this test's own ever shows a
// transaction id. (Before the probe, most samples caught one.)
func TestIdleConsumerHoldsNoTransactionID(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	if _, err := s.Append(ctx, add("warmup", 0, "w")); err != nil {
		t.Fatal(err)
	}
	msgs := subscribe(t, s, "idle", 5*time.Millisecond)
	select {
	case msg := <-msgs:
		msg.Ack()
	case <-time.After(10 * time.Second):
		t.Fatal("the consumer did not get the warm-up event")
	}
	go func() {
		for msg := range msgs {
			msg.Ack()
		}
	}()
	time.Sleep(50 * time.Millisecond) // the warm-up's batch has committed

	conn, err := db.Write.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const samples = 400
	held := 0
	for i := range samples {
		if i%10 == 0 {
			s.Changed() // a wake-up, as after another consumer's commit
		}
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			held++
		}
		time.Sleep(time.Millisecond)
	}
	if held > 0 {
		t.Fatalf("an idle consumer's backend held a transaction id in %d of %d samples", held, samples)
	}

	// It still finds work at once.
	if _, err := s.Append(ctx, add("after", 0, "a")); err != nil {
		t.Fatal(err)
	}
	waitCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	res, err := s.ReadAll(ctx, eventstore.Position{}, 10)
	if err != nil || len(res) != 2 {
		t.Fatalf("ReadAll: %d events, %v", len(res), err)
	}
	if err := s.WaitFor(waitCtx, res[1].Position, "idle"); err != nil {
		t.Fatal(err)
	}
}

// An event held back by the horizon is delivered soon after the
// transaction holding it back ends, although that end wakes nobody (an
// unrelated transaction of this database with a smaller id, not an append
// or batch of this process) and the poll interval is a minute: a consumer
// that sees events after its cursor it may not take yet looks again
// shortly (issue 13 item 2; before, it looked again only for 100 ms after
// the append's wake-up).
func TestHeldBackEventArrivesWhenHolderEnds(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	msgs := subscribe(t, s, "held", time.Minute)
	time.Sleep(100 * time.Millisecond) // the consumer looked once and waits

	holder, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback() }()
	if _, err := holder.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(ctx, add("held-1", 0, "x"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-msgs:
		t.Fatalf("consumer got %s while a transaction with a smaller id was open", msg.UUID)
	case <-time.After(500 * time.Millisecond):
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	ended := time.Now()
	select {
	case msg := <-msgs:
		msg.Ack()
		r, err := s.Decode(msg)
		if err != nil || r.Position != res.Last {
			t.Fatalf("consumer got %v (%v), want the event at %s", r.Position, err, res.Last)
		}
		t.Logf("delivered %s after the holder ended", time.Since(ended))
	case <-time.After(5 * time.Second):
		t.Fatal("the event did not arrive within 5 s after the transaction holding it back ended (poll interval is a minute)")
	}
}

// A consumer group that is caught up subscribes again (a restart, a second
// process): Subscribe's own transaction must not wait for work.
func TestCaughtUpGroupSubscribesAgain(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := t.Context()
	s := newStore(t, db)
	if _, err := s.Append(ctx, add("again", 0, "a")); err != nil {
		t.Fatal(err)
	}
	c := startConsumer(t, s, "again", nil)
	c.wait(t, 1)
	time.Sleep(100 * time.Millisecond) // the batch has committed
	sub, err := s.NewSubscriber(eventstore.SubscriberOptions{ConsumerGroup: "again", PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Subscribe(ctx, eventstore.Topic); err != nil {
		t.Fatalf("subscribing a caught-up group again: %v", err)
	}
}

// subscribe runs a plain consumer of group (the caller acks what it
// receives) until the test ends.
func subscribe(t *testing.T, s *eventstore.Store, group string, poll time.Duration) <-chan *message.Message {
	t.Helper()
	sub, err := s.NewSubscriber(eventstore.SubscriberOptions{ConsumerGroup: group, PollInterval: poll})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(func() { cancel(); _ = sub.Close() })
	msgs, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}
