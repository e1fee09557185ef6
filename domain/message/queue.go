package message

import "github.com/absender/absender/domain"

// Decision is what a decider queues: the MessageQueued event, the
// TransportResolved to append right after it when the decision resolved
// the message already (nil: the saga resolves it), and the content kept
// encrypted beside the log (R25). The caller completes MessageQueued with
// what only storing can say: the content's sizes and keyed hashes
// (Describe, with the content key), the retention and the Message-ID
// header.
type Decision struct {
	Queued   MessageQueued
	Resolved *TransportResolved
	Content  Content
}

// Events are the decision's events in append order: MessageQueued, then
// TransportResolved when there is one.
func (d Decision) Events() []domain.Event {
	events := []domain.Event{d.Queued}
	if d.Resolved != nil {
		events = append(events, *d.Resolved)
	}
	return events
}

// QueueInput is what Queue decides on: the request of a user's message
// and the facts its caller gathered.
type QueueInput struct {
	// MessageID is the new message's id: a fresh one, or the one the
	// user's idempotency key names (R23).
	MessageID string
	// UserID is the user the request acts for; "" for a token without one.
	UserID         string
	IdempotencyKey string
	Draft          Draft
	// Facts are what the resolution reads, gathered from the current
	// configuration for the address keys AddressKeys(Draft) names.
	Facts Facts
}

// CheckRequester is R17's first check: a message is sent as a user. It
// also bounds the idempotency key (R34). Queue runs it first; a caller
// runs it on its own before the idempotent replay (R23), which comes
// second in R17's order and needs the user.
func (in QueueInput) CheckRequester() error {
	if in.UserID == "" {
		return domain.Forbidden("messages are sent as a user; this token has none")
	}
	if in.IdempotencyKey != "" {
		if err := domain.CheckLine("idempotencyKey", in.IdempotencyKey, MaxIdempotencyKey); err != nil {
			return err // R34
		}
	}
	return nil
}

// AddressKeys are the address keys of a draft's From and Reply-To: the
// mailboxes with these addresses are the facts Queue reads. None when
// they do not parse (Queue then refuses the draft).
func AddressKeys(d Draft) []string {
	p, err := ParseSenders(d)
	if err != nil {
		return nil
	}
	keys := []string{domain.AddressKey(p.From.Address)}
	if p.ReplyTo != nil {
		keys = append(keys, domain.AddressKey(p.ReplyTo.Address))
	}
	return keys
}

// Queue decides a user's message in R17's order: the requester
// (FORBIDDEN without a user; the idempotency key's bounds, R34); R1/R2
// (SENDING_DISABLED, before anything about the draft); From, then
// Reply-To (their syntax, INVALID_INPUT, then R17's options,
// FROM_NOT_ALLOWED and REPLY_TO_NOT_ALLOWED); then R22 and R5 field by
// field in schema order (INVALID_INPUT, ATTACHMENT_FORBIDDEN). The
// idempotent replay (R23), second in R17's order, is the caller's: it
// reads the message the key already queued. An accepted message comes with
// its resolution, which R17 and R5 needed: it is recorded with the message.
func Queue(in QueueInput) (Decision, error) {
	if err := in.CheckRequester(); err != nil {
		return Decision{}, err
	}
	f := in.Facts
	if f.Tenant.Transport == domain.TransportNone {
		if _, err := Resolve(Request{Kind: KindMessage}, f); err != nil {
			return Decision{}, err // R1, R2
		}
	}
	parsed, err := ParseSenders(in.Draft)
	if err != nil {
		return Decision{}, err
	}
	r, err := Resolve(Request{Kind: KindMessage, From: parsed.From, FromNamed: parsed.FromNamed,
		ReplyTo: parsed.ReplyTo, ReplyToNamed: parsed.ReplyNamed}, f)
	if err != nil {
		return Decision{}, err // R1, R2, R17
	}
	p, err := Validate(parsed, in.Draft, r.SMTPUTF8)
	if err != nil {
		return Decision{}, err // R22, R5
	}
	p.From.Name = r.FromName
	q := MessageQueued{MessageID: in.MessageID, TenantID: f.Viewer.TenantID, UserID: in.UserID, Kind: KindMessage,
		From: p.From, FromNamed: p.FromNamed, ReplyTo: p.ReplyTo, To: p.To, Cc: p.Cc, Bcc: p.Bcc,
		Subject: p.Subject, Size: p.Size, IdempotencyKey: in.IdempotencyKey}
	return Decision{Queued: q, Resolved: &TransportResolved{MessageID: in.MessageID, TenantID: q.TenantID, Resolution: r},
		Content: p.Content}, nil
}
