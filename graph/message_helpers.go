package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/graph/model"
	"github.com/absender/absender/projections"
)

// messageTarget looks a message up for the permission table. A message of
// another tenant — or a test mail through the system server, which belongs
// to no tenant — does not exist for a tenant user (R19).
func (r *Resolver) messageTarget(ctx context.Context, id string) (authz.Target, projections.MessageRow, error) {
	if err := authenticated(ctx); err != nil {
		return authz.Target{}, projections.MessageRow{}, err
	}
	m, err := r.deps.Reader.Message(ctx, id)
	if err != nil {
		return authz.Target{}, m, notFound(err, "message")
	}
	if p := PrincipalFrom(ctx); p.Role.IsTenantRole() && m.TenantID != p.TenantID {
		return authz.Target{}, m, domain.NotFound("message")
	}
	return authz.Target{TenantID: m.TenantID, UserID: deref(m.UserID)}, m, nil
}

// readMessage answers a mutation with the message as the read model has it.
func (r *Resolver) readMessage(ctx context.Context, id string) (*model.Message, error) {
	m, err := r.deps.Reader.Message(ctx, id)
	if err != nil {
		return nil, notFound(err, "message")
	}
	return messageModel(m)
}

// acceptedMessage answers a mutation that queued a message with the
// message as it was accepted: QUEUED, whatever the saga did since (it may
// have sent it before read-your-writes returned). A replayed idempotency
// key (nothing appended) answers with the message as it is now.
func (r *Resolver) acceptedMessage(ctx context.Context, id string, res app.Result) (*model.Message, error) {
	if behind(ctx) && res.Events > 0 {
		return r.messageFromEvents(ctx, id)
	}
	m, err := r.readMessage(ctx, id)
	if err != nil || res.Events == 0 {
		return m, err
	}
	m.Status, m.Attempts, m.LastError, m.MessageID, m.RejectedRecipients, m.UpdatedAt =
		model.MessageStatusQueued, 0, nil, nil, []string{}, m.CreatedAt
	return m, nil
}

func messageModel(m projections.MessageRow) (*model.Message, error) {
	var rcpt projections.Recipients
	if err := json.Unmarshal([]byte(m.Recipients), &rcpt); err != nil {
		return nil, fmt.Errorf("message %s: recipients: %w", m.ID, err)
	}
	refused := []string{}
	if m.Refused != "" {
		if err := json.Unmarshal([]byte(m.Refused), &refused); err != nil {
			return nil, fmt.Errorf("message %s: refused recipients: %w", m.ID, err)
		}
	}
	out := &model.Message{ID: m.ID, Kind: model.MessageKind(m.Kind), Status: model.MessageStatus(m.Status), From: m.Sender, ReplyTo: m.ReplyTo,
		To: nonNil(rcpt.To), Cc: nonNil(rcpt.Cc), Subject: m.Subject, Attempts: m.Attempts, LastError: m.LastError,
		MessageID: m.HeaderID, RejectedRecipients: nonNil(refused), CreatedAt: parseTime(m.CreatedAt),
		UpdatedAt: parseTime(m.UpdatedAt), TenantID: m.TenantID, RawResolution: m.Resolution}
	if m.Transport != nil {
		k := model.TransportKind(*m.Transport)
		out.Transport = &k
	}
	if m.NextAttempt != nil {
		at := parseTime(*m.NextAttempt)
		out.NextAttemptAt = &at
	}
	return out, nil
}

// messageNow answers an operator's mutation (cancelMessage,
// retryMessageNow) with the message as it is now: from the read model, or,
// when that lags (R36), from the committed events.
func (r *Resolver) messageNow(ctx context.Context, id string) (*model.Message, error) {
	if !behind(ctx) {
		return r.readMessage(ctx, id)
	}
	out, err := r.messageFromEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	m, _, err := r.deps.App.Aggregates.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	out.Status, out.Attempts = model.MessageStatus(m.Status()), m.Attempts()
	return out, nil
}

// attemptLogModel is the API form of a message's attempt log; detail
// follows lastError's rule (plain words unless details may be seen).
func attemptLogModel(rows []projections.AttemptRow, details bool) []model.DeliveryAttempt {
	out := make([]model.DeliveryAttempt, 0, len(rows))
	for _, a := range rows {
		d := model.DeliveryAttempt{Number: a.Number, At: parseTime(a.At), Transport: model.TransportKind(a.Transport),
			Outcome: a.Outcome, SMTPCode: a.SMTPCode, Detail: a.Detail}
		if !details && a.Detail != nil {
			plain := plainAttemptDetail(a.Outcome, *a.Detail)
			d.Detail = &plain
		}
		out = append(out, d)
	}
	return out
}

// plainAttemptDetail is what a sender sees of an attempt's detail: no
// server reply, host or address.
func plainAttemptDetail(outcome, detail string) string {
	if outcome == projections.OutcomeSent {
		return "accepted by the mail server"
	}
	return plainLastError(detail)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// resolutionModel is the API form of the read model's message.Resolution.
func resolutionModel(raw string) (*model.Resolution, error) {
	var res message.Resolution
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return nil, fmt.Errorf("resolution: %w", err)
	}
	out := &model.Resolution{Rule: res.Rule, Transport: model.TransportKind(res.Transport.String()),
		MailboxID: optional(res.MailboxID), GrantedBy: optional(res.GrantedBy), Skipped: []model.SkippedCandidate{}}
	if g := res.Grant; g != nil {
		out.Grant = &model.GrantRef{UserID: optional(g.UserID), GroupID: optional(g.GroupID), At: g.At.UTC(), Position: g.Position}
	}
	for _, s := range res.Skipped {
		out.Skipped = append(out.Skipped, model.SkippedCandidate{Candidate: s.Candidate, Reason: s.Reason})
	}
	return out, nil
}

// draft turns the API input into the command's message draft.
func draft(in model.SendMessageInput) message.Draft {
	d := message.Draft{From: in.From, ReplyTo: deref(in.ReplyTo), To: in.To, Cc: in.Cc, Bcc: in.Bcc,
		Subject: in.Subject, Text: deref(in.Text), HTML: deref(in.HTML)}
	for _, a := range in.Attachments {
		d.Attachments = append(d.Attachments, message.AttachmentDraft{Filename: a.Filename, ContentType: a.ContentType,
			ContentBase64: a.ContentBase64})
	}
	return d
}

// watchMessage sends the message now and then at every change until it is
// final (SENT, FAILED, REJECTED) or ctx ends. The event store signals
// appends and read-model commits alike, so the row is re-read when the
// messages projection has applied a change. Like streamEvents it re-checks
// the caller's token and permission at every wake-up (R20, R19).
func (r *Resolver) watchMessage(ctx context.Context, t authz.Target, id string, out chan<- *model.Message) {
	defer close(out)
	tok, _ := ctx.Value(tokenKey{}).(string)
	var last []byte
	for {
		wake := r.deps.Store.Notify()
		if tok != "" {
			p, err := r.auth.Authenticate(ctx, tok)
			if err != nil || authz.Check(p, authz.OpMessageStatus, t) != nil {
				return
			}
		}
		row, err := r.deps.Reader.Message(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				r.deps.Log.ErrorContext(ctx, "messageStatus subscription", "message", id, "err", err)
			}
			return
		}
		if b, _ := json.Marshal(row); string(b) != string(last) {
			last = b
			m, err := messageModel(row)
			if err != nil {
				r.deps.Log.ErrorContext(ctx, "messageStatus subscription", "message", id, "err", err)
				return
			}
			select {
			case out <- m:
			case <-ctx.Done():
				return
			}
		}
		if message.Status(row.Status).Final() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

// plainLastError is what a message's sender (EMPLOYEE, EXTERNAL) sees of
// why its message failed: a category in plain words, without the hosts,
// addresses and URLs the detail holds (the resolver's address, a Graph
// token URL, the server's reply). It reads the reasons the saga records:
// "CODE: reason" for a rejection (R17, R1, R2), and the transport's
// "temporary|permanent delivery failure[ (code)]: step: detail".
func plainLastError(detail string) string {
	for _, c := range []domain.Code{domain.CodeFromNotAllowed, domain.CodeReplyToNotAllowed, domain.CodeSendingDisabled} {
		if strings.HasPrefix(detail, string(c)+":") {
			return string(c) + ": " + rejectedInWords[c]
		}
	}
	kind, rest, _ := strings.Cut(detail, " delivery failure")
	temporary, permanent := kind == "temporary", kind == "permanent"
	code := 0
	_, _ = fmt.Sscanf(rest, " (%d)", &code) // no code: 0
	auth := strings.Contains(detail, "SMTP authentication") || strings.Contains(detail, "graph token")
	switch {
	case strings.HasPrefix(detail, "interrupted"):
		return "temporary failure: the attempt was interrupted; it is retried"
	case temporary && code != 0:
		return "temporary failure: the receiving server did not accept the message yet"
	case temporary:
		return "temporary failure: connection failed"
	case permanent && auth:
		return "authentication failed"
	case permanent && code != 0:
		return "rejected by the mail server"
	case permanent && (strings.Contains(detail, "connect") || strings.Contains(detail, "certificate") || strings.Contains(detail, "R24")):
		return "connection failed"
	}
	return "the message could not be sent"
}

var rejectedInWords = map[domain.Code]string{
	domain.CodeFromNotAllowed:    "you may no longer send from this address",
	domain.CodeReplyToNotAllowed: "you may no longer use this reply-to address",
	domain.CodeSendingDisabled:   "no mail server may send this message now",
}
