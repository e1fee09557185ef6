package message

import (
	"time"

	"github.com/absender/absender/domain"
)

// Mailbox is an address with an optional display name, as it appears in a
// header.
type Mailbox struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// String is the header form: "Name <address>" or the bare address.
func (m Mailbox) String() string {
	if m.Name == "" {
		return m.Address
	}
	return m.Name + " <" + m.Address + ">"
}

// Part describes one piece of content without holding it (R25): its size in
// bytes and the hex HMAC-SHA256 of its bytes under the message's content
// key. The keyed hash proves the content while the key exists; once the
// content is purged (the key erased), nothing about it can be derived —
// not even by hashing guesses of a short, templated body.
type Part struct {
	Size int    `json:"size"`
	HMAC string `json:"hmacSha256,omitempty"`
}

// AttachmentInfo describes an attachment without its content (R25).
type AttachmentInfo struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	HMAC        string `json:"hmacSha256"`
}

// Target is what a test mail (R6) goes through: the system server, the
// tenant's server or one of its authenticated mailboxes.
type Target struct {
	Transport domain.TransportKind `json:"transport"`
	MailboxID string               `json:"mailboxId,omitempty"`
}

// MessageQueued: a message was accepted (R17, R22, R5) and waits for the
// saga. Bodies and attachments are not here (R25): only their sizes and
// hashes; the content is kept encrypted beside the event log.
type MessageQueued struct {
	MessageID      string           `json:"messageId"`
	TenantID       string           `json:"tenantId"`
	UserID         string           `json:"userId,omitempty"`
	Kind           Kind             `json:"kind"`
	From           Mailbox          `json:"from"`
	FromNamed      bool             `json:"fromNamed,omitempty"`
	ReplyTo        *Mailbox         `json:"replyTo,omitempty"`
	To             []Mailbox        `json:"to"`
	Cc             []Mailbox        `json:"cc,omitempty"`
	Bcc            []Mailbox        `json:"bcc,omitempty"`
	Subject        string           `json:"subject"`
	Text           *Part            `json:"text,omitempty"`
	HTML           *Part            `json:"html,omitempty"`
	Attachments    []AttachmentInfo `json:"attachments,omitempty"`
	Size           int              `json:"size"`
	IdempotencyKey string           `json:"idempotencyKey,omitempty"`
	Target         *Target          `json:"target,omitempty"`
	RetainUntil    time.Time        `json:"retainUntil"`
	// HeaderID is the Message-ID header, fixed at queueing (R23); empty in
	// events recorded before it was, see HeaderMessageID.
	HeaderID string `json:"headerMessageId,omitempty"`
}

// HeaderMessageID is the Message-ID header every attempt sends (R23): the
// one recorded at queueing, or, for a message queued before it was
// recorded, the one NewHeaderID derives, so a copy a crash made carries
// the same Message-ID as the original.
func (q MessageQueued) HeaderMessageID() string {
	if q.HeaderID != "" {
		return q.HeaderID
	}
	return NewHeaderID(q.MessageID, q.From.Address)
}

// NewHeaderID derives a message's Message-ID header from its id and its
// From domain (IDNA-encoded), "<id@domain>": unique because the id is,
// and the same whenever it is derived again (R23).
func NewHeaderID(messageID, from string) string {
	host := "absender.invalid"
	if a, err := domain.NormalizeAddress(from); err == nil {
		host = a.Domain()
	}
	return "<" + messageID + "@" + host + ">"
}

// TransportResolved: the saga decided what sends the message and why
// (R16, R2, R3, R1, R23). A later one replaces an earlier one: the
// configuration changed between queueing and an attempt.
type TransportResolved struct {
	MessageID  string     `json:"messageId"`
	TenantID   string     `json:"tenantId"`
	Resolution Resolution `json:"resolution"`
}

// DeliveryAttempted: attempt N starts; it is recorded before the server is
// contacted, so no send happens without a record (R23).
type DeliveryAttempted struct {
	MessageID string               `json:"messageId"`
	TenantID  string               `json:"tenantId"`
	Attempt   int                  `json:"attempt"`
	Transport domain.TransportKind `json:"transport"`
	MailboxID string               `json:"mailboxId,omitempty"`
}

// Refusal is a recipient the server refused while it accepted the message.
type Refusal struct {
	Recipient string `json:"recipient"`
	Code      int    `json:"code,omitempty"`
	Reply     string `json:"reply,omitempty"`
}

// MessageSent: the server accepted the message.
type MessageSent struct {
	MessageID string    `json:"messageId"`
	TenantID  string    `json:"tenantId"`
	Attempt   int       `json:"attempt"`
	Code      int       `json:"code"`
	Reply     string    `json:"reply"`
	HeaderID  string    `json:"headerMessageId"`
	Refused   []Refusal `json:"refused,omitempty"`
}

// DeliveryFailed: attempt N failed temporarily; the next is due at RetryAt.
type DeliveryFailed struct {
	MessageID string    `json:"messageId"`
	TenantID  string    `json:"tenantId"`
	Attempt   int       `json:"attempt"`
	Code      int       `json:"code,omitempty"`
	Reason    string    `json:"reason"`
	RetryAt   time.Time `json:"retryAt"`
}

// MessageFailed: the message will not be sent: a permanent failure, or the
// last temporary one (R23).
type MessageFailed struct {
	MessageID string `json:"messageId"`
	TenantID  string `json:"tenantId"`
	Attempts  int    `json:"attempts"`
	Code      int    `json:"code,omitempty"`
	Reason    string `json:"reason"`
}

// MessageRejected: the saga refused the message before sending: sending is
// unavailable (R1, R2) or the sender may no longer use its From or Reply-To
// (R17, R20).
type MessageRejected struct {
	MessageID string      `json:"messageId"`
	TenantID  string      `json:"tenantId"`
	Code      domain.Code `json:"code"`
	Reason    string      `json:"reason"`
}

// MessageContentPurged: the message's content key was erased (R25): by
// retention or by an administrator. What was sent to whom stays.
type MessageContentPurged struct {
	MessageID string `json:"messageId"`
	TenantID  string `json:"tenantId"`
	Reason    string `json:"reason"`
}

// MessageCancelled: an administrator of the tenant or the sender cancelled
// a QUEUED or RETRYING message (R23). Final: nothing more is sent.
type MessageCancelled struct {
	MessageID string `json:"messageId"`
	TenantID  string `json:"tenantId"`
	// Attempts is how many attempts were made before.
	Attempts int `json:"attempts"`
}

// MessageRetryRequested: an administrator of the tenant or the sender made
// a RETRYING message due now (R23); the attempt it brings counts like any
// other.
type MessageRetryRequested struct {
	MessageID string `json:"messageId"`
	TenantID  string `json:"tenantId"`
	// Attempt is the number the next attempt will have.
	Attempt int `json:"attempt"`
	// WasDueAt is when the attempt was due before.
	WasDueAt time.Time `json:"wasDueAt"`
}

func (MessageQueued) EventName() string        { return "MessageQueued.v1" }
func (TransportResolved) EventName() string    { return "TransportResolved.v1" }
func (DeliveryAttempted) EventName() string    { return "DeliveryAttempted.v1" }
func (MessageSent) EventName() string          { return "MessageSent.v1" }
func (DeliveryFailed) EventName() string       { return "DeliveryFailed.v1" }
func (MessageFailed) EventName() string        { return "MessageFailed.v1" }
func (MessageRejected) EventName() string      { return "MessageRejected.v1" }
func (MessageContentPurged) EventName() string { return "MessageContentPurged.v1" }
func (MessageCancelled) EventName() string     { return "MessageCancelled.v1" }
func (MessageRetryRequested) EventName() string {
	return "MessageRetryRequested.v1"
}

// Events lists the message aggregate's event types.
func Events() []domain.Event {
	return []domain.Event{MessageQueued{}, TransportResolved{}, DeliveryAttempted{}, MessageSent{},
		DeliveryFailed{}, MessageFailed{}, MessageRejected{}, MessageContentPurged{}, MessageCancelled{}, MessageRetryRequested{}}
}
