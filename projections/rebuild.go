package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/absender/absender/eventstore"
)

// Tabled is a projection that names its tables, so it can be rebuilt.
type Tabled interface {
	Projection
	Tables() []string
}

// Tables of the directory read model.
func (Directory) Tables() []string {
	return []string{"rm_system", "rm_tenants", "rm_users", "rm_groups", "rm_group_members", "rm_mailboxes",
		"rm_mailbox_grants", "rm_access", "rm_tokens"}
}

// Tables of the audit log.
func (Audit) Tables() []string { return []string{"rm_audit", "rm_audit_fields"} }

// rebuildBeforeLock, when set (tests), runs before Rebuild takes the
// group's lock.
var rebuildBeforeLock func()

// Progress reports a rebuild's advance: events done of total.
type Progress func(done, total int64)

// Rebuilt is what a rebuild did.
type Rebuilt struct {
	// Position is where the consumer group goes on.
	Position eventstore.Position
	// Parked counts the events the rebuild parked (R35): those it could
	// not apply and the later events of their streams.
	Parked int
	// Failures names the events it could not apply, with the error (as
	// eventstore.ParkError shows it).
	Failures []string
}

// Rebuild replays the whole log into a projection's tables and moves its
// consumer group to the end of what it replayed, in one transaction:
//
//   - It first locks the group's row in events_offsets (FOR UPDATE), so a
//     live consumer of the group in any process waits, and then continues
//     from the rebuilt position.
//   - It empties the tables and replays every event into them. Readers are
//     not stopped: until the commit they see the old tables (MVCC on
//     PostgreSQL, the WAL snapshot on SQLite); at the commit the fresh
//     state replaces the old at once.
//   - It replays every event committed when it started (Head), in commit
//     order, and moves the group there; later events reach the group's
//     live consumer after the commit.
//   - R35: the group's parked events are replayed with the rest, and their
//     rows go in the same commit. An event that cannot be decoded or
//     applied eventstore.ParkAfter times in a row does not stop the
//     rebuild: it is parked, with every later event of its stream for the
//     group, in the same transaction, and the rebuild goes on. Statements
//     go to the database in batches, so an error may surface only when a
//     batch is sent: the batch's events are then rolled back to a
//     savepoint and applied again one by one, each in a savepoint of its
//     own, which names the event that fails. A transient error (a lost
//     connection) fails the rebuild, which changes nothing.
//
// The cost: while it runs, the transaction holds back the snapshot horizon
// of other consumer groups on PostgreSQL (they see no newer events until it
// commits), and on SQLite it is the one writer. Rebuild during quiet hours
// when the log is large.
func Rebuild(ctx context.Context, store *eventstore.Store, p Tabled, progress Progress) (Rebuilt, error) {
	total, err := store.Count(ctx)
	if err != nil {
		return Rebuilt{}, err
	}
	group := p.Name()
	var res Rebuilt
	var done int64
	if rebuildBeforeLock != nil {
		rebuildBeforeLock()
	}
	err = store.InGroupTx(ctx, group, func(ctx context.Context, tx eventstore.GroupTx) error {
		// Everything committed when the group is locked is replayed; what
		// commits later reaches the group's live consumer after the
		// rebuild. Read before the lock, the head could be passed by a
		// live batch that held the lock meanwhile, and the group would
		// move back (R36).
		head, err := tx.Head(ctx)
		if err != nil {
			return err
		}
		res, done, err = replayAll(ctx, store, p, tx, head, 0, total, progress)
		return err
	})
	if err != nil {
		return Rebuilt{}, err
	}
	if progress != nil {
		progress(done, max(total, done))
	}
	// Read-model caches of serve processes start over (PostgreSQL; on
	// SQLite they do at their next change).
	store.Changed()
	if err := store.NotifyNow(ctx); err != nil {
		return res, fmt.Errorf("rebuild %s: notify other processes: %w", group, err)
	}
	return res, nil
}

// replayAll empties p's tables and replays the log up to head into them
// in tx, which holds p's consumer group; it moves the group to where it
// stopped and parks anew what it could not apply (see Rebuild). With a
// limit above zero it stops after about limit events (a CatchUp's first
// chunk).
func replayAll(ctx context.Context, store *eventstore.Store, p Tabled, tx eventstore.GroupTx, head eventstore.Position,
	limit, total int64, progress Progress) (Rebuilt, int64, error) {
	group := p.Name()
	ptx := newBatchTx(tx.Tx)
	for _, t := range p.Tables() {
		if err := ptx.Exec(ctx, "DELETE FROM "+t); err != nil {
			return Rebuilt{}, 0, fmt.Errorf("rebuild %s: empty %s: %w", group, t, err)
		}
	}
	if err := ptx.Flush(ctx); err != nil {
		return Rebuilt{}, 0, fmt.Errorf("rebuild %s: empty the tables: %w", group, err)
	}
	rb := &rebuild{store: store, p: p, tx: ptx, parked: map[string]bool{}}
	var pos eventstore.Position
	var done int64
	last := time.Time{}
	for limit <= 0 || done < limit {
		page := int64(2000)
		if limit > 0 {
			page = min(page, limit-done)
		}
		recs, err := store.ReadUntilRaw(ctx, pos, head, int(page))
		if err != nil {
			return Rebuilt{}, 0, err
		}
		if len(recs) == 0 {
			break
		}
		if err := rb.replay(ctx, recs); err != nil {
			return Rebuilt{}, 0, fmt.Errorf("rebuild %s: %w", group, err)
		}
		pos = recs[len(recs)-1].Position
		done += int64(len(recs))
		if progress != nil && time.Since(last) > 200*time.Millisecond {
			progress(done, max(total, done))
			last = time.Now()
		}
	}
	if err := ptx.Flush(ctx); err != nil {
		return Rebuilt{}, 0, fmt.Errorf("rebuild %s: move consumer group: %w", group, err)
	}
	if err := tx.MoveTo(ctx, pos); err != nil {
		return Rebuilt{}, 0, fmt.Errorf("rebuild %s: move consumer group: %w", group, err)
	}
	// Every parked event of the group was replayed (R35); what failed
	// again is parked anew.
	if err := tx.UnparkAll(ctx); err != nil {
		return Rebuilt{}, 0, fmt.Errorf("rebuild %s: %w", group, err)
	}
	res := Rebuilt{Position: pos, Parked: len(rb.parks)}
	for _, pk := range rb.parks {
		if err := tx.Park(ctx, pk.rec, pk.cause); err != nil {
			return Rebuilt{}, 0, fmt.Errorf("rebuild %s: %w", group, err)
		}
		if !errors.Is(pk.cause, eventstore.ErrBehindParked) {
			res.Failures = append(res.Failures, fmt.Sprintf("%s at %s: %s", pk.rec.Name(), pk.rec.Position, eventstore.ParkError(pk.cause)))
		}
	}
	return res, done, nil
}

// rebuild is the state of one Rebuild: its transaction and what it parked.
type rebuild struct {
	store  *eventstore.Store
	p      Tabled
	tx     Tx
	parked map[string]bool // streams with a parked event
	parks  []park
}

type park struct {
	rec   eventstore.Record
	cause error
}

// replay applies a batch of events read raw, sent in batches of
// statements behind one savepoint. When an event or the sending of the
// statements fails, it rolls back to the savepoint and attributes the
// failure (see alone).
func (rb *rebuild) replay(ctx context.Context, recs []eventstore.Record) error {
	if err := rb.exec(ctx, "SAVEPOINT rebuild_events"); err != nil {
		return err
	}
	var applied []eventstore.Record
	var failed error
	rest := len(recs) // the events not reached when one failed
	for i, rec := range recs {
		if sel, ok := rb.p.(Selective); ok && !sel.Handles(rec) {
			continue // as the live consumer: no parking behind for what it ignores
		}
		if rb.parked[rec.StreamID] {
			rb.park(rec, eventstore.ErrBehindParked)
			continue
		}
		applied = append(applied, rec)
		if failed = rb.apply(ctx, rec); failed != nil {
			rest = i + 1
			break
		}
	}
	if failed == nil {
		failed = rb.tx.Flush(ctx)
	}
	if failed == nil {
		return rb.exec(ctx, "RELEASE SAVEPOINT rebuild_events")
	}
	if eventstore.Transient(failed) || len(applied) == 0 {
		return failed
	}
	// What was applied since the savepoint goes again, one by one; the
	// events not reached yet follow (with the parking known by then).
	if err := rb.exec(ctx, "ROLLBACK TO SAVEPOINT rebuild_events"); err != nil {
		return err
	}
	if err := rb.exec(ctx, "RELEASE SAVEPOINT rebuild_events"); err != nil {
		return err
	}
	streams := make([]string, len(applied))
	for i, rec := range applied {
		streams[i] = rec.StreamID
	}
	rb.tx.batch.forget(streams...)
	for _, rec := range applied {
		if err := rb.alone(ctx, rec); err != nil {
			return err
		}
	}
	if rest < len(recs) {
		return rb.replay(ctx, recs[rest:])
	}
	return nil
}

// alone applies one event in a savepoint of its own and sends its
// statements, up to eventstore.ParkAfter times; an event that still
// fails is parked, and what it did rolled back.
func (rb *rebuild) alone(ctx context.Context, rec eventstore.Record) error {
	if rb.parked[rec.StreamID] {
		rb.park(rec, eventstore.ErrBehindParked)
		return nil
	}
	var err error
	for range eventstore.ParkAfter {
		if err := rb.exec(ctx, "SAVEPOINT rebuild_event"); err != nil {
			return err
		}
		if err = rb.apply(ctx, rec); err == nil {
			err = rb.tx.Flush(ctx)
		}
		if err == nil {
			return rb.exec(ctx, "RELEASE SAVEPOINT rebuild_event")
		}
		if eventstore.Transient(err) {
			return err
		}
		if err := rb.exec(ctx, "ROLLBACK TO SAVEPOINT rebuild_event"); err != nil {
			return err
		}
		if err := rb.exec(ctx, "RELEASE SAVEPOINT rebuild_event"); err != nil {
			return err
		}
		rb.tx.batch.forget(rec.StreamID)
	}
	rb.park(rec, err)
	return nil
}

// apply decodes and applies one event; a panic is an error of the event.
func (rb *rebuild) apply(ctx context.Context, rec eventstore.Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &eventstore.PanicError{Where: "projection " + rb.p.Name(), Value: v}
		}
	}()
	if err := rb.store.DecodeEvent(&rec); err != nil {
		return err
	}
	if rec.Event == nil {
		return nil // a type this version does not know: skipped, as live
	}
	if err := rb.p.Apply(ctx, rb.tx, rec); err != nil {
		return fmt.Errorf("%s at %s: %w", rec.Name(), rec.Position, err)
	}
	return nil
}

func (rb *rebuild) park(rec eventstore.Record, cause error) {
	rb.parked[rec.StreamID] = true
	rb.parks = append(rb.parks, park{rec, cause})
}

// exec runs a statement on the transaction itself, past the batch (whose
// statements were sent or dropped).
func (rb *rebuild) exec(ctx context.Context, q string) error {
	_, err := rb.tx.conn.ExecContext(ctx, q)
	return err
}

// ByName finds projections by consumer-group name ("" or "all": every one).
func ByName(all []Tabled, name string) ([]Tabled, error) {
	if name == "" || name == "all" {
		return all, nil
	}
	var names []string
	for _, p := range all {
		if p.Name() == name {
			return []Tabled{p}, nil
		}
		names = append(names, p.Name())
	}
	return nil, errors.New("unknown projection " + name + " (known: " + strings.Join(names, ", ") + ")")
}

// All lists the projections this version runs.
func All() []Tabled { return []Tabled{Directory{}, Audit{}, Messages{}} }
