// Package app is the command layer: every command loads the aggregates it
// decides on, lets the domain decide, and appends the resulting events with
// the expected version of every stream it read, retrying a bounded number
// of times when another command got there first. It does no I/O besides the
// event store and no expensive work inside a transaction: secrets are
// encrypted and decisions made before the append's short transaction opens.
//
// Cross-aggregate rules stay race-free this way without locks held across
// requests: AddMailbox appends to the tenant stream (which registers every
// mailbox, R9/R10), CreateUser to the login-name stream (R18), grants and
// memberships to both sides; a concurrent command on any of those streams
// makes one of the two re-decide on fresh state.
package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
)

// Service executes commands.
type Service struct {
	store   *eventstore.Store
	ring    *keyring.Ring
	content *content.Store
	// reader answers the read-model questions commands ask (global
	// mailboxes by address, finished messages): the tables stay their
	// projection's.
	reader  *projections.Reader
	now     func() time.Time
	newID   func() string
	retries int

	retention time.Duration
	version   string
	retry     message.RetryPolicy
	onQueued  func(ctx context.Context, messageID string)
	// beforeAttemptAppend is Config.BeforeAttemptAppend.
	beforeAttemptAppend func(ctx context.Context, messageID string)
}

// Config configures a Service; Store and Keyring are required.
type Config struct {
	Store   *eventstore.Store
	Keyring *keyring.Ring
	// Reader is the read models' API (default: a Reader of the store's
	// database of its own).
	Reader *projections.Reader
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NewID makes aggregate ids (default UUIDv7, time-ordered).
	NewID func() string
	// MaxAttempts bounds load–decide–append rounds on conflict (default 10).
	MaxAttempts int
	// MessageRetention is how long message content is kept (R25, default
	// 30 days).
	MessageRetention time.Duration
	// Version is the product version support requests report (R7).
	Version string
	// Retry is the schedule of delivery attempts (R23, default
	// message.DefaultRetryPolicy).
	Retry message.RetryPolicy
	// OnQueued, when set, is told of every message queued with its
	// resolution (due for an attempt now), after the commit: the send
	// saga of this process takes it at once instead of waiting for the
	// read model to show it due. ctx is the queueing request's.
	OnQueued func(ctx context.Context, messageID string)
	// BeforeAttemptAppend, when set, runs in BeginAttempt after the next
	// attempt was decided and before it is appended: a test's way to make
	// an attempt race a cancel (R23). Not for production use.
	BeforeAttemptAppend func(ctx context.Context, messageID string)
}

// Validate reports every missing or bad setting.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("app: Store is required"))
	}
	if c.Keyring == nil {
		errs = append(errs, errors.New("app: Keyring is required"))
	}
	if c.MessageRetention < 0 {
		errs = append(errs, errors.New("app: MessageRetention must not be negative"))
	}
	if c.Retry.MaxAttempts < 0 {
		errs = append(errs, errors.New("app: Retry.MaxAttempts must not be negative"))
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, errors.New("app: MaxAttempts must not be negative"))
	}
	return errors.Join(errs...)
}

// New returns a Service.
func New(c Config) (*Service, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Service{store: c.Store, ring: c.Keyring, now: c.Now, newID: c.NewID, retries: c.MaxAttempts,
		retention: c.MessageRetention, version: c.Version, retry: c.Retry, onQueued: c.OnQueued,
		beforeAttemptAppend: c.BeforeAttemptAppend}
	if s.reader = c.Reader; s.reader == nil {
		s.reader = projections.NewReader(c.Store.DB().Read, c.Store.Generation)
	}
	var err error
	if s.content, err = content.New(c.Store.DB().Read, c.Keyring); err != nil {
		return nil, err
	}
	if s.retention == 0 {
		s.retention = 30 * 24 * time.Hour
	}
	if s.version == "" {
		s.version = "(development build)"
	}
	if s.retry.MaxAttempts == 0 {
		s.retry = message.DefaultRetryPolicy
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if s.retries == 0 {
		s.retries = 10
	}
	return s, nil
}

// Store returns the event store the service appends to.
func (s *Service) Store() *eventstore.Store { return s.store }

// Request says who acts and ties a command's events together. The actor's
// principal is recorded as the actor of every event.
type Request struct {
	Actor domain.Actor
	// Principal names the actor in events, e.g. "user:<id>" or
	// "token:<id>" for a token without a user.
	Principal      string
	CorrelationID  string
	CausationID    string
	IdempotencyKey string
	TraceParent    string
}

type requestKey struct{}

// WithRequest attaches the request to ctx.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request of ctx (the zero Request when none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Result tells where a command's events landed; wait for consumers to reach
// Position for read-your-writes. A command that changed nothing has the zero
// Result.
type Result struct {
	Position eventstore.Position
	Events   int
}

// StreamID is the event-store stream of an aggregate.
func StreamID(ref domain.StreamRef) string {
	switch ref.Kind {
	case domain.StreamSystem:
		return "system"
	case domain.StreamLogin:
		return "login-" + login.StreamKey(ref.ID)
	}
	return string(ref.Kind) + "-" + ref.ID
}

// aggregate is a domain state rebuilt by applying its events.
type aggregate interface{ Apply(domain.Event) }

// attempt is one load–decide–append round: it remembers the version of
// every stream it loaded, so the append can expect exactly those.
type attempt struct {
	svc      *Service
	versions map[domain.StreamRef]int64
}

// load rebuilds agg from its stream and records the version read.
func (a *attempt) load(ctx context.Context, kind domain.StreamKind, id string, agg aggregate) error {
	ref := domain.StreamRef{Kind: kind, ID: id}
	recs, err := a.svc.loadRecords(ctx, StreamID(ref), agg)
	if err != nil {
		return err
	}
	a.versions[ref] = version(recs)
	return nil
}

// execute runs decide until its changes append without conflict, at most
// the configured number of times.
func (s *Service) execute(ctx context.Context, decide func(ctx context.Context, a *attempt) (domain.Changes, error)) (Result, error) {
	req := RequestFrom(ctx)
	for i := range s.retries {
		a := &attempt{svc: s, versions: map[domain.StreamRef]int64{}}
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
		res, err := s.store.Append(ctx, appends...)
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
	return Result{}, domain.Conflict(fmt.Sprintf("the data changed %d times while this command ran; try again", s.retries))
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
