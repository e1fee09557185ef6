package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/telemetry"
)

// The send saga's steps (package saga drives them). Each step loads the
// message stream, decides with domain/message and appends with the
// stream's expected version, so two processes racing on one message
// record each step once.

// sagaPrincipal is the actor of the saga's events.
const sagaPrincipal = "system:saga"

// sagaAppend builds the append of a saga step: metadata continue the
// message's correlation and trace, caused by the stream's last event.
func (s *Service) sagaAppend(recs []eventstore.Record, m *message.State, events []domain.Event) eventstore.StreamAppend {
	return sagaAppendAt(sagaCursor{version: version(recs), first: recs[0].Metadata, last: recs[len(recs)-1].ID}, m, events)
}

// sagaCursor is where a message stream stands: its version, the metadata
// of its first event and the id of its last.
type sagaCursor struct {
	version int64
	first   eventstore.Metadata
	last    string
}

func sagaAppendAt(c sagaCursor, m *message.State, events []domain.Event) eventstore.StreamAppend {
	a := eventstore.StreamAppend{StreamType: string(message.StreamKind), StreamID: MessageStreamID(m.ID()), ExpectedVersion: c.version}
	for _, ev := range events {
		a.Events = append(a.Events, eventstore.NewEvent{ID: uuid.Must(uuid.NewV7()).String(), Event: ev, Metadata: eventstore.Metadata{Actor: sagaPrincipal, TenantID: m.TenantID(),
			CorrelationID: c.first.CorrelationID, CausationID: c.last, TraceParent: c.first.TraceParent}})
	}
	return a
}

// ResolveQueued records the first resolution of a queued message, or its
// rejection, in tx — the saga consumer's transaction, so the record and
// the consumer's progress commit together. A message resolved already
// records nothing.
func (s *Service) ResolveQueued(ctx context.Context, tx *sql.Tx, id string) error {
	var m message.State
	recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
	if err != nil {
		return err
	}
	if !m.Exists() || m.Status().Final() || m.Resolution() != nil {
		return nil
	}
	r, _, rerr := s.resolve(ctx, &m)
	if rerr != nil && rerr.Code == domain.CodeInternal {
		return errors.New(rerr.Message) // passing: the consumer retries; not a rejection
	}
	events, err := m.Resolve(r, rerr)
	if err != nil || len(events) == 0 {
		return err
	}
	if _, err = s.store.AppendSQLTx(ctx, tx, s.sagaAppend(recs, &m, events)); err == nil && rerr != nil {
		telemetry.Message(ctx, string(message.StatusRejected), "")
	}
	return err
}

// FailMessage ends an open message as failed, in tx when given: the
// saga's poison handling for an event it cannot process.
func (s *Service) FailMessage(ctx context.Context, tx *sql.Tx, id, reason string) error {
	var m message.State
	recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
	if err != nil {
		return err
	}
	if !m.Exists() || m.Status().Final() {
		return nil
	}
	events, err := m.Fail(reason)
	if err != nil {
		return err
	}
	if tx != nil {
		_, err = s.store.AppendSQLTx(ctx, tx, s.sagaAppend(recs, &m, events))
	} else {
		_, err = s.store.Append(ctx, s.sagaAppend(recs, &m, events))
	}
	return err
}

// resolve resolves a message against the current configuration.
func (s *Service) resolve(ctx context.Context, m *message.State) (r message.Resolution, f message.Facts, rerr *domain.Error) {
	ctx, span := telemetry.Tracer().Start(ctx, "saga.resolve")
	defer func() {
		span.SetAttributes(attribute.String("absender.transport", r.Transport.String()), attribute.String("absender.rule", r.Rule))
		if rerr != nil {
			span.SetAttributes(attribute.String("absender.rejected", string(rerr.Code)))
		}
		span.End()
	}()
	q := m.Queued()
	if q.Kind == message.KindTest {
		f, err := s.testFacts(ctx, q)
		if err != nil {
			return message.Resolution{}, f, &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
		}
		r, err := message.ResolveTest(*q.Target, f)
		if err != nil && !errors.As(err, &rerr) {
			rerr = &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
		}
		return r, f, rerr
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
	f, err := s.messageFacts(ctx, q.UserID, q.TenantID, keys)
	if err != nil {
		return message.Resolution{}, f, &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
	}
	r, err = message.Resolve(req, f)
	if err != nil && !errors.As(err, &rerr) {
		rerr = &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
	}
	return r, f, rerr
}

// testFacts reads the server a test mail targets (R6).
func (s *Service) testFacts(ctx context.Context, q *message.MessageQueued) (message.Facts, error) {
	f := message.Facts{Versions: map[string]int64{}, MailboxSettings: map[string]domain.ServerSettings{}}
	switch q.Target.Transport {
	case domain.TransportSystemServer:
		var sys system.State
		recs, err := s.loadRecords(ctx, "system", &sys)
		if err != nil {
			return f, err
		}
		f.Versions["system"] = version(recs)
		if st, ok := sys.Settings(); ok {
			f.SystemSettings = &st
		}
	case domain.TransportTenantServer:
		var t tenant.State
		id := StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: q.TenantID})
		recs, err := s.loadRecords(ctx, id, &t)
		if err != nil {
			return f, err
		}
		f.Versions[id] = version(recs)
		if st, ok := t.Server(); ok {
			f.TenantSettings = &st
		}
	case domain.TransportMailbox:
		var mb mailbox.State
		id := StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: q.Target.MailboxID})
		recs, err := s.loadRecords(ctx, id, &mb)
		if err != nil {
			return f, err
		}
		f.Versions[id] = version(recs)
		if st, ok := mb.Settings(); ok && mb.Exists() {
			f.MailboxSettings[q.Target.MailboxID] = st
		}
	}
	return f, nil
}

// Delivery is one attempt a worker makes: what to send, through which
// settings, with the plain secrets — decrypted in memory just now, for
// this attempt only.
type Delivery struct {
	Queued     message.MessageQueued
	Attempt    int
	Resolution message.Resolution
	Settings   domain.ServerSettings
	// Password and GraphClientSecret are plain text: never log them.
	Password, GraphClientSecret string
	Content                     message.Content
	// QueuedAt is when the message was queued; CorrelationID is the
	// queueing request's.
	QueuedAt      time.Time
	CorrelationID string

	// The message as the attempt left it, so the outcome usually appends
	// without reading the stream again.
	state  message.State
	cursor sagaCursor
}

// BeginAttempt prepares the next delivery attempt of a message and records
// it (DeliveryAttempted) before anything is sent (R23). It first resolves
// the message again against the current configuration: R1, R2 and R17 must
// still hold (else MessageRejected and no attempt), and a changed
// configuration is recorded as a new TransportResolved. The append
// requires every configuration stream read to be unchanged, so the attempt
// provably used the configuration it names. The secrets are decrypted
// before the attempt is recorded; content or secrets that do not decrypt
// with the key ring fail the message.
//
// It returns nil when there is nothing to attempt now: the message is
// finished or rejected, another worker's attempt is younger than lease, or
// a retry is not yet due (R23's backoff) — then with its time.
func (s *Service) BeginAttempt(ctx context.Context, id string, lease time.Duration) (*Delivery, time.Time, error) {
	for range s.retries {
		var m message.State
		recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
		if err != nil {
			return nil, time.Time{}, err
		}
		if !m.Exists() || m.Status().Final() || m.Resolution() == nil {
			return nil, time.Time{}, nil
		}
		now := s.now()
		if due := m.DueAt(); now.Before(due) {
			return nil, due, nil // the backoff is not over
		}
		if m.InFlight() && now.Sub(recs[len(recs)-1].RecordedAt) < lease {
			return nil, time.Time{}, nil // another worker is sending it
		}
		fail := func(reason string) (bool, error) {
			events, err := m.Fail(reason)
			if err != nil {
				return false, err
			}
			_, err = s.store.Append(ctx, s.sagaAppend(recs, &m, events))
			if errors.Is(err, eventstore.ErrConflict) {
				return true, nil // decide again
			}
			return false, err
		}
		content, err := s.MessageContent(ctx, id)
		switch {
		case errors.Is(err, ErrContentPurged):
			err = errors.New("the message content was purged before it could be sent (R25)")
		case errors.Is(err, ErrUndecryptable):
			err = errors.New("the message content cannot be decrypted with the key ring")
		case err != nil:
			return nil, time.Time{}, err // passing: due again later
		}
		if err != nil {
			again, ferr := fail(err.Error())
			if again {
				continue
			}
			return nil, time.Time{}, ferr
		}
		r, f, rerr := s.resolve(ctx, &m)
		if rerr != nil && rerr.Code == domain.CodeInternal {
			return nil, time.Time{}, errors.New(rerr.Message)
		}
		events, err := m.Resolve(r, rerr)
		if err != nil {
			return nil, time.Time{}, err
		}
		for _, ev := range events {
			m.Apply(ev)
		}
		var d *Delivery
		if rerr == nil {
			d = &Delivery{Queued: *m.Queued(), Resolution: r, Content: content, QueuedAt: recs[0].RecordedAt,
				CorrelationID: recs[0].Metadata.CorrelationID}
			if err := s.reveal(d, f); err != nil {
				again, ferr := fail(err.Error())
				if again {
					continue
				}
				return nil, time.Time{}, ferr
			}
			more, err := m.Attempt(s.retry, now)
			if err != nil {
				return nil, time.Time{}, err
			}
			events = append(events, more...)
			for _, ev := range more {
				m.Apply(ev)
			}
		}
		a := s.sagaAppend(recs, &m, events)
		if d != nil && s.beforeAttemptAppend != nil {
			s.beforeAttemptAppend(ctx, id)
		}
		// A cancel (R23) appended meanwhile makes this a conflict: the
		// message is read again, is CANCELLED, and nothing is sent.
		_, err = s.store.AppendIf(ctx, r.Versions, a)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // the message or its configuration changed: decide again
		}
		if err == nil && rerr != nil {
			telemetry.Message(ctx, string(message.StatusRejected), r.Transport.String())
		}
		if err != nil || d == nil || m.Status() != message.StatusSending {
			return nil, time.Time{}, err
		}
		d.Attempt, d.state = m.Attempts(), m
		d.cursor = sagaCursor{version: a.ExpectedVersion + int64(len(a.Events)), first: recs[0].Metadata, last: a.Events[len(a.Events)-1].ID}
		return d, time.Time{}, nil
	}
	return nil, time.Time{}, domain.Conflict(fmt.Sprintf("message %s changed %d times while an attempt was prepared", id, s.retries))
}

// reveal picks the resolved settings and decrypts their secrets.
func (s *Service) reveal(d *Delivery, f message.Facts) error {
	var streamID string
	switch d.Resolution.Transport {
	case domain.TransportSystemServer:
		d.Settings, streamID = *f.SystemSettings, "system"
	case domain.TransportTenantServer:
		d.Settings, streamID = *f.TenantSettings, StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: d.Queued.TenantID})
	case domain.TransportMailbox:
		d.Settings, streamID = f.MailboxSettings[d.Resolution.MailboxID], StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: d.Resolution.MailboxID})
	default:
		return fmt.Errorf("app: message %s resolved to %s", d.Queued.MessageID, d.Resolution.Transport)
	}
	var err error
	if d.Password, err = s.RevealSecret(streamID, "password", d.Settings.Password); err != nil {
		return fmt.Errorf("the password of %s cannot be decrypted with the key ring", streamID)
	}
	if d.GraphClientSecret, err = s.RevealSecret(streamID, "graphClientSecret", d.Settings.GraphClientSecret); err != nil {
		return fmt.Errorf("the Graph client secret of %s cannot be decrypted with the key ring", streamID)
	}
	return nil
}

// ErrLateOutcome says an attempt's outcome came after the attempt was
// counted as interrupted; the outcome is not recorded.
var ErrLateOutcome = errors.New("app: late outcome")

// RecordOutcome records what the server answered to an attempt:
// MessageSent, DeliveryFailed with the next attempt's time, or
// MessageFailed (R23). It returns the time of the next attempt, zero when
// there is none.
func (s *Service) RecordOutcome(ctx context.Context, d *Delivery, o message.Outcome) (time.Time, error) {
	// First on the state the attempt left, then, should the stream have
	// moved on, on what it holds now.
	m, cursor := d.state, d.cursor
	for i := 0; i <= s.retries; i++ {
		if i > 0 {
			m = message.State{}
			recs, err := s.loadRecords(ctx, MessageStreamID(d.Queued.MessageID), &m)
			if err != nil {
				return time.Time{}, err
			}
			cursor = sagaCursor{version: version(recs), first: recs[0].Metadata, last: recs[len(recs)-1].ID}
		}
		events, err := m.Record(d.Attempt, o, s.retry, s.now(), jitter())
		if errors.Is(err, domain.ErrConflict) {
			// The attempt outlived its timeout and was recorded as
			// interrupted (or the message finished) meanwhile.
			return time.Time{}, fmt.Errorf("%w: attempt %d of message %s ended after it was given up", ErrLateOutcome, d.Attempt, d.Queued.MessageID)
		}
		if err != nil {
			return time.Time{}, err
		}
		_, err = s.store.Append(ctx, sagaAppendAt(cursor, &m, events))
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
