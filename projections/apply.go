package projections

import (
	"context"
	"fmt"
	"sort"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/eventstore"
)

// applier applies one event type to a projection's tables.
type applier struct {
	name  string // versioned event name, e.g. "MailboxAdded.v1"
	apply func(ctx context.Context, tx Tx, rec eventstore.Record) error
}

// on makes the applier of the event type E: the table is keyed by E's
// name, and f receives the decoded event already typed.
func on[E domain.Event](f func(ctx context.Context, tx Tx, rec eventstore.Record, e E) error) applier {
	var zero E
	return applier{name: zero.EventName(), apply: func(ctx context.Context, tx Tx, rec eventstore.Record) error {
		return f(ctx, tx, rec, rec.Event.(E))
	}}
}

// applyTable is a projection's dispatch table: event name → applier.
type applyTable map[string]func(ctx context.Context, tx Tx, rec eventstore.Record) error

// newApplyTable collects the appliers of each aggregate; an event type
// listed twice is a programming error.
func newApplyTable(aggregates ...[]applier) applyTable {
	t := applyTable{}
	for _, as := range aggregates {
		for _, a := range as {
			if _, dup := t[a.name]; dup {
				panic(fmt.Sprintf("projections: %s is applied twice", a.name))
			}
			t[a.name] = a.apply
		}
	}
	return t
}

// apply runs the applier of rec's event; events without one (and events
// of unregistered types, whose Event is nil) change nothing.
func (t applyTable) apply(ctx context.Context, tx Tx, rec eventstore.Record) error {
	if rec.Event == nil {
		return nil
	}
	if f := t[rec.Event.EventName()]; f != nil {
		return f(ctx, tx, rec)
	}
	return nil
}

// names lists the event names the table applies, sorted.
func (t applyTable) names() []string {
	out := make([]string, 0, len(t))
	for n := range t {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ignoring lists event types a consumer leaves alone on purpose, each
// with the reason (event name → reason).
func ignoring(reason string, events ...domain.Event) map[string]string {
	out := make(map[string]string, len(events))
	for _, e := range events {
		out[e.EventName()] = reason
	}
	return out
}

// merged joins ignore lists.
func merged(lists ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, l := range lists {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}
