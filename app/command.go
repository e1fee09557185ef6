package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/uptrace/bun"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/keyring"
)

// core is the command machinery every handler shares: load → decide →
// append with the expected versions → bounded retry (execute), the
// secrets' sealing, and the decorator's logger.
type core struct {
	store   *eventstore.Store
	ring    *keyring.Ring
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	retries int
	// streams caches configuration streams between loads (streamcache.go).
	streams *streamCache
}

// aggregate is a domain state rebuilt by applying its events.
type aggregate interface{ Apply(domain.Event) }

// attempt is one load–decide–append round: it remembers the version of
// every stream it loaded, so the append can expect exactly those, and
// what the command writes to its own table with the events (with).
type attempt struct {
	c        *core
	versions map[domain.StreamRef]int64
	also     func(ctx context.Context, tx bun.IDB) error
}

// load rebuilds agg from its stream and records the version read.
func (a *attempt) load(ctx context.Context, kind domain.StreamKind, id string, agg aggregate) error {
	ref := domain.StreamRef{Kind: kind, ID: id}
	recs, err := a.c.loadRecords(ctx, StreamID(ref), agg)
	if err != nil {
		return err
	}
	a.versions[ref] = version(recs)
	return nil
}

// create records that the decision starts a new stream: the append
// expects it to have no events yet (version 0), so a stream that another
// command created meanwhile is a conflict, never a second beginning.
func (a *attempt) create(kind domain.StreamKind, id string) {
	a.versions[domain.StreamRef{Kind: kind, ID: id}] = 0
}

// with makes the append also run write in its transaction, after the
// events: the command's write to a table it owns (a message's content)
// commits with its events or not at all (Store.AppendWith). It runs only
// when there are events to append.
func (a *attempt) with(write func(ctx context.Context, tx bun.IDB) error) {
	a.also = write
}

// attempt starts a load–decide–append round.
func (c *core) attempt() *attempt {
	return &attempt{c: c, versions: map[domain.StreamRef]int64{}}
}

// loadStream rebuilds an aggregate from its stream.
func (c *core) loadStream(ctx context.Context, kind domain.StreamKind, id string, agg aggregate) error {
	_, err := c.loadRecords(ctx, StreamID(domain.StreamRef{Kind: kind, ID: id}), agg)
	return err
}

// loadRecords rebuilds agg from a stream and returns the stream's records.
func (c *core) loadRecords(ctx context.Context, streamID string, agg aggregate) ([]eventstore.Record, error) {
	recs, err := c.streams.load(ctx, c.store, streamID)
	if err != nil {
		return nil, err
	}
	apply(recs, agg)
	return recs, nil
}

// version is the version of a stream whose records are recs (0 when
// it has none).
func version(recs []eventstore.Record) int64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Version
}

// apply rebuilds agg from recs and returns the stream's version.
func apply(recs []eventstore.Record, agg aggregate) int64 {
	for _, r := range recs {
		if ev, ok := r.Event.(domain.Event); ok {
			agg.Apply(ev)
		}
	}
	return version(recs)
}

// execute runs decide until its changes append without conflict, at most
// the configured number of times; a decision that changes nothing returns
// a zero Result. The append also runs the write decide gave the attempt
// (attempt.with) in its transaction.
func (c *core) execute(ctx context.Context, decide func(ctx context.Context, a *attempt) (domain.Changes, error)) (Result, error) {
	req := RequestFrom(ctx)
	for i := range c.retries {
		a := c.attempt()
		changes, err := decide(ctx, a)
		if err != nil {
			return Result{}, err
		}
		appends, n, err := a.appends(changes, req)
		if err != nil {
			return Result{}, err
		}
		if n == 0 {
			return Result{}, nil
		}
		res, err := c.store.AppendWith(ctx, a.also, appends...)
		if errors.Is(err, eventstore.ErrConflict) {
			// Another command changed a stream we read: decide again on
			// fresh state after a short, jittered pause.
			select {
			case <-ctx.Done():
				return Result{}, ctx.Err()
			case <-time.After(time.Duration(rand.IntN(1000*(i+1))) * time.Microsecond):
			}
			continue
		}
		if err != nil {
			return Result{}, err
		}
		return Result{Position: res.Last, Events: n}, nil
	}
	return Result{}, domain.Conflict(fmt.Sprintf("the data changed %d times while this command ran; try again", c.retries))
}

func (a *attempt) appends(changes domain.Changes, req Request) ([]eventstore.StreamAppend, int, error) {
	out := make([]eventstore.StreamAppend, 0, len(changes))
	n := 0
	for _, ch := range changes {
		if len(ch.Events) == 0 {
			continue
		}
		expected, loaded := a.versions[ch.Stream]
		if !loaded {
			return nil, 0, fmt.Errorf("app: decided on stream %s without loading it", StreamID(ch.Stream))
		}
		sa := eventstore.StreamAppend{StreamType: string(ch.Stream.Kind), StreamID: StreamID(ch.Stream), ExpectedVersion: expected}
		for _, ev := range ch.Events {
			sa.Events = append(sa.Events, eventstore.NewEvent{Event: ev, Metadata: eventstore.Metadata{
				Actor:          req.Principal,
				TenantID:       tenantOf(ev),
				CorrelationID:  req.CorrelationID,
				CausationID:    req.CausationID,
				IdempotencyKey: req.IdempotencyKey,
				TraceParent:    req.TraceParent,
			}})
		}
		n += len(sa.Events)
		out = append(out, sa)
	}
	return out, n, nil
}

// tenantOf reads the TenantID field every tenant-scoped domain event has.
func tenantOf(ev domain.Event) string {
	v := reflect.ValueOf(ev)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName("TenantID")
	if f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// one builds the Changes of a command that touches a single stream.
func one(kind domain.StreamKind, id string, events []domain.Event) domain.Changes {
	var ch domain.Changes
	ch.Add(kind, id, events...)
	return ch
}

// touch records the version of a stream the decision writes to without
// reading its state (e.g. a mirror event on a grantee's stream).
func (a *attempt) touch(ctx context.Context, kind domain.StreamKind, id string) error {
	return a.load(ctx, kind, id, discard{})
}

type discard struct{}

func (discard) Apply(domain.Event) {}

// loadMissing loads every stream a decision may write to: those it did not
// load for deciding, found from the changes themselves.
func (a *attempt) loadMissing(ctx context.Context, changes domain.Changes) error {
	for _, ch := range changes {
		if _, ok := a.versions[ch.Stream]; !ok {
			if err := a.touch(ctx, ch.Stream.Kind, ch.Stream.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadTenant loads a tenant that must exist (NOT_FOUND otherwise).
func (a *attempt) loadTenant(ctx context.Context, tenantID string) (*tenant.State, error) {
	var t tenant.State
	if err := a.load(ctx, domain.StreamTenant, tenantID, &t); err != nil {
		return nil, err
	}
	if !t.Exists() {
		return nil, domain.NotFound("tenant")
	}
	return &t, nil
}
