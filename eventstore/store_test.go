package eventstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"

	"github.com/absender/absender/database"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/internal/dbtest"
)

type thingAdded struct {
	Name string `json:"name"`
}

func (thingAdded) EventName() string { return "ThingAdded.v1" }

type thingRenamedV1 struct {
	Name string `json:"name"`
}

func (thingRenamedV1) EventName() string { return "ThingRenamed.v1" }

// thingRenamed is v2: the field was renamed, an upcaster maps v1 to it.
type thingRenamed struct {
	NewName string `json:"newName"`
}

func (thingRenamed) EventName() string { return "ThingRenamed.v2" }

func newRegistry(t *testing.T) *eventstore.Registry {
	t.Helper()
	reg, err := eventstore.NewRegistry(thingAdded{}, thingRenamedV1{}, thingRenamed{})
	if err != nil {
		t.Fatal(err)
	}
	reg.RegisterUpcaster("ThingRenamed", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var v1 thingRenamedV1
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(thingRenamed{NewName: v1.Name})
	})
	return reg
}

func newStore(t *testing.T, db *database.DB) *eventstore.Store {
	return eventstore.New(db, eventstore.Options{Registry: newRegistry(t)})
}

func add(stream string, expected int64, names ...string) eventstore.StreamAppend {
	a := eventstore.StreamAppend{StreamType: "thing", StreamID: stream, ExpectedVersion: expected}
	for _, n := range names {
		a.Events = append(a.Events, eventstore.NewEvent{Event: thingAdded{Name: n}, Metadata: eventstore.Metadata{Actor: "tester", TenantID: "t1", CorrelationID: "c1"}})
	}
	return a
}

func TestAppendLoadRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		res, err := s.Append(ctx, add("thing-1", 0, "a", "b"))
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		if got := res.Versions["thing-1"]; got != 2 {
			t.Errorf("version after append: got %d, want 2", got)
		}
		recs, err := s.Load(ctx, "thing-1")
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if len(recs) != 2 {
			t.Fatalf("loaded %d events, want 2", len(recs))
		}
		for i, r := range recs {
			if r.Version != int64(i+1) || r.StreamType != "thing" || r.Name() != "ThingAdded.v1" {
				t.Errorf("record %d: got %+v", i, r)
			}
			if r.Metadata.Actor != "tester" || r.Metadata.TenantID != "t1" || r.Metadata.CorrelationID != "c1" {
				t.Errorf("record %d metadata: got %+v", i, r.Metadata)
			}
			if r.RecordedAt.IsZero() || r.ID == "" || r.Position.Offset == 0 {
				t.Errorf("record %d lacks time, id or position: %+v", i, r)
			}
		}
		if got := recs[1].Event.(thingAdded).Name; got != "b" {
			t.Errorf("second event: got %q, want b", got)
		}
		if recs[1].Position != res.Last {
			t.Errorf("append reported last position %v, load says %v", res.Last, recs[1].Position)
		}
	})
}

func TestStaleExpectedVersionConflicts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("thing-1", 0, "a")); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name     string
			expected int64
		}{{"behind", 0}, {"past the end", 5}} {
			_, err := s.Append(ctx, add("thing-1", tc.expected, "x"), add("thing-2", 0, "y"))
			if !errors.Is(err, eventstore.ErrConflict) {
				t.Errorf("%s: got %v, want ErrConflict", tc.name, err)
			}
		}
		if _, err := s.Append(ctx, add("thing-1", 3, "z")); !errors.Is(err, eventstore.ErrConflict) {
			t.Errorf("single stream past the end: got %v, want ErrConflict", err)
		}
		// Nothing of a refused append is written.
		if recs, _ := s.Load(ctx, "thing-2"); len(recs) != 0 {
			t.Errorf("thing-2 has %d events after refused appends, want 0", len(recs))
		}
		if n, _ := s.Count(ctx); n != 1 {
			t.Errorf("log has %d events, want 1", n)
		}
	})
}

// AppendIf writes only while every stream it read stands where it read
// it, and a refused AppendIf writes nothing (the saga's attempt relies on
// it: R23's re-check of the configuration before an attempt).
func TestAppendIfRequiresUnchangedStreams(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("config-1", 0, "a", "b")); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name      string
			unchanged map[string]int64
			expected  int64
			ok        bool
		}{
			{"as read", map[string]int64{"config-1": 2, "config-none": 0}, 0, true},
			{"moved on", map[string]int64{"config-1": 1}, 1, false},
			{"not there yet", map[string]int64{"config-none": 1}, 1, false},
			{"as read, next event", map[string]int64{"config-1": 2}, 1, true},
			{"expected past the end", map[string]int64{"config-1": 2}, 5, false},
		} {
			_, err := s.AppendIf(ctx, tc.unchanged, add("msg-1", tc.expected, tc.name))
			if tc.ok && err != nil {
				t.Errorf("%s: got %v, want success", tc.name, err)
			}
			if !tc.ok && !errors.Is(err, eventstore.ErrConflict) {
				t.Errorf("%s: got %v, want ErrConflict", tc.name, err)
			}
		}
		recs, err := s.Load(ctx, "msg-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Event.(thingAdded).Name != "as read" || recs[1].Event.(thingAdded).Name != "as read, next event" {
			t.Errorf("msg-1 holds %d events %v, want the two allowed ones", len(recs), recs)
		}
	})
}

// 32 writers race on one stream, each loading, appending and retrying on
// conflict: every version is written exactly once and nothing is lost.
func TestConcurrentAppendsToOneStream(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		const writers = 32
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for attempt := 0; attempt < 200; attempt++ {
					recs, err := s.Load(ctx, "hot")
					if err != nil {
						errs <- err
						return
					}
					_, err = s.Append(ctx, add("hot", int64(len(recs)), fmt.Sprintf("w%d", w)))
					if errors.Is(err, eventstore.ErrConflict) {
						continue
					}
					errs <- err
					return
				}
				errs <- fmt.Errorf("writer %d: too many conflicts", w)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		recs, err := s.Load(ctx, "hot")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != writers {
			t.Fatalf("stream has %d events, want %d", len(recs), writers)
		}
		seen := map[string]bool{}
		for i, r := range recs {
			if r.Version != int64(i+1) {
				t.Errorf("event %d has version %d", i, r.Version)
			}
			name := r.Event.(thingAdded).Name
			if seen[name] {
				t.Errorf("writer %s appended twice", name)
			}
			seen[name] = true
		}
	})
}

func TestIdempotentRetryByEventID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		a := add("thing-1", 0, "a")
		a.Events[0].ID = "0b7e9a4c-8d1e-4a51-9a57-5c0f3c1e2f01"
		first, err := s.Append(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Append(ctx, a)
		if err != nil {
			t.Fatalf("retried append: got %v, want success", err)
		}
		if again.Last != first.Last {
			t.Errorf("retry reports %v, first append %v", again.Last, first.Last)
		}
		if n, _ := s.Count(ctx); n != 1 {
			t.Errorf("log has %d events after a retried append, want 1", n)
		}
		// The same id for a different place is refused.
		b := add("thing-2", 0, "b")
		b.Events[0].ID = a.Events[0].ID
		if _, err := s.Append(ctx, b); !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Errorf("reused id elsewhere: got %v, want ErrInvalidAppend", err)
		}
	})
}

func TestReadAllInGlobalOrderWithUpcasting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		for i := range 5 {
			if _, err := s.Append(ctx, add(fmt.Sprintf("thing-%d", i%2), int64(i/2), fmt.Sprintf("e%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		// An old-version event is read as the new version on every path.
		if _, err := s.Append(ctx, eventstore.StreamAppend{StreamType: "thing", StreamID: "thing-9", Events: []eventstore.NewEvent{{Event: thingRenamedV1{Name: "old"}}}}); err != nil {
			t.Fatal(err)
		}
		var all []eventstore.Record
		from := eventstore.Position{}
		// On PostgreSQL ReadAll stops below the oldest running transaction
		// of this database (an append still committing): read until all arrived.
		deadline := time.Now().Add(10 * time.Second)
		for len(all) < 6 && time.Now().Before(deadline) {
			page, err := s.ReadAll(ctx, from, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			all = append(all, page...)
			from = page[len(page)-1].Position
		}
		if len(all) != 6 {
			t.Fatalf("read %d events, want 6", len(all))
		}
		for i := range 5 {
			if got := all[i].Event.(thingAdded).Name; got != fmt.Sprintf("e%d", i) {
				t.Errorf("event %d: got %s", i, got)
			}
		}
		up, ok := all[5].Event.(thingRenamed)
		if !ok || up.NewName != "old" {
			t.Errorf("ReadAll did not upcast: got %#v", all[5].Event)
		}
		recs, _ := s.Load(ctx, "thing-9")
		if up, ok := recs[0].Event.(thingRenamed); !ok || up.NewName != "old" {
			t.Errorf("Load did not upcast: got %#v", recs[0].Event)
		}
	})
}

// consume collects events of a consumer group until want have arrived.
type consumer struct {
	mu   sync.Mutex
	recs []eventstore.Record
	got  chan struct{}
}

func startConsumer(t *testing.T, s *eventstore.Store, group string, handle func(msg *message.Message, r eventstore.Record) error) *consumer {
	t.Helper()
	sub, err := s.NewSubscriber(eventstore.SubscriberOptions{ConsumerGroup: group, PollInterval: 50 * time.Millisecond, RetryInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	msgs, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		t.Fatal(err)
	}
	c := &consumer{got: make(chan struct{}, 1000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range msgs {
			r, err := s.Decode(msg)
			if err != nil {
				t.Errorf("decode: %v", err)
				msg.Nack()
				continue
			}
			if handle != nil {
				if err := handle(msg, r); err != nil {
					t.Logf("handler: %v", err)
					msg.Nack()
					continue
				}
			}
			c.mu.Lock()
			c.recs = append(c.recs, r)
			c.mu.Unlock()
			msg.Ack()
			c.got <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = sub.Close()
		<-done
	})
	return c
}

func (c *consumer) wait(t *testing.T, n int) []eventstore.Record {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		c.mu.Lock()
		if len(c.recs) >= n {
			out := append([]eventstore.Record(nil), c.recs...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		select {
		case <-c.got:
		case <-deadline:
			t.Fatalf("consumer has %d events after 15s, want %d", len(c.recs), n)
		}
	}
}

// A consumer never skips an event whose transaction commits after a later
// one: open A and append; append and commit B; commit A; both arrive.
func TestConsumerNeverSkipsLateCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("warmup", 0, "w")); err != nil {
			t.Fatal(err)
		}
		c := startConsumer(t, s, "late-commit", nil)
		c.wait(t, 1)

		txA, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendTx(ctx, txA, add("thing-a", 0, "A")); err != nil {
			t.Fatal(err)
		}
		bDone := make(chan error, 1)
		go func() {
			_, err := s.Append(ctx, add("thing-b", 0, "B"))
			bDone <- err
		}()
		if db.Kind == database.Postgres {
			// B commits while A is open, and the consumer gets time to see
			// it (and wrongly move past A, if it could).
			if err := <-bDone; err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			if recs := c.wait(t, 1); len(recs) != 1 {
				t.Fatalf("consumer saw %d events while A was open; B must wait behind A", len(recs))
			}
		}
		if err := txA.Commit(); err != nil {
			t.Fatal(err)
		}
		s.Changed()
		if db.Kind != database.Postgres {
			if err := <-bDone; err != nil {
				t.Fatal(err)
			}
		}
		recs := c.wait(t, 3)
		names := map[string]bool{}
		for _, r := range recs[1:] {
			names[r.Event.(thingAdded).Name] = true
		}
		if !names["A"] || !names["B"] || len(recs) != 3 {
			t.Fatalf("consumer got %v, want warm-up, A and B", recs)
		}
	})
}

func TestRolledBackAppendIsNeverDelivered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		err := db.Write.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := s.AppendTx(ctx, tx, add("ghost", 0, "ghost")); err != nil {
				return err
			}
			return errors.New("abort")
		})
		if err == nil {
			t.Fatal("transaction did not abort")
		}
		if _, err := s.Append(ctx, add("real", 0, "real")); err != nil {
			t.Fatal(err)
		}
		c := startConsumer(t, s, "rollback", nil)
		recs := c.wait(t, 1)
		time.Sleep(200 * time.Millisecond)
		recs = c.wait(t, 1)
		if len(recs) != 1 || recs[0].Event.(thingAdded).Name != "real" {
			t.Fatalf("consumer got %v, want only the committed event", recs)
		}
	})
}

// A projection-style handler writes its row through the consumer
// transaction and fails once mid-way: its write is rolled back to the
// savepoint, the event is redelivered, and in the end the row exists once
// and the offset moved once.
func TestFailingHandlerLeavesNoTrace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := db.Write.ExecContext(ctx, `CREATE TABLE things (name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, add("thing-1", 0, "a", "b")); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		failed := map[string]bool{}
		c := startConsumer(t, s, "projection", func(msg *message.Message, r eventstore.Record) error {
			return eventstore.Handle(msg.Context(), func(tx *sql.Tx) error {
				name := r.Event.(thingAdded).Name
				q := `INSERT INTO things (name) VALUES ($1)`
				if db.Kind == database.SQLite {
					q = `INSERT INTO things (name) VALUES (?)`
				}
				if _, err := tx.ExecContext(msg.Context(), q, name); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if name == "b" && !failed[name] {
					failed[name] = true
					return errors.New("crash after writing")
				}
				return nil
			})
		})
		c.wait(t, 2)
		// The batch commits after its last ack; wait for the offset.
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		recs, _ := s.Load(ctx, "thing-1")
		if err := s.WaitFor(waitCtx, recs[1].Position, "projection"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM things`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("things has %d rows, want 2 (a failed handler's write must not survive)", n)
		}
		if !failed["b"] {
			t.Error("handler never failed: the test proves nothing")
		}
	})
}

// When handling fails and the consumer stops before succeeding, neither the
// handler's write nor the offset survives: a new consumer gets the event
// again.
func TestFailedBatchKeepsOffset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := db.Write.ExecContext(ctx, `CREATE TABLE things (name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, add("thing-1", 0, "a")); err != nil {
			t.Fatal(err)
		}
		attempted := make(chan struct{}, 100)
		sub, err := s.NewSubscriber(eventstore.SubscriberOptions{ConsumerGroup: "crashy", PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := sub.Subscribe(ctx, eventstore.Topic)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			n := 0
			for msg := range msgs {
				// Two failing attempts are observed; later redeliveries are
				// only nacked, so none is half-way through its handling
				// while the test closes the subscriber.
				if n++; n <= 2 {
					_ = eventstore.Handle(msg.Context(), func(tx *sql.Tx) error {
						_, _ = tx.ExecContext(msg.Context(), `INSERT INTO things (name) VALUES ('x')`)
						return errors.New("always failing")
					})
					attempted <- struct{}{}
				}
				msg.Nack()
			}
		}()
		<-attempted
		<-attempted
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		cp, err := s.Checkpoint(ctx, "crashy")
		if err != nil {
			t.Fatal(err)
		}
		if cp.Offset != 0 {
			t.Errorf("offset moved to %v although no event was handled", cp)
		}
		var n int
		if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM things`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("things has %d rows after failed handling, want 0", n)
		}
		c := startConsumer(t, s, "crashy", nil)
		if recs := c.wait(t, 1); recs[0].Event.(thingAdded).Name != "a" {
			t.Errorf("restarted consumer got %v", recs)
		}
	})
}

// Events of types this process does not know are delivered with a nil
// Event so the consumer can ack and move on.
func TestUnknownEventTypesAreDeliverable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		if _, err := s.Append(ctx, add("thing-1", 0, "a")); err != nil {
			t.Fatal(err)
		}
		old := eventstore.New(db, eventstore.Options{}) // knows no types
		c := startConsumer(t, old, "old-version", nil)
		recs := c.wait(t, 1)
		if recs[0].Event != nil || recs[0].Type != "ThingAdded" {
			t.Errorf("got %+v, want an undecoded ThingAdded", recs[0])
		}
	})
}

// Two stores on one PostgreSQL database stand for two processes: a consumer
// in one wakes on an append in the other through LISTEN/NOTIFY, long before
// its poll interval.
func TestOtherProcessWakesConsumer(t *testing.T) {
	db := dbtest.Postgres(t)
	other, err := database.Open(t.Context(), db.URL, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	writer, reader := newStore(t, other), newStore(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go writer.Listen(ctx)
	go reader.Listen(ctx)

	sub, err := reader.NewSubscriber(eventstore.SubscriberOptions{ConsumerGroup: "remote", PollInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs, err := sub.Subscribe(ctx, eventstore.Topic)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // both listeners connected; the consumer polled once and sleeps
	if _, err := writer.Append(ctx, add("remote-1", 0, "hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-msgs:
		msg.Ack()
	case <-time.After(20 * time.Second):
		t.Fatal("consumer did not wake on another process's append (poll interval is a minute)")
	}
}
