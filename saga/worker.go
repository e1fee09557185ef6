package saga

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/telemetry"
	"github.com/absender/absender/transport"
)

type sqlTx = sql.Tx

// deliver runs the worker pool: a dispatcher hands the workers the
// messages this process just queued (Due) and those the schedule shows
// due (claimed), and the workers attempt them, each on its own, so one
// slow server holds one worker and nothing else.
func (s *Saga) deliver(ctx context.Context) {
	work := make(chan due)
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				// An attempt under way finishes even when ctx ends: its
				// outcome is recorded, not left for the timeout.
				s.attempt(context.WithoutCancel(ctx), d)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for {
		wake := s.opt.Store.Notify()
		claimed, err := s.claim(ctx, s.opt.Workers)
		if err != nil && ctx.Err() == nil {
			s.opt.Log.ErrorContext(ctx, "saga: claiming due messages failed", "error", err)
		}
		for _, d := range claimed {
			select {
			case work <- d:
			case <-ctx.Done():
				return
			}
		}
		if len(claimed) == s.opt.Workers {
			continue // there may be more due now
		}
		select {
		case <-ctx.Done():
			return
		case d := <-s.hints:
			select {
			case work <- d:
			case <-ctx.Done():
				return
			}
		case <-wake:
		case <-time.After(s.opt.Poll):
		}
	}
}

// attempt makes one delivery attempt of a message (R23), in a span of the
// trace of the request that queued it.
func (s *Saga) attempt(ctx context.Context, due due) {
	id := due.id
	ctx, span := telemetry.Tracer().Start(telemetry.WithTraceParent(ctx, due.traceParent), "saga.attempt",
		trace.WithAttributes(attribute.String("absender.message_id", id)))
	defer span.End()
	log := s.opt.Log.With("message", id)
	ctx = s.opt.App.WithActor(ctx, principal, "", "") // the message's tenant and correlation once it is loaded
	var d *Delivery
	var why idle
	err := s.step(ctx, stepBeginAttempt, func(ctx context.Context) (err error) {
		d, why, err = s.beginAttempt(ctx, id, s.opt.AttemptTimeout)
		return err
	})
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		log.ErrorContext(ctx, "saga: preparing the attempt failed; it is due again later", "error", err)
		return
	}
	if d == nil {
		span.SetAttributes(attribute.Bool("absender.attempted", false))
		// A claim leased the row for an attempt timeout (a hint leased
		// nothing). A message finished or unknown (a row the back-fill
		// made from a stale read model) keeps the lease until the
		// resolver changes or deletes the row, so no worker claims it
		// again and again; one not due yet (a stale due time: the
		// resolver has not scheduled its DeliveryFailed or its attempt
		// yet) keeps it until the time its events say.
		var until int64
		switch {
		case due.rev == 0:
		case why.ended:
			until = never
		case !why.until.IsZero():
			until = why.until.UnixMilli()
		}
		if until != 0 {
			if err := s.holdLease(ctx, id, due.rev, until); err != nil {
				log.ErrorContext(ctx, "saga: setting the due time failed", "error", err)
			}
		}
		return // finished, rejected, not due, or another worker's
	}
	// Log lines of this attempt carry the message's correlation, tenant
	// and actor (see the server's log handler).
	ctx = s.opt.App.WithActor(ctx, principal, d.Queued.TenantID, d.CorrelationID)
	transportKind := d.Resolution.Transport.String()
	span.SetAttributes(attribute.Int("absender.attempt", d.Attempt), attribute.String("absender.transport", transportKind))
	log = log.With("attempt", d.Attempt, "transport", transportKind)
	if s.opt.BeforeSend != nil {
		if err := s.opt.BeforeSend(ctx, d); err != nil {
			log.WarnContext(ctx, "saga: attempt abandoned before sending", "error", err)
			return
		}
	}
	res, err := s.opt.Sender.Send(ctx, d.Settings, transport.Credentials{Password: d.Password, GraphClientSecret: d.GraphClientSecret}, mailOf(d))
	d.Password, d.GraphClientSecret = "", ""
	o := outcome(res, err)
	var next time.Time
	recErr := s.step(ctx, stepRecordOutcome, func(ctx context.Context) (err error) {
		next, err = s.recordOutcome(ctx, d, o)
		return err
	})
	switch {
	case errors.Is(recErr, ErrLateOutcome):
		log.WarnContext(ctx, "saga: the attempt outlived its timeout and was counted as interrupted; its outcome is not recorded",
			"sent", o.Sent, "code", o.Code, "reply", o.Reply)
	case recErr != nil:
		span.SetStatus(codes.Error, recErr.Error())
		log.ErrorContext(ctx, "saga: recording the outcome failed; the attempt counts as interrupted", "error", recErr)
	case o.Sent:
		telemetry.Message(ctx, string(message.StatusSent), transportKind)
		telemetry.Delivered(ctx, s.opt.Now().Sub(d.QueuedAt), transportKind)
		log.InfoContext(ctx, "saga: message sent", "code", o.Code, "refused", len(o.Refused))
	case !next.IsZero():
		telemetry.Retry(ctx, transportKind)
		span.SetStatus(codes.Error, o.Reply)
		log.WarnContext(ctx, "saga: attempt failed; retrying", "code", o.Code, "reason", o.Reply, "retry_at", next)
	default:
		telemetry.Message(ctx, string(message.StatusFailed), transportKind)
		span.SetStatus(codes.Error, o.Reply)
		log.WarnContext(ctx, "saga: message failed", "code", o.Code, "reason", o.Reply, "temporary", o.Temporary)
	}
}

// outcome translates a transport's answer (R23: temporary or permanent).
func outcome(res transport.Result, err error) message.Outcome {
	if err == nil {
		o := message.Outcome{Sent: true, Code: res.Code, Reply: res.Reply, HeaderID: res.MessageID}
		for _, r := range res.Refused {
			o.Refused = append(o.Refused, message.Refusal{Recipient: r.Recipient, Code: r.Code, Reply: r.Reply})
		}
		return o
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return message.Outcome{Code: te.Code, Reply: te.Error(), Temporary: te.Temporary}
	}
	// Anything else (a cancelled send, an unexpected error) may pass.
	return message.Outcome{Reply: err.Error(), Temporary: true}
}

// mailOf builds the transport's message from a delivery.
func mailOf(d *Delivery) transport.Message {
	q := d.Queued
	mb := func(m message.Mailbox) transport.Mailbox { return transport.Mailbox{Name: m.Name, Address: m.Address} }
	list := func(ms []message.Mailbox) []transport.Mailbox {
		out := make([]transport.Mailbox, len(ms))
		for i, m := range ms {
			out[i] = mb(m)
		}
		return out
	}
	m := transport.Message{From: mb(q.From), To: list(q.To), Cc: list(q.Cc), Bcc: list(q.Bcc), Subject: q.Subject,
		Text: d.Content.Text, HTML: d.Content.HTML, MessageID: q.HeaderMessageID()}
	if d.Resolution.FromName != "" {
		m.From.Name = d.Resolution.FromName
	}
	if q.ReplyTo != nil {
		m.ReplyTo = mb(*q.ReplyTo)
	}
	for _, a := range d.Content.Attachments {
		m.Attachments = append(m.Attachments, transport.Attachment{Filename: a.Filename, ContentType: a.ContentType, Data: a.Data})
	}
	return m
}
