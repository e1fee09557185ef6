package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/absender/absender/database"
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

// Progress reports a rebuild's advance: events done of total.
type Progress func(done, total int64)

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
//     live consumer after the commit. The group's parked events (R35) were
//     replayed with the rest: their rows go in the same commit. An event
//     that still fails fails the rebuild, which changes nothing.
//
// The cost: while it runs, the transaction holds back the snapshot horizon
// of other consumer groups on PostgreSQL (they see no newer events until it
// commits), and on SQLite it is the one writer. Rebuild during quiet hours
// when the log is large.
func Rebuild(ctx context.Context, store *eventstore.Store, p Tabled, progress Progress) (eventstore.Position, error) {
	db := store.DB()
	total, err := store.Count(ctx)
	if err != nil {
		return eventstore.Position{}, err
	}
	// Everything committed now is replayed; what commits later reaches the
	// group's live consumer after the rebuild.
	head, err := store.Head(ctx)
	if err != nil {
		return eventstore.Position{}, err
	}
	tx, err := db.Write.DB.BeginTx(ctx, nil)
	if err != nil {
		return eventstore.Position{}, err
	}
	defer func() { _ = tx.Rollback() }()
	ptx := newBatchTx(db.Write, tx)
	group := p.Name()
	lock := `SELECT offset_acked FROM events_offsets WHERE consumer_group = ? FOR UPDATE`
	if db.Kind == database.SQLite {
		lock = `SELECT offset_acked FROM events_offsets WHERE consumer_group = ?` // BEGIN IMMEDIATE already excludes writers
	}
	var locked []int64
	if err := ptx.Scan(ctx, &locked, lock, group); err != nil {
		return eventstore.Position{}, fmt.Errorf("rebuild %s: lock consumer group: %w", group, err)
	}
	for _, t := range p.Tables() {
		if err := ptx.Exec(ctx, "DELETE FROM "+t); err != nil {
			return eventstore.Position{}, fmt.Errorf("rebuild %s: empty %s: %w", group, t, err)
		}
	}
	var pos eventstore.Position
	var done int64
	last := time.Time{}
	for {
		recs, err := store.ReadUntil(ctx, pos, head, 2000)
		if err != nil {
			return eventstore.Position{}, err
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			if rec.Event != nil {
				if err := p.Apply(ctx, ptx, rec); err != nil {
					return eventstore.Position{}, fmt.Errorf("rebuild %s: %s at %s: %w", group, rec.Name(), rec.Position, err)
				}
			}
			pos = rec.Position
			done++
		}
		if progress != nil && time.Since(last) > 200*time.Millisecond {
			progress(done, max(total, done))
			last = time.Now()
		}
	}
	if err := ptx.Flush(ctx); err != nil {
		return eventstore.Position{}, fmt.Errorf("rebuild %s: %w", group, err)
	}
	if err := ptx.Exec(ctx, `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES (?, ?, `+txParam(db.Kind)+`)
		ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked, last_processed_transaction_id = excluded.last_processed_transaction_id`,
		group, pos.Offset, fmt.Sprint(pos.TxID)); err != nil {
		return eventstore.Position{}, fmt.Errorf("rebuild %s: move consumer group: %w", group, err)
	}
	if err := ptx.Flush(ctx); err != nil {
		return eventstore.Position{}, fmt.Errorf("rebuild %s: move consumer group: %w", group, err)
	}
	// Every parked event of the group was replayed (R35).
	if err := store.UnparkAll(ctx, tx, group); err != nil {
		return eventstore.Position{}, fmt.Errorf("rebuild %s: %w", group, err)
	}
	if err := tx.Commit(); err != nil {
		return eventstore.Position{}, fmt.Errorf("rebuild %s: commit: %w", group, err)
	}
	if progress != nil {
		progress(done, max(total, done))
	}
	// Read-model caches of serve processes start over (PostgreSQL; on
	// SQLite they do at their next change).
	store.Changed()
	if err := store.NotifyNow(ctx); err != nil {
		return pos, fmt.Errorf("rebuild %s: notify other processes: %w", group, err)
	}
	return pos, nil
}

func txParam(k database.Kind) string {
	if k == database.Postgres {
		return "CAST(? AS xid8)"
	}
	return "CAST(? AS INTEGER)"
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
