package eventstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/database"
	"github.com/absender/absender/telemetry"
)

// InlineApply applies a commit's events to a consumer group's own tables
// inside the append's transaction (see Store.Inline). recs are the
// appended events in log order, decoded, with their positions. An error
// (or a panic) undoes everything it wrote; the group then stays where it
// was and its consumer applies (or parks) the events as usual.
type InlineApply func(ctx context.Context, tx bun.Tx, recs []Record) error

// inlineGroup is one registration of Store.Inline.
type inlineGroup struct {
	group string
	apply InlineApply
}

// inlineSet holds the registrations; appends read them without a lock.
type inlineSet struct {
	mu     sync.Mutex
	groups atomic.Pointer[[]*inlineGroup] // sorted by group
}

// Inline registers apply as the in-transaction applier of a consumer
// group, on SQLite (elsewhere it does nothing): every append that owns its
// commit (Append, AppendWith, AppendIf, AppendEach) applies its events to
// each registered group that is exactly caught up — the group's committed
// offset is the log's head before this append, read in the append's write
// transaction, and no stream of the append has an event parked for the
// group (R35) — in a savepoint of its own, and moves the group's offset to
// the append's last event in the same transaction. After the commit the
// group's position is published in memory, so WaitFor returns at once
// (read-your-writes without a consumer round, R36). A group that is behind,
// a parked stream, or an apply that fails is left to the consumer, which
// then finds the events as before; the consumer finds nothing for events
// applied here. One transaction: nothing is applied twice or lost.
//
// SQLite only: its one writer assigns offsets in commit order inside the
// write transaction, so "caught up" read there stays true until the
// commit. On PostgreSQL offsets are not in commit order.
//
// remove ends the registration (a consumer that stops). A group is
// registered once; a second registration replaces the first.
func (s *Store) Inline(group string, apply InlineApply) (remove func()) {
	if s.db.Kind != database.SQLite || apply == nil {
		return func() {}
	}
	g := &inlineGroup{group: group, apply: apply}
	s.inline.mu.Lock()
	defer s.inline.mu.Unlock()
	s.inline.set(func(cur []*inlineGroup) []*inlineGroup {
		out := make([]*inlineGroup, 0, len(cur)+1)
		for _, c := range cur {
			if c.group != group {
				out = append(out, c)
			}
		}
		out = append(out, g)
		sort.Slice(out, func(i, j int) bool { return out[i].group < out[j].group })
		return out
	})
	return func() {
		s.inline.mu.Lock()
		defer s.inline.mu.Unlock()
		s.inline.set(func(cur []*inlineGroup) []*inlineGroup {
			out := make([]*inlineGroup, 0, len(cur))
			for _, c := range cur {
				if c != g {
					out = append(out, c)
				}
			}
			return out
		})
	}
}

func (i *inlineSet) set(f func([]*inlineGroup) []*inlineGroup) {
	var cur []*inlineGroup
	if p := i.groups.Load(); p != nil {
		cur = *p
	}
	next := f(cur)
	i.groups.Store(&next)
}

func (i *inlineSet) load() []*inlineGroup {
	if p := i.groups.Load(); p != nil {
		return *p
	}
	return nil
}

// inlined is what an append applied in its transaction: the groups moved
// to pos, published once the transaction committed.
type inlined struct {
	groups []string
	pos    Position
}

// publish makes the groups' new position known to this process's waiters
// (call it after the commit, before Changed).
func (s *Store) publishInlined(in inlined) {
	for _, g := range in.groups {
		s.positions.publish(g, in.pos)
	}
}

// caughtUpQuery selects the registered groups (a JSON array) that stand at
// the log's head before the append (the last event before its first one,
// ?2), whose append is the whole rest of the log (?3 events from ?2, the
// last at ?4), and that have no parked event on a stream of the append (a
// JSON array). Fixed text, so it stays prepared (stmtCache).
const caughtUpQuery = `SELECT consumer_group FROM events_offsets o
	WHERE consumer_group IN (SELECT value FROM json_each(?1))
	  AND offset_acked = (SELECT COALESCE(MAX("offset"), 0) FROM events WHERE "offset" < ?2)
	  AND (SELECT count(*) FROM events WHERE "offset" >= ?2) = ?3
	  AND (SELECT MAX("offset") FROM events) = ?4
	  AND NOT EXISTS (SELECT 1 FROM parked_events p
		WHERE p.consumer_group = o.consumer_group AND p.stream_id IN (SELECT value FROM json_each(?5)))
	ORDER BY consumer_group`

// moveInlinedQuery moves the groups applied in the append to its last event.
const moveInlinedQuery = `UPDATE events_offsets SET offset_acked = ?1
	WHERE consumer_group IN (SELECT value FROM json_each(?2)) AND offset_acked < ?1`

// applyInline applies the append of msgs, whose last event is at last,
// to the registered groups that are caught up (see Inline), in tx.
func (s *Store) applyInline(ctx context.Context, tx bun.Tx, last Position, msgs []*message.Message) (inlined, error) {
	if s.db.Kind != database.SQLite || len(msgs) == 0 {
		return inlined{}, nil
	}
	regs := s.inline.load()
	if len(regs) == 0 {
		return inlined{}, nil
	}
	if s.appending.Load() > 1 {
		// Other appends wait for the writer: their consumers apply them
		// all in one batch, with its statements sent together, which costs
		// far less CPU per event than applying each append here (16
		// clients: 1.8 ms of CPU per mutation against 2.7 ms, see
		// docs/BENCHMARKS.md). Alone, an append applies its events here and
		// its read-your-writes needs no consumer round.
		return inlined{}, nil
	}
	names := make([]string, len(regs))
	for i, g := range regs {
		names[i] = g.group
	}
	var streams []string
	seen := map[string]bool{}
	for _, m := range msgs {
		if id := m.Metadata.Get(keyStreamID); !seen[id] {
			seen[id] = true
			streams = append(streams, id)
		}
	}
	groupsJSON, _ := json.Marshal(names)
	streamsJSON, _ := json.Marshal(streams)
	first := last.Offset - int64(len(msgs)) + 1
	args := []any{string(groupsJSON), first, len(msgs), last.Offset, string(streamsJSON)}
	var rows *sql.Rows
	var err error
	if st := s.stmts.in(ctx, tx.Tx, caughtUpQuery); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.Tx.QueryContext(ctx, caughtUpQuery, args...)
	}
	if err != nil {
		return inlined{}, fmt.Errorf("eventstore: inline: caught-up groups: %w", err)
	}
	ready := map[string]bool{}
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			_ = rows.Close()
			return inlined{}, fmt.Errorf("eventstore: inline: caught-up groups: %w", err)
		}
		ready[g] = true
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return inlined{}, fmt.Errorf("eventstore: inline: caught-up groups: %w", err)
	}
	if err := rows.Close(); err != nil {
		return inlined{}, fmt.Errorf("eventstore: inline: caught-up groups: %w", err)
	}
	if len(ready) == 0 {
		return inlined{}, nil
	}
	recs := make([]Record, len(msgs))
	for i, m := range msgs {
		r, err := s.decode(m, true)
		if err != nil || r.Event == nil {
			// Left to the consumers, which skip or park it as they do.
			return inlined{}, nil
		}
		r.Position = Position{Offset: first + int64(i)}
		recs[i] = r
	}
	var moved []string
	for _, g := range regs {
		if !ready[g.group] {
			continue
		}
		ok, err := s.applyInlineGroup(ctx, tx, g, recs)
		if err != nil {
			return inlined{}, err
		}
		if ok {
			moved = append(moved, g.group)
		}
	}
	if len(moved) == 0 {
		return inlined{}, nil
	}
	movedJSON, _ := json.Marshal(moved)
	if _, err := s.stmts.exec(ctx, tx.Tx, moveInlinedQuery, last.Offset, string(movedJSON)); err != nil {
		return inlined{}, fmt.Errorf("eventstore: inline: move %v: %w", moved, err)
	}
	return inlined{groups: moved, pos: Position{Offset: last.Offset}}, nil
}

// applyInlineGroup applies recs for one group in a savepoint: false (and
// nothing written) when the apply failed; an error only when the
// savepoint itself fails, which fails the append.
func (s *Store) applyInlineGroup(ctx context.Context, tx bun.Tx, g *inlineGroup, recs []Record) (bool, error) {
	first := recs[0]
	sctx, span := telemetry.Tracer().Start(ctx, "projection "+g.group, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.Bool("absender.inline", true), attribute.Int("absender.events", len(recs)),
			attribute.String("absender.event_type", first.Name()), attribute.String("absender.stream_id", first.StreamID)))
	if _, err := tx.Tx.ExecContext(ctx, "SAVEPOINT inline"); err != nil {
		telemetry.End(span, err)
		return false, fmt.Errorf("eventstore: inline %s: savepoint: %w", g.group, err)
	}
	err := callInline(sctx, tx, g, recs)
	if err == nil {
		if _, err := tx.Tx.ExecContext(ctx, "RELEASE SAVEPOINT inline"); err != nil {
			telemetry.End(span, err)
			return false, fmt.Errorf("eventstore: inline %s: release savepoint: %w", g.group, err)
		}
		telemetry.End(span, nil)
		return true, nil
	}
	span.SetAttributes(attribute.String("absender.cause", ParkError(err)))
	telemetry.End(span, err)
	if _, rbErr := tx.Tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT inline"); rbErr != nil {
		return false, fmt.Errorf("eventstore: inline %s: rollback to savepoint: %w", g.group, rbErr)
	}
	if _, rbErr := tx.Tx.ExecContext(ctx, "RELEASE SAVEPOINT inline"); rbErr != nil {
		return false, fmt.Errorf("eventstore: inline %s: release savepoint: %w", g.group, rbErr)
	}
	s.log.Warn("inline apply failed; the consumer applies or parks the events", "group", g.group,
		"position", recs[len(recs)-1].Position.String(), "err", ParkError(err))
	return false, nil
}

// callInline runs the applier; a panic is its failure.
func callInline(ctx context.Context, tx bun.Tx, g *inlineGroup, recs []Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Where: "projection " + g.group + " inline", Value: v}
		}
	}()
	return g.apply(ctx, tx, recs)
}
