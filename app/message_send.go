package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/absender/absender/content"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/telemetry"
)

// Queueing (R6, R7, R17, R22, R23, R25): each command gathers the facts
// its decider in domain/message needs, lets it decide, and queues what it
// decided — MessageQueued with the resolution the checks computed, and
// the sealed content, in one transaction.

// idempotencyNamespace makes message ids from (user, idempotencyKey).
var idempotencyNamespace = uuid.MustParse("6f1c2a52-0d3e-4c55-9a53-5d8f3c1b7e21")

// IdempotentMessageID is the id of the message a user sends with an
// idempotency key (R23): the same user and key always name the same
// message, so a retried request finds it and a race appends it once.
func IdempotentMessageID(userID, key string) string {
	return uuid.NewSHA1(idempotencyNamespace, []byte(userID+"\x00"+key)).String()
}

// send queues a message of the request's user (Send) after the checks of
// R17, in its order (message.Queue decides them): permission (the caller's
// user), idempotent replay (here: it reads the message the key names),
// R1/R2, From, Reply-To, then R22 and R5 field by field. It returns the
// message id; a refused message leaves nothing behind. A keyed send that
// loses a race to the same key decides again and finds that message: it
// is the answer (or CONFLICT, when its content differs).
func (s Messages) send(ctx context.Context, d message.Draft, idempotencyKey string) (string, Result, error) {
	req := RequestFrom(ctx)
	in := message.QueueInput{UserID: req.Actor.UserID, IdempotencyKey: idempotencyKey, Draft: d}
	if err := in.CheckRequester(); err != nil {
		return "", Result{}, err
	}
	if idempotencyKey == "" {
		in.MessageID = s.newID()
	} else {
		in.MessageID = IdempotentMessageID(in.UserID, idempotencyKey)
	}
	var (
		replay *Result
		dec    message.Decision
	)
	res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		if idempotencyKey != "" {
			res, ok, err := s.existing(ctx, in.MessageID, d)
			if err != nil {
				return nil, err
			}
			if ok {
				replay = &res
				return nil, nil
			}
		}
		var err error
		if in.Facts, err = s.messageFacts(ctx, in.UserID, req.Actor.TenantID, message.AddressKeys(d)); err != nil {
			return nil, err
		}
		if dec, err = message.Queue(in); err != nil {
			return nil, err
		}
		// The decision resolved the transport already (R17 and R5 need
		// it): that resolution, with the versions it read, is recorded
		// with the message, and the saga's resolver finds the message
		// resolved.
		return s.queue(a, &dec)
	})
	if err != nil {
		return "", Result{}, err
	}
	if replay != nil {
		return in.MessageID, *replay, nil
	}
	s.queued(ctx, dec)
	return in.MessageID, res, nil
}

// existing finds a queued message (idempotent replay, R23): the same
// content answers with it, other content is CONFLICT
// (message.SameContent says what counts as the same).
func (s Messages) existing(ctx context.Context, id string, d message.Draft) (Result, bool, error) {
	var m message.State
	recs, err := s.loadRecords(ctx, MessageStreamID(id), &m)
	if err != nil || len(recs) == 0 || !m.Exists() {
		return Result{}, false, err
	}
	var stored *message.Content
	switch c, err := s.content.Open(ctx, id); {
	case err == nil:
		stored = &c
	case !errors.Is(err, ErrContentPurged) && !errors.Is(err, ErrUndecryptable):
		return Result{}, false, err
	}
	if !message.SameContent(*m.Queued(), d, stored) {
		return Result{}, false, domain.Conflict("idempotencyKey: this key was used for a message with other content")
	}
	return Result{Position: recs[0].Position, Events: 0}, true, nil
}

// queue is the part of an attempt that queues a decided message: it
// completes MessageQueued (retention, Message-ID header, the content's
// description) and seals the content, and returns the new message stream's
// changes — MessageQueued, then the decision's resolution when it has one
// — with the sealed content written in the append's transaction (R25). The
// stream is new: the append expects version 0.
func (s Messages) queue(a *attempt, dec *message.Decision) (domain.Changes, error) {
	q := &dec.Queued
	if q.RetainUntil.IsZero() {
		q.RetainUntil = s.now().Add(s.retention).UTC().Truncate(time.Second)
	}
	if q.HeaderID == "" {
		q.HeaderID = message.NewHeaderID(q.MessageID, q.From.Address)
	}
	sealed, key, err := s.content.Seal(q.MessageID, dec.Content)
	if err != nil {
		return nil, err
	}
	q.Text, q.HTML, q.Attachments = message.Describe(dec.Content, key)
	retainUntil := q.RetainUntil
	a.create(message.StreamKind, q.MessageID)
	a.with(func(ctx context.Context, tx bun.IDB) error {
		return content.Insert(ctx, tx, sealed, retainUntil)
	})
	return one(message.StreamKind, q.MessageID, dec.Events()), nil
}

// queued runs what follows a queued message's commit: the messages metric,
// and for a message queued resolved (sendMessage) this process's saga
// attempts it now (Config.OnQueued).
func (s Messages) queued(ctx context.Context, dec message.Decision) {
	telemetry.Message(ctx, string(message.StatusQueued), "")
	if dec.Resolved != nil && s.onQueued != nil {
		s.onQueued(ctx, dec.Queued.MessageID)
	}
}

// sendTestMail queues a test mail (SendTestMail, R6) to one address
// through the system server (tenantID and mailboxID empty), a tenant's
// server (tenantID) or one of its authenticated mailboxes (mailboxID) —
// also while R1–R3 would not use that server; message.QueueTest decides
// it.
func (s Messages) sendTestMail(ctx context.Context, tenantID, mailboxID, to string) (string, Result, error) {
	in := message.QueueTestInput{UserID: RequestFrom(ctx).Actor.UserID, To: to, TenantID: tenantID, MailboxID: mailboxID, MessageID: s.newID()}
	var dec message.Decision
	res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		if err := s.testTarget(ctx, &in); err != nil {
			return nil, err
		}
		var err error
		if dec, err = message.QueueTest(in); err != nil {
			return nil, err
		}
		return s.queue(a, &dec)
	})
	if err != nil {
		return "", Result{}, err
	}
	s.queued(ctx, dec)
	return in.MessageID, res, nil
}

// testTarget reads the server a test mail goes through into in: the
// mailbox's, the tenant's or the system's, as in names it.
func (s Messages) testTarget(ctx context.Context, in *message.QueueTestInput) error {
	in.Mailbox, in.Tenant, in.SystemServer = nil, nil, nil
	switch {
	case in.MailboxID != "":
		var m mailbox.State
		if err := s.loadStream(ctx, domain.StreamMailbox, in.MailboxID, &m); err != nil {
			return err
		}
		if m.Exists() {
			in.Mailbox = &message.TestMailbox{TenantID: m.TenantID(), Address: m.Address()}
			if ms, ok := m.Settings(); ok {
				in.Mailbox.Settings = &ms
			}
		}
	case in.TenantID != "":
		var t tenant.State
		if err := s.loadStream(ctx, domain.StreamTenant, in.TenantID, &t); err != nil {
			return err
		}
		if t.Exists() {
			in.Tenant = &message.TestTenant{Name: t.Name()}
			if ts, ok := t.Server(); ok {
				in.Tenant.Server = &ts
			}
		}
	default:
		var sys system.State
		if err := s.loadStream(ctx, domain.StreamSystem, "system", &sys); err != nil {
			return err
		}
		if ss, ok := sys.Settings(); ok {
			in.SystemServer = &ss
		}
	}
	return nil
}

// submitSupportRequest sends a user's support request (R7) to the
// effective support address, From the tenant's system mailbox (R8),
// Reply-To the user, through the normal resolution; message.QueueSupport
// decides it.
func (s Messages) submitSupportRequest(ctx context.Context, subject, body string) (string, Result, error) {
	req := RequestFrom(ctx)
	in := message.QueueSupportInput{UserID: req.Actor.UserID, Subject: subject, Body: body, Version: s.version}
	if err := in.CheckRequester(); err != nil {
		return "", Result{}, err
	}
	in.MessageID = s.newID()
	var dec message.Decision
	res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var err error
		if in.Facts, err = s.messageFacts(ctx, in.UserID, req.Actor.TenantID, nil); err != nil {
			return nil, err
		}
		var sys system.State
		if err := s.loadStream(ctx, domain.StreamSystem, "system", &sys); err != nil {
			return nil, err
		}
		var t tenant.State
		if err := s.loadStream(ctx, domain.StreamTenant, in.Facts.Viewer.TenantID, &t); err != nil {
			return nil, err
		}
		in.Support, in.TenantName, in.TenantSupportAddress = sys.Support(), t.Name(), t.OwnSupportAddress()
		if dec, err = message.QueueSupport(in); err != nil {
			return nil, err
		}
		return s.queue(a, &dec)
	})
	if err != nil {
		return "", Result{}, err
	}
	s.queued(ctx, dec)
	return in.MessageID, res, nil
}
