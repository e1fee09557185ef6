package account

import (
	"time"

	"github.com/absender/absender/domain"
)

// AccountCreated: an account was created on a mail domain (R27). The
// password is here only as its argon2id hash.
type AccountCreated struct {
	AccountID    string   `json:"accountId"`
	DomainID     string   `json:"domainId"`
	TenantID     string   `json:"tenantId"`
	LocalPart    string   `json:"localPart"` // lower case
	Address      string   `json:"address"`
	AddressKey   string   `json:"addressKey"`
	PasswordHash string   `json:"passwordHash"`
	ForwardTo    []string `json:"forwardTo,omitempty"`
	KeepCopy     bool     `json:"keepCopy"`
}

// AccountPasswordChanged: a new password, as its argon2id hash (R27).
type AccountPasswordChanged struct {
	AccountID    string `json:"accountId"`
	DomainID     string `json:"domainId"`
	TenantID     string `json:"tenantId"`
	PasswordHash string `json:"passwordHash"`
}

// AccountForwardingSet: the account now forwards to these addresses,
// keeping a local copy or not (R28); no addresses: no forwarding.
type AccountForwardingSet struct {
	AccountID string   `json:"accountId"`
	DomainID  string   `json:"domainId"`
	TenantID  string   `json:"tenantId"`
	ForwardTo []string `json:"forwardTo,omitempty"`
	KeepCopy  bool     `json:"keepCopy"`
}

// AccountDeleted: the account was deleted; its history stays.
type AccountDeleted struct {
	AccountID string `json:"accountId"`
	DomainID  string `json:"domainId"`
	TenantID  string `json:"tenantId"`
}

// AutoReplySaved: an auto-reply was created or replaced (R29); saving
// does not change whether it is active.
type AutoReplySaved struct {
	AccountID       string     `json:"accountId"`
	TenantID        string     `json:"tenantId"`
	AutoReplyID     string     `json:"autoReplyId"`
	Name            string     `json:"name"`
	Subject         string     `json:"subject"`
	Body            string     `json:"body"`
	StartsAt        *time.Time `json:"startsAt,omitempty"`
	EndsAt          *time.Time `json:"endsAt,omitempty"`
	Weekdays        []int      `json:"weekdays,omitempty"`
	TimeZone        string     `json:"timeZone"`
	Exclusions      []string   `json:"exclusions,omitempty"`
	AlternateSender string     `json:"alternateSender,omitempty"`
}

// AutoReplyDeleted: the auto-reply was deleted.
type AutoReplyDeleted struct {
	AccountID   string `json:"accountId"`
	TenantID    string `json:"tenantId"`
	AutoReplyID string `json:"autoReplyId"`
}

// AutoReplyActiveSet: the auto-reply was activated or deactivated;
// activating one deactivates every other of the account (R29).
type AutoReplyActiveSet struct {
	AccountID   string `json:"accountId"`
	TenantID    string `json:"tenantId"`
	AutoReplyID string `json:"autoReplyId"`
	Active      bool   `json:"active"`
}

// AutoReplySent: a reply went to the sender (the envelope sender after SRS
// reversal, as its address key); the 7-day memory of R29.
type AutoReplySent struct {
	AccountID   string    `json:"accountId"`
	TenantID    string    `json:"tenantId"`
	AutoReplyID string    `json:"autoReplyId"`
	SenderKey   string    `json:"senderKey"`
	SentAt      time.Time `json:"sentAt"`
}

// AutoReplyMemoryReset: the account forgot whom it replied to (R29).
type AutoReplyMemoryReset struct {
	AccountID string `json:"accountId"`
	TenantID  string `json:"tenantId"`
}

func (AccountCreated) EventName() string         { return "AccountCreated.v1" }
func (AccountPasswordChanged) EventName() string { return "AccountPasswordChanged.v1" }
func (AccountForwardingSet) EventName() string   { return "AccountForwardingSet.v1" }
func (AccountDeleted) EventName() string         { return "AccountDeleted.v1" }
func (AutoReplySaved) EventName() string         { return "AutoReplySaved.v1" }
func (AutoReplyDeleted) EventName() string       { return "AutoReplyDeleted.v1" }
func (AutoReplyActiveSet) EventName() string     { return "AutoReplyActiveSet.v1" }
func (AutoReplySent) EventName() string          { return "AutoReplySent.v1" }
func (AutoReplyMemoryReset) EventName() string   { return "AutoReplyMemoryReset.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{AccountCreated{}, AccountPasswordChanged{}, AccountForwardingSet{}, AccountDeleted{},
		AutoReplySaved{}, AutoReplyDeleted{}, AutoReplyActiveSet{}, AutoReplySent{}, AutoReplyMemoryReset{}}
}
