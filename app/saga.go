package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
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
	events, err := m.Resolve(r, rerr)
	if err != nil || len(events) == 0 {
		return err
	}
	_, err = s.store.AppendSQLTx(ctx, tx, s.sagaAppend(recs, &m, events))
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
func (s *Service) resolve(ctx context.Context, m *message.State) (message.Resolution, message.Facts, *domain.Error) {
	q := m.Queued()
	if q.Kind == message.KindTest {
		f, err := s.testFacts(ctx, q)
		if err != nil {
			return message.Resolution{}, f, &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
		}
		r, rerr := message.ResolveTest(*q.Target, f)
		return r, f, rerr
	}
	keys := []string{domain.AddressKey(q.From.Address)}
	req := message.Request{Kind: q.Kind, From: message.Mailbox{Address: q.From.Address}}
	if q.ReplyTo != nil && q.Kind == message.KindMessage {
		keys = append(keys, domain.AddressKey(q.ReplyTo.Address))
		req.ReplyTo = &message.Mailbox{Address: q.ReplyTo.Address}
	}
	f, err := s.messageFacts(ctx, q.UserID, q.TenantID, keys)
	if err != nil {
		return message.Resolution{}, f, &domain.Error{Code: domain.CodeInternal, Message: err.Error()}
	}
	r, rerr := message.Resolve(req, f)
	if rerr == nil {
		r.FromName = q.From.Name // the name accepted when queued
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
// provably used the configuration it names. It returns nil when there is
// nothing to attempt: the message is finished, rejected now, or another
// worker's attempt is younger than lease.
func (s *Service) BeginAttempt(ctx context.Context, id string, lease time.Duration) (*Delivery, error) {
	for range s.retries {
		var m message.State
		recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
		if err != nil {
			return nil, err
		}
		if !m.Exists() || m.Status().Final() || m.Resolution() == nil {
			return nil, nil
		}
		if m.InFlight() && s.now().Sub(recs[len(recs)-1].RecordedAt) < lease {
			return nil, nil // another worker is sending it
		}
		content, err := s.MessageContent(ctx, id)
		if errors.Is(err, ErrContentPurged) {
			events, err := m.Fail("the message content was purged before it could be sent (R25)")
			if err != nil {
				return nil, err
			}
			_, err = s.store.Append(ctx, s.sagaAppend(recs, &m, events))
			if errors.Is(err, eventstore.ErrConflict) {
				continue
			}
			return nil, err
		}
		if err != nil {
			return nil, err
		}
		r, f, rerr := s.resolve(ctx, &m)
		if rerr != nil && rerr.Code == domain.CodeInternal {
			return nil, errors.New(rerr.Message)
		}
		events, err := m.Resolve(r, rerr)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			m.Apply(ev)
		}
		if rerr == nil {
			more, err := m.Attempt(s.retry, s.now())
			if err != nil {
				return nil, err
			}
			events = append(events, more...)
			for _, ev := range more {
				m.Apply(ev)
			}
		}
		a := s.sagaAppend(recs, &m, events)
		_, err = s.store.AppendIf(ctx, r.Versions, a)
		if errors.Is(err, eventstore.ErrConflict) {
			continue // the message or its configuration changed: decide again
		}
		if err != nil || rerr != nil || m.Status() != message.StatusSending {
			return nil, err
		}
		d := &Delivery{Queued: *m.Queued(), Attempt: m.Attempts(), Resolution: r, Content: content, state: m,
			cursor: sagaCursor{version: a.ExpectedVersion + int64(len(a.Events)), first: recs[0].Metadata, last: a.Events[len(a.Events)-1].ID}}
		if err := s.reveal(d, f); err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, domain.Conflict(fmt.Sprintf("message %s changed %d times while an attempt was prepared", id, s.retries))
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
		return fmt.Errorf("app: password of %s: %w", streamID, err)
	}
	if d.GraphClientSecret, err = s.RevealSecret(streamID, "graphClientSecret", d.Settings.GraphClientSecret); err != nil {
		return fmt.Errorf("app: Graph client secret of %s: %w", streamID, err)
	}
	return nil
}

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
			return time.Time{}, nil // finished or recorded meanwhile (an interrupted attempt)
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
