package model

import "time"

// Message is a message row; its resolution is resolved on demand (SPEC §4:
// only the tenant's administrators, system administrators and auditors see
// it).
type Message struct {
	ID                 string         `json:"id"`
	Kind               MessageKind    `json:"kind"`
	NextAttemptAt      *time.Time     `json:"nextAttemptAt,omitempty"`
	Status             MessageStatus  `json:"status"`
	From               string         `json:"from"`
	ReplyTo            *string        `json:"replyTo,omitempty"`
	To                 []string       `json:"to"`
	Cc                 []string       `json:"cc"`
	Subject            string         `json:"subject"`
	Transport          *TransportKind `json:"transport,omitempty"`
	Attempts           int            `json:"attempts"`
	LastError          *string        `json:"lastError,omitempty"`
	MessageID          *string        `json:"messageId,omitempty"`
	RejectedRecipients []string       `json:"rejectedRecipients"`
	CreatedAt          time.Time      `json:"createdAt"`
	UpdatedAt          time.Time      `json:"updatedAt"`

	// TenantID owns the message ("" for a test mail through the system
	// server); RawResolution is the read model's JSON message.Resolution.
	TenantID      string  `json:"-"`
	RawResolution *string `json:"-"`
}
