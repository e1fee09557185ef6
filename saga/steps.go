package saga

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"

	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/observe"
	"github.com/absender/absender/telemetry"
)

// The saga's steps. Each loads the message stream (through App), decides
// with domain/message and appends with the stream's expected version, so
// two processes racing on one message record each step once.
//
// The driver (saga.go, worker.go) runs every step under a stable name
// through the decorator every command runs through (step): a span
// "command <name>", the commands metric by outcome and one log line, as
// an API command gets.
const (
	// stepResolveMessage records a queued message's first resolution or
	// its rejection (resolveQueued, on MessageQueued).
	stepResolveMessage = "resolveMessage"
	// stepBeginAttempt re-checks and records the next attempt (beginAttempt).
	stepBeginAttempt = "beginAttempt"
	// stepRecordOutcome records the server's answer (recordOutcome).
	stepRecordOutcome = "recordOutcome"
	// stepFailMessage ends a message the resolver cannot handle FAILED
	// (failMessage, R35).
	stepFailMessage = "failMessage"
	// stepPurgeExpiredContent is the retention sweep (App.PurgeExpired, R25).
	stepPurgeExpiredContent = "purgeExpiredContent"
)

// step runs a step under its name through the decorator
// (observe.Command); run keeps the step's results in its closure.
func (s *Saga) step(ctx context.Context, name string, run func(ctx context.Context) error) error {
	_, err := observe.Command(ctx, s.opt.Log, name, func(ctx context.Context) (struct{}, error) { return struct{}{}, run(ctx) })
	return err
}

// principal is the actor of the saga's events.
const principal = "system:saga"

// failure is an error that ends a message FAILED: reason is the text the
// MessageFailed records, err the cause it keeps for errors.Is and logs.
type failure struct {
	reason string
	err    error
}

func (f *failure) Error() string { return f.reason }
func (f *failure) Unwrap() error { return f.err }

// reasonOf is the reason a MessageFailed records for err: a failure's
// own text, otherwise the error's.
func reasonOf(err error) string {
	var f *failure
	if errors.As(err, &f) {
		return f.reason
	}
	return err.Error()
}

// cursor is where a message stream stands: its id and version, the
// metadata of its first event and the id of its last.
type cursor struct {
	stream  string
	version int64
	first   eventstore.Metadata
	last    string
}

func cursorOf(recs []eventstore.Record) cursor {
	return cursor{stream: recs[0].StreamID, version: recs[len(recs)-1].Version, first: recs[0].Metadata, last: recs[len(recs)-1].ID}
}

// appendAt builds the append of a saga step: metadata continue the
// message's correlation and trace, caused by the stream's last event.
func appendAt(c cursor, m *message.State, events []domain.Event) eventstore.StreamAppend {
	a := eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: c.stream, ExpectedVersion: c.version}
	for _, ev := range events {
		a.Events = append(a.Events, eventstore.NewEvent{ID: uuid.Must(uuid.NewV7()).String(), Event: ev, Metadata: eventstore.Metadata{Actor: principal,
			TenantID: m.TenantID(), CorrelationID: c.first.CorrelationID, CausationID: c.last, TraceParent: c.first.TraceParent}})
	}
	return a
}

// load rebuilds a message from its stream.
func (s *Saga) load(ctx context.Context, id string) (message.State, []eventstore.Record, error) {
	recs, err := s.opt.App.LoadMessage(ctx, id)
	if err != nil {
		return message.State{}, nil, fmt.Errorf("saga: load message %s: %w", id, err)
	}
	return stateOf(recs), recs, nil
}

// stateOf rebuilds a message from the records of its stream.
func stateOf(recs []eventstore.Record) message.State {
	var m message.State
	for _, r := range recs {
		if ev, ok := r.Event.(domain.Event); ok {
			m.Apply(ev)
		}
	}
	return m
}

// resolveQueued records the first resolution of a queued message, or its
// rejection, in tx — the saga consumer's transaction, so the record and
// the consumer's progress commit together. A message resolved already
// records nothing. It returns the message as it stands afterwards.
func (s *Saga) resolveQueued(ctx context.Context, tx *sql.Tx, id string) (message.State, []eventstore.Record, error) {
	m, recs, err := s.load(ctx, id)
	if err != nil {
		return m, recs, err
	}
	events, rejected, err := s.resolution(ctx, &m)
	if err != nil || len(events) == 0 {
		return m, recs, err
	}
	if _, err = s.opt.Store.AppendSQLTx(ctx, tx, appendAt(cursorOf(recs), &m, events)); err != nil {
		return m, recs, err
	}
	for _, ev := range events {
		m.Apply(ev)
	}
	if rejected {
		telemetry.Message(ctx, string(message.StatusRejected), "")
	}
	return m, recs, nil
}

// resolution decides the first resolution of a queued message, or its
// rejection (rejected): no events for a message that needs none (gone,
// finished, resolved already). An error is passing: the consumer retries;
// it is not a rejection. resolveQueued and the resolver's batches
// (resolveInBatch) decide so.
func (s *Saga) resolution(ctx context.Context, m *message.State) (events []domain.Event, rejected bool, err error) {
	if !m.Exists() || m.Status().Final() || m.Resolution() != nil {
		return nil, false, nil
	}
	r, _, rejection, err := s.resolve(ctx, m)
	if err != nil {
		return nil, false, err
	}
	events, err = m.Resolve(r, rejection)
	return events, rejection != nil, err
}

// failMessage ends an open message as failed: the saga's poison handling
// for an event it cannot process (R35). The reason recorded is cause's
// (reasonOf). A message that is finished already (a redelivered event
// whose message an earlier delivery failed) records nothing.
//
// It reads the stream and appends in one view of it, as a command does.
// The consumer's transaction tx is no such view together with a read
// beside it: on PostgreSQL tx is repeatable read, its snapshot as old as
// its batch, so an event committed since is in the stream read beside it
// but not in tx, where the append's check of the expected version cannot
// find it; and on both databases tx holds what its batch appended so far
// (the MessageFailed of an earlier event of the message), which the read
// beside it does not see. Either made a conflict, and the event was
// parked. So on PostgreSQL it reads and appends outside tx (committed at
// once, the rest of the batch reads it), loading again on conflict as
// many rounds as a command; on SQLite, whose one writer connection tx
// holds (nothing can be written beside it, and nothing commits while it
// is open), it reads through tx and appends in tx.
func (s *Saga) failMessage(ctx context.Context, tx *sql.Tx, id string, cause error) error {
	if s.opt.DB.Kind == database.SQLite {
		recs, err := s.opt.Store.LoadSQLTx(ctx, tx, string(message.StreamKind)+"-"+id)
		if err != nil {
			return fmt.Errorf("saga: load message %s: %w", id, err)
		}
		m := stateOf(recs)
		if !m.Exists() || m.Status().Final() {
			return nil
		}
		events, err := m.Fail(reasonOf(cause))
		if err != nil {
			return err
		}
		_, err = s.opt.Store.AppendSQLTx(ctx, tx, appendAt(cursorOf(recs), &m, events))
		return err
	}
	rounds := s.opt.App.ConflictRounds()
	for range rounds {
		m, recs, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		if !m.Exists() || m.Status().Final() {
			return nil
		}
		events, err := m.Fail(reasonOf(cause))
		if err != nil {
			return err
		}
		_, err = s.opt.Store.Append(ctx, appendAt(cursorOf(recs), &m, events))
		if !errors.Is(err, eventstore.ErrConflict) {
			return err
		}
	}
	return domain.Conflict(fmt.Sprintf("message %s changed %d times while it was failed", id, rounds))
}

// resolve resolves a message against the current configuration. A
// rejection (R1, R2, R17) is a domain error for the MessageRejected; err
// is a failure to read the facts, which decides nothing.
func (s *Saga) resolve(ctx context.Context, m *message.State) (r message.Resolution, f message.Facts, rejection *domain.Error, err error) {
	ctx, span := telemetry.Tracer().Start(ctx, "saga.resolve")
	defer func() {
		span.SetAttributes(attribute.String("absender.transport", r.Transport.String()), attribute.String("absender.rule", r.Rule))
		if rejection != nil {
			span.SetAttributes(attribute.String("absender.rejected", string(rejection.Code)))
		}
		telemetry.End(span, err)
	}()
	q := m.Queued()
	if q.Kind == message.KindTest {
		if f, err = s.opt.App.TargetFacts(ctx, q.TenantID, *q.Target); err != nil {
			return r, f, nil, fmt.Errorf("saga: facts of test mail %s: %w", q.MessageID, err)
		}
		r, err = message.ResolveTest(*q.Target, f)
		return rejected(r, f, err)
	}
	keys := []string{domain.AddressKey(q.From.Address)}
	// A From given with a name must still name an option (R17); a bare
	// one is sent with its option's name as it is now.
	req := message.Request{Kind: q.Kind, From: message.Mailbox{Address: q.From.Address}, FromNamed: q.FromNamed}
	if q.FromNamed {
		req.From.Name = q.From.Name
	}
	if q.ReplyTo != nil && q.Kind == message.KindMessage {
		keys = append(keys, domain.AddressKey(q.ReplyTo.Address))
		req.ReplyTo = &message.Mailbox{Address: q.ReplyTo.Address}
	}
	if f, err = s.opt.App.MessageFacts(ctx, q.UserID, q.TenantID, keys); err != nil {
		return r, f, nil, fmt.Errorf("saga: facts of message %s: %w", q.MessageID, err)
	}
	r, err = message.Resolve(req, f)
	return rejected(r, f, err)
}

// rejected splits a resolution's error into a rejection (a *domain.Error
// the MessageRejected records) and a failure, which decides nothing.
func rejected(r message.Resolution, f message.Facts, err error) (message.Resolution, message.Facts, *domain.Error, error) {
	var rejection *domain.Error
	if err == nil {
		return r, f, nil, nil
	}
	if !errors.As(err, &rejection) {
		return r, f, nil, fmt.Errorf("saga: resolve: %w", err)
	}
	return r, f, rejection, internal(rejection)
}

// internal returns a rejection with code INTERNAL as an error: it is no
// rejection but a failure, which the caller passes on.
func internal(rejection *domain.Error) error {
	if rejection != nil && rejection.Code == domain.CodeInternal {
		return rejection
	}
	return nil
}

// openContent decrypts a message's content for an attempt. Content that
// is purged or does not decrypt fails the message (a *failure wrapping
// the content store's error); any other error passes.
func (s *Saga) openContent(ctx context.Context, id string) (message.Content, error) {
	c, err := s.opt.App.MessageContent(ctx, id)
	switch {
	case errors.Is(err, content.ErrPurged):
		return c, &failure{"the message content was purged before it could be sent (R25)", err}
	case errors.Is(err, content.ErrUndecryptable):
		return c, &failure{"the message content cannot be decrypted with the key ring", err}
	case err != nil:
		return c, fmt.Errorf("saga: content of message %s: %w", id, err)
	}
	return c, nil
}

// beginAttempt prepares the next delivery attempt of a message and records
// it (DeliveryAttempted) before anything is sent (R23). It first resolves
// the message again against the current configuration: R1, R2 and R17 must
// still hold (else MessageRejected and no attempt), and a changed
// configuration is recorded as a new TransportResolved. The append
// requires every configuration stream read to be unchanged, so the attempt
// provably used the configuration it names. The secrets are decrypted
// before the attempt is recorded; content or secrets that do not decrypt
// with the key ring fail the message.
//
// It returns nil when there is nothing to attempt now, with why (idle):
// the message is finished or unknown (ended), another worker's attempt
// is younger than lease or a retry is not yet due (R23's backoff) — then
// with the time it is due — or it waits for its resolution.
func (s *Saga) beginAttempt(ctx context.Context, id string, lease time.Duration) (*Delivery, idle, error) {
	rounds := s.opt.App.ConflictRounds()
	for range rounds {
		m, recs, err := s.load(ctx, id)
		if err != nil {
			return nil, idle{}, err
		}
		switch {
		case !m.Exists() || m.Status().Final():
			return nil, idle{ended: true}, nil
		case m.Resolution() == nil:
			return nil, idle{}, nil // the resolver resolves it first
		}
		now := s.opt.Now()
		if due := m.DueAt(); now.Before(due) {
			return nil, idle{until: due}, nil // the backoff is not over
		}
		if at := lastAttempt(recs); m.InFlight() && now.Sub(at) < lease {
			return nil, idle{until: at.Add(lease)}, nil // another worker is sending it
		}
		// fail records cause as the message's failure; again says the
		// stream moved meanwhile and the step decides again.
		fail := func(cause error) (again bool, err error) {
			events, err := m.Fail(reasonOf(cause))
			if err != nil {
				return false, err
			}
			_, err = s.opt.Store.Append(ctx, appendAt(cursorOf(recs), &m, events))
			if errors.Is(err, eventstore.ErrConflict) {
				return true, nil
			}
			return false, err
		}
		body, err := s.openContent(ctx, id)
		var f *failure
		switch {
		case errors.As(err, &f):
			if again, ferr := fail(err); again {
				continue
			} else {
				return nil, idle{}, ferr
			}
		case err != nil:
			return nil, idle{}, err // passing: due again later
		}
		r, facts, rejection, err := s.resolve(ctx, &m)
		if err != nil {
			return nil, idle{}, err
		}
		events, err := m.Resolve(r, rejection)
		if err != nil {
			return nil, idle{}, err
		}
		for _, ev := range events {
			m.Apply(ev)
		}
		var d *Delivery
		if rejection == nil {
			d = &Delivery{Queued: *m.Queued(), Resolution: r, Content: body, QueuedAt: recs[0].RecordedAt,
				CorrelationID: recs[0].Metadata.CorrelationID}
			if err := s.reveal(d, facts); err != nil {
				if again, ferr := fail(err); again {
					continue
				} else {
					return nil, idle{}, ferr
				}
			}
			more, err := m.Attempt(s.opt.App.RetryPolicy(), now)
			if err != nil {
				return nil, idle{}, err
			}
			events = append(events, more...)
			for _, ev := range more {
				m.Apply(ev)
			}
		}
		a := appendAt(cursorOf(recs), &m, events)
		if d != nil {
			s.opt.App.BeforeAttemptAppend(ctx, id)
		}
		// A cancel (R23) appended meanwhile makes this a conflict: the
		// message is read again, is CANCELLED, and nothing is sent.
		_, err = s.commits.append(ctx, r.Versions, a) // with other workers' (commit.go)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // the message or its configuration changed: decide again
		}
		if err == nil && rejection != nil {
			telemetry.Message(ctx, string(message.StatusRejected), r.Transport.String())
		}
		if err != nil || d == nil || m.Status() != message.StatusSending {
			return nil, idle{}, err
		}
		d.Attempt, d.state = m.Attempts(), m
		d.cursor = cursor{stream: a.StreamID, version: a.ExpectedVersion + int64(len(a.Events)), first: recs[0].Metadata, last: a.Events[len(a.Events)-1].ID}
		return d, idle{}, nil
	}
	return nil, idle{}, domain.Conflict(fmt.Sprintf("message %s changed %d times while an attempt was prepared", id, rounds))
}

// idle says why beginAttempt attempts nothing now.
type idle struct {
	// until is when the message is due: its retry time, or when another
	// worker's attempt times out; zero when the step cannot tell.
	until time.Time
	// ended says the message is finished or unknown: no attempt is due
	// ever again.
	ended bool
}

// reveal picks the resolved settings and decrypts their secrets; a secret
// that does not decrypt is a *failure wrapping the key ring's error.
func (s *Saga) reveal(d *Delivery, f message.Facts) error {
	var owner domain.StreamRef
	switch d.Resolution.Transport {
	case domain.TransportSystemServer:
		d.Settings, owner = *f.SystemSettings, domain.StreamRef{Kind: domain.StreamSystem}
	case domain.TransportTenantServer:
		d.Settings, owner = *f.TenantSettings, domain.StreamRef{Kind: domain.StreamTenant, ID: d.Queued.TenantID}
	case domain.TransportMailbox:
		d.Settings, owner = f.MailboxSettings[d.Resolution.MailboxID], domain.StreamRef{Kind: domain.StreamMailbox, ID: d.Resolution.MailboxID}
	default:
		return fmt.Errorf("saga: message %s resolved to %s", d.Queued.MessageID, d.Resolution.Transport)
	}
	var err error
	if d.Password, err = s.opt.App.RevealSecret(owner, "password", d.Settings.Password); err != nil {
		return &failure{fmt.Sprintf("the password of %s cannot be decrypted with the key ring", streamName(owner)), err}
	}
	if d.GraphClientSecret, err = s.opt.App.RevealSecret(owner, "graphClientSecret", d.Settings.GraphClientSecret); err != nil {
		return &failure{fmt.Sprintf("the Graph client secret of %s cannot be decrypted with the key ring", streamName(owner)), err}
	}
	return nil
}

// streamName names the stream of a server's settings in a failure reason.
func streamName(ref domain.StreamRef) string {
	if ref.Kind == domain.StreamSystem {
		return "system"
	}
	return string(ref.Kind) + "-" + ref.ID
}

// ErrLateOutcome says an attempt's outcome came after the attempt was
// counted as interrupted; the outcome is not recorded.
var ErrLateOutcome = errors.New("saga: late outcome")

// recordOutcome records what the server answered to an attempt:
// MessageSent, DeliveryFailed with the next attempt's time, or
// MessageFailed (R23). It returns the time of the next attempt, zero when
// there is none.
func (s *Saga) recordOutcome(ctx context.Context, d *Delivery, o message.Outcome) (time.Time, error) {
	// First on the state the attempt left, then, should the stream have
	// moved on, on what it holds now.
	m, c := d.state, d.cursor
	for i := 0; i <= s.opt.App.ConflictRounds(); i++ {
		if i > 0 {
			var recs []eventstore.Record
			var err error
			if m, recs, err = s.load(ctx, d.Queued.MessageID); err != nil {
				return time.Time{}, err
			}
			c = cursorOf(recs)
		}
		events, err := m.Record(d.Attempt, o, s.opt.App.RetryPolicy(), s.opt.Now(), rand.Float64())
		if errors.Is(err, domain.ErrConflict) {
			// The attempt outlived its timeout and was recorded as
			// interrupted (or the message finished) meanwhile.
			return time.Time{}, fmt.Errorf("%w: attempt %d of message %s ended after it was given up: %w", ErrLateOutcome, d.Attempt, d.Queued.MessageID, err)
		}
		if err != nil {
			return time.Time{}, err
		}
		_, err = s.commits.append(ctx, nil, appendAt(c, &m, events)) // with other workers' (commit.go)
		if errors.Is(err, eventstore.ErrConflict) {
			continue
		}
		if err != nil {
			return time.Time{}, err
		}
		if f, ok := events[0].(message.DeliveryFailed); ok {
			return f.RetryAt, nil
		}
		return time.Time{}, nil
	}
	return time.Time{}, domain.Conflict("message changed too often while its outcome was recorded")
}
