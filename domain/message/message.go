// Package message is the message aggregate of the send saga (R17, R22–R25):
// one outgoing e-mail from MessageQueued to MessageSent, MessageFailed,
// MessageRejected or MessageCancelled, with every resolution and attempt in between recorded.
// It holds the pure rules — the deciders that queue a message (Queue, in
// R17's order; QueueTest, R6; QueueSupport, R7), validation (R22, R5), the
// explained transport resolution (R16, R2, R3, R1, R6), the retry schedule
// (R23) and the decisions of each step — and no I/O: the command layer
// gathers facts, decides here and appends, and the saga talks to servers.
// Every error is a *domain.Error returned as error, nil on success.
//
// Decisions where the SPEC is silent:
//   - A From or Reply-To that cannot be parsed, or whose display name holds
//     CR or LF, is INVALID_INPUT naming the field, at the place of the R17
//     check: header injection is refused as invalid, not as "not allowed".
//   - A bare From address takes the display name of its option (the first,
//     in option order); "Name <address>" must name one of the options for
//     that address exactly.
//   - An attachment is inspected as a ZIP archive when its name ends in .zip
//     or its content starts with a ZIP signature; an archive that cannot be
//     read, is nested deeper than 8 levels or unpacks to more than 256 MiB
//     is refused (ATTACHMENT_FORBIDDEN): what cannot be checked is not sent.
//   - Test mails (R6) are resolved to their target without R1–R3 and R17;
//     support requests (R7) are resolved like any message of the user, From
//     the tenant's system mailbox, but their Reply-To (the user's own
//     address) is not checked against the Reply-To options.
//   - A test mail's recipient is checked before its server: an invalid
//     recipient is INVALID_INPUT (to) even for a mailbox or tenant that is
//     NOT_FOUND. A support request has no Reply-To when the user has no
//     e-mail address; its size, with the system information, is bounded by
//     MaxSize (INVALID_INPUT body).
//   - The idempotent replay (R23, second in R17's order) is the command
//     layer's: it reads the message the key names and compares with
//     SameContent. Queue's CheckRequester runs before it.
//   - An attempt recorded but without outcome when the saga resumes (a crash
//     between DeliveryAttempted and the server's answer) counts as a
//     temporary failure "interrupted": it may have been sent, and the next
//     attempt is recorded before it is made (R23).
package message

import (
	"time"

	"github.com/absender/absender/domain"
)

// AttemptTimeout is how long an attempt may go without an outcome before
// the saga counts it as interrupted (a crash) and resumes the message. It
// exceeds the transports' send timeout.
const AttemptTimeout = 2 * time.Minute

// StreamKind is the message aggregate's stream kind.
const StreamKind domain.StreamKind = "message"

// Kind says why a message is sent.
type Kind string

// The message kinds.
const (
	KindMessage Kind = "MESSAGE" // sendMessage
	KindTest    Kind = "TEST"    // sendTestMail (R6)
	KindSupport Kind = "SUPPORT" // submitSupportRequest (R7)
	// KindAutoReply is an out-of-office reply (R29); nothing queues one yet.
	KindAutoReply Kind = "AUTO_REPLY"
)

// Status is the saga state (SPEC §4 enum MessageStatus).
type Status string

// The statuses.
const (
	StatusQueued    Status = "QUEUED"
	StatusSending   Status = "SENDING"
	StatusRetrying  Status = "RETRYING"
	StatusSent      Status = "SENT"
	StatusFailed    Status = "FAILED"
	StatusRejected  Status = "REJECTED"
	StatusCancelled Status = "CANCELLED"
)

// Final reports whether nothing more happens to a message in this status.
func (s Status) Final() bool {
	return s == StatusSent || s == StatusFailed || s == StatusRejected || s == StatusCancelled
}

// State is a message, rebuilt from its events.
type State struct {
	queued     *MessageQueued
	status     Status
	resolution *Resolution
	attempts   int
	inFlight   bool      // the last attempt has no outcome yet
	retryAt    time.Time // RETRYING: when the next attempt is due
	purged     bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case MessageQueued:
		q := e
		s.queued, s.status = &q, StatusQueued
	case TransportResolved:
		r := e.Resolution
		s.resolution = &r
	case DeliveryAttempted:
		s.attempts, s.inFlight, s.status = e.Attempt, true, StatusSending
	case MessageSent:
		s.inFlight, s.status = false, StatusSent
	case DeliveryFailed:
		s.inFlight, s.status, s.retryAt = false, StatusRetrying, e.RetryAt
	case MessageFailed:
		s.inFlight, s.status = false, StatusFailed
	case MessageRejected:
		s.inFlight, s.status = false, StatusRejected
	case MessageContentPurged:
		s.purged = true
	case MessageCancelled:
		s.inFlight, s.status = false, StatusCancelled
	case MessageRetryRequested:
		s.retryAt = time.Time{} // due now
	}
}

// Exists reports whether the message was queued.
func (s *State) Exists() bool { return s.queued != nil }

// Queued is the MessageQueued event (nil before it).
func (s *State) Queued() *MessageQueued { return s.queued }

// Status is the saga state.
func (s *State) Status() Status { return s.status }

// Resolution is the current transport resolution (nil before the first).
func (s *State) Resolution() *Resolution { return s.resolution }

// Attempts is the number of recorded attempts.
func (s *State) Attempts() int { return s.attempts }

// InFlight reports an attempt recorded without an outcome.
func (s *State) InFlight() bool { return s.inFlight }

// DueAt is when the next attempt may start: the retry time after a
// temporary failure (R23's backoff), zero when an attempt may start now.
func (s *State) DueAt() time.Time {
	if s.status == StatusRetrying {
		return s.retryAt
	}
	return time.Time{}
}

// Purged reports whether the content key was erased (R25).
func (s *State) Purged() bool { return s.purged }

// ID is the message id.
func (s *State) ID() string {
	if s.queued == nil {
		return ""
	}
	return s.queued.MessageID
}

// TenantID is the tenant the message belongs to.
func (s *State) TenantID() string {
	if s.queued == nil {
		return ""
	}
	return s.queued.TenantID
}

// Resolve records a resolution, or a rejection when err is set (the error
// codes SENDING_DISABLED, FROM_NOT_ALLOWED, REPLY_TO_NOT_ALLOWED). A
// resolution equal to the current one records nothing.
func (s *State) Resolve(r Resolution, err *domain.Error) ([]domain.Event, error) {
	if e := s.mustBeOpen(); e != nil {
		return nil, e
	}
	if err != nil {
		return []domain.Event{MessageRejected{MessageID: s.ID(), TenantID: s.TenantID(), Code: err.Code, Reason: err.Message}}, nil
	}
	if s.resolution != nil && s.resolution.Equal(r) {
		return nil, nil
	}
	return []domain.Event{TransportResolved{MessageID: s.ID(), TenantID: s.TenantID(), Resolution: r}}, nil
}

// Attempt records the start of the next attempt through the current
// resolution. When the previous attempt has no outcome (a crash), it is
// first recorded as failed temporarily, "interrupted"; if that was the
// last allowed attempt the message fails instead.
func (s *State) Attempt(p RetryPolicy, now time.Time) ([]domain.Event, error) {
	if e := s.mustBeOpen(); e != nil {
		return nil, e
	}
	if s.resolution == nil {
		return nil, domain.Conflict("message has no transport resolution yet")
	}
	if due := s.DueAt(); now.Before(due) {
		return nil, domain.Conflict("the next attempt is not due before " + due.UTC().Format(time.RFC3339))
	}
	var out []domain.Event
	if s.inFlight {
		const reason = "interrupted: the outcome of this attempt is unknown"
		if s.attempts >= p.MaxAttempts {
			return []domain.Event{MessageFailed{MessageID: s.ID(), TenantID: s.TenantID(), Attempts: s.attempts, Reason: reason}}, nil
		}
		out = append(out, DeliveryFailed{MessageID: s.ID(), TenantID: s.TenantID(), Attempt: s.attempts, Reason: reason, RetryAt: now})
	}
	return append(out, DeliveryAttempted{MessageID: s.ID(), TenantID: s.TenantID(), Attempt: s.attempts + 1,
		Transport: s.resolution.Transport, MailboxID: s.resolution.MailboxID}), nil
}

// Cancel cancels a QUEUED or RETRYING message (R23): CANCELLED is final,
// nothing more is sent. In any other status — also SENDING, an attempt
// under way that won the race — it is CONFLICT.
func (s *State) Cancel() ([]domain.Event, error) {
	if s.queued == nil {
		return nil, domain.NotFound("message")
	}
	if s.inFlight || (s.status != StatusQueued && s.status != StatusRetrying) {
		return nil, domain.Conflict("only a QUEUED or RETRYING message can be cancelled; this one is " + string(s.status))
	}
	return []domain.Event{MessageCancelled{MessageID: s.ID(), TenantID: s.TenantID(), Attempts: s.attempts}}, nil
}

// RetryNow makes a RETRYING message due now (R23); its next attempt counts
// like any other. In any other status it is CONFLICT; a message already
// due records nothing.
func (s *State) RetryNow(now time.Time) ([]domain.Event, error) {
	if s.queued == nil {
		return nil, domain.NotFound("message")
	}
	if s.inFlight || s.status != StatusRetrying {
		return nil, domain.Conflict("only a RETRYING message can be retried now; this one is " + string(s.status))
	}
	if !now.Before(s.retryAt) {
		return nil, nil
	}
	return []domain.Event{MessageRetryRequested{MessageID: s.ID(), TenantID: s.TenantID(), Attempt: s.attempts + 1, WasDueAt: s.retryAt}}, nil
}

// Outcome is what a server answered to one attempt.
type Outcome struct {
	Sent      bool
	Code      int
	Reply     string // server reply (sent) or failure reason
	HeaderID  string // Message-ID header (sent)
	Refused   []Refusal
	Temporary bool // a failure that may succeed later (R23)
}

// Record records the outcome of the attempt in flight: MessageSent, or a
// temporary DeliveryFailed with the next attempt's time, or MessageFailed
// for a permanent failure or when no attempt is left (R23).
func (s *State) Record(attempt int, o Outcome, p RetryPolicy, now time.Time, jitter float64) ([]domain.Event, error) {
	if e := s.mustBeOpen(); e != nil {
		return nil, e
	}
	if !s.inFlight || attempt != s.attempts {
		return nil, domain.Conflict("attempt is not the one in flight")
	}
	id, tenant := s.ID(), s.TenantID()
	switch {
	case o.Sent:
		return []domain.Event{MessageSent{MessageID: id, TenantID: tenant, Attempt: attempt, Code: o.Code, Reply: o.Reply, HeaderID: o.HeaderID, Refused: o.Refused}}, nil
	case o.Temporary && attempt < p.MaxAttempts:
		return []domain.Event{DeliveryFailed{MessageID: id, TenantID: tenant, Attempt: attempt, Code: o.Code, Reason: o.Reply,
			RetryAt: now.Add(p.Delay(attempt, jitter))}}, nil
	}
	return []domain.Event{MessageFailed{MessageID: id, TenantID: tenant, Attempts: attempt, Code: o.Code, Reason: o.Reply}}, nil
}

// Fail ends an open message (the saga's poison handling: an event it
// cannot process however often it tries).
func (s *State) Fail(reason string) ([]domain.Event, error) {
	if e := s.mustBeOpen(); e != nil {
		return nil, e
	}
	return []domain.Event{MessageFailed{MessageID: s.ID(), TenantID: s.TenantID(), Attempts: s.attempts, Reason: reason}}, nil
}

// Purge erases the content (R25); purging twice records nothing.
func (s *State) Purge(reason string) ([]domain.Event, error) {
	if s.queued == nil {
		return nil, domain.NotFound("message")
	}
	if s.purged {
		return nil, nil
	}
	return []domain.Event{MessageContentPurged{MessageID: s.ID(), TenantID: s.TenantID(), Reason: reason}}, nil
}

func (s *State) mustBeOpen() error {
	if s.queued == nil {
		return domain.NotFound("message")
	}
	if s.status.Final() {
		return domain.Conflict("message is already " + string(s.status))
	}
	return nil
}
