// Package app is the command layer: every command loads the aggregates it
// decides on, lets the domain decide, and appends the resulting events with
// the expected version of every stream it read, retrying a bounded number
// of times when another command got there first. It does no I/O besides the
// event store and no expensive work inside a transaction: secrets are
// encrypted and decisions made before the append's short transaction opens.
//
// Cross-aggregate rules stay race-free this way without locks held across
// requests: Mailboxes.Add appends to the tenant stream (which registers
// every mailbox, R9/R10), Users.Create to the login-name stream (R18),
// grants and memberships to both sides; a concurrent command on any of
// those streams makes one of the two re-decide on fresh state.
//
// The commands are grouped by area (Tenants, System, Users, Groups,
// Tokens, Mailboxes, Checks, Messages) in Commands, each area a handler
// on the shared core (command.go); every one runs through one decorator
// (command, observe.go; package observe) that gives it a span, the
// commands metric and a log line, whoever calls it: the API, the CLI or
// the seed. The send saga's steps run through the same decorator; the
// saga reaches the message area through SagaPort.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
)

// App is the command layer, composed: the commands by area and the
// aggregate loads the API needs. The send saga's port to it is
// NewSagaPort(app).
type App struct {
	// Commands are every command of the API, by area, each run through
	// the decorator (command).
	Commands Commands
	// Aggregates loads aggregates for authorization and for answers built
	// from the events (R36).
	Aggregates Aggregates

	store *eventstore.Store
}

// Commands are the command handlers, one per area. Each holds only the
// shared command machinery (load, decide, append with the expected
// versions, bounded retry) and runs every command under its SPEC name
// through one decorator: a span "command <name>", the commands metric by
// outcome and one log line.
type Commands struct {
	System    System
	Tenants   Tenants
	Users     Users
	Groups    Groups
	Tokens    Tokens
	Mailboxes Mailboxes
	Checks    Checks
	Messages  Messages
}

// Config configures the App; Store, Keyring, Reader and Content are
// required.
type Config struct {
	Store   *eventstore.Store
	Keyring *keyring.Ring
	// Log receives one line per command (default slog.Default()).
	Log *slog.Logger
	// Reader is the read models' API, required: commands ask it which
	// global mailboxes hold an address and which messages are finished.
	Reader *projections.Reader
	// Content is the content store of message bodies (R25), required.
	Content *content.Store
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
	if c.Reader == nil {
		errs = append(errs, errors.New("app: Reader is required"))
	}
	if c.Content == nil {
		errs = append(errs, errors.New("app: Content is required"))
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

// New composes the App.
func New(c Config) (*App, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cc := &core{store: c.Store, ring: c.Keyring, log: c.Log, now: c.Now, newID: c.NewID, retries: c.MaxAttempts,
		streams: newStreamCache(defaultCachedRecords)}
	if cc.log == nil {
		cc.log = slog.Default()
	}
	if cc.now == nil {
		cc.now = time.Now
	}
	if cc.newID == nil {
		cc.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if cc.retries == 0 {
		cc.retries = 10
	}
	return &App{
		Commands: Commands{
			System: System{cc}, Tenants: Tenants{cc}, Users: Users{cc}, Groups: Groups{cc},
			Tokens: Tokens{cc}, Mailboxes: Mailboxes{cc}, Checks: Checks{cc}, Messages: newMessages(cc, c),
		},
		Aggregates: Aggregates{cc},
		store:      c.Store,
	}, nil
}

// Store returns the event store the commands append to.
func (a *App) Store() *eventstore.Store { return a.store }

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
