package mailbox

import "github.com/absender/absender/domain"

// MailboxAdded: a mailbox was added to a tenant (R9). Settings present
// means authenticated.
type MailboxAdded struct {
	MailboxID   string                 `json:"mailboxId"`
	TenantID    string                 `json:"tenantId"`
	Address     string                 `json:"address"`
	AddressKey  string                 `json:"addressKey"`
	DisplayName string                 `json:"displayName"`
	Sender      bool                   `json:"sender"`
	ReplyTo     bool                   `json:"replyTo"`
	Global      bool                   `json:"global"`
	Settings    *domain.ServerSettings `json:"settings,omitempty"`
}

// MailboxUpdated: display name and flags are now these values.
type MailboxUpdated struct {
	MailboxID   string `json:"mailboxId"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
	Sender      bool   `json:"sender"`
	ReplyTo     bool   `json:"replyTo"`
}

// MailboxSettingsConfigured: the mailbox's own server settings were stored (R4).
type MailboxSettingsConfigured struct {
	MailboxID string                `json:"mailboxId"`
	TenantID  string                `json:"tenantId"`
	Settings  domain.ServerSettings `json:"settings"`
}

// MailboxSettingsRemoved: the mailbox is no longer authenticated.
type MailboxSettingsRemoved struct {
	MailboxID string `json:"mailboxId"`
	TenantID  string `json:"tenantId"`
}

// MailboxGlobalChanged: global was set or cleared (R12); clearing it
// revoked the grants to users and groups of other tenants listed here.
type MailboxGlobalChanged struct {
	MailboxID     string   `json:"mailboxId"`
	TenantID      string   `json:"tenantId"`
	Global        bool     `json:"global"`
	RevokedUsers  []string `json:"revokedUsers,omitempty"`
	RevokedGroups []string `json:"revokedGroups,omitempty"`
}

// MailboxUserGranted: the user may use the mailbox (R11, R12).
type MailboxUserGranted struct {
	MailboxID    string `json:"mailboxId"`
	TenantID     string `json:"tenantId"`
	UserID       string `json:"userId"`
	UserTenantID string `json:"userTenantId"`
}

// MailboxUserRevoked: the user's grant was revoked.
type MailboxUserRevoked struct {
	MailboxID    string `json:"mailboxId"`
	TenantID     string `json:"tenantId"`
	UserID       string `json:"userId"`
	UserTenantID string `json:"userTenantId"`
}

// MailboxGroupGranted: the group's members may use the mailbox (R11, R12).
type MailboxGroupGranted struct {
	MailboxID     string `json:"mailboxId"`
	TenantID      string `json:"tenantId"`
	GroupID       string `json:"groupId"`
	GroupTenantID string `json:"groupTenantId"`
}

// MailboxGroupRevoked: the group's grant was revoked.
type MailboxGroupRevoked struct {
	MailboxID     string `json:"mailboxId"`
	TenantID      string `json:"tenantId"`
	GroupID       string `json:"groupId"`
	GroupTenantID string `json:"groupTenantId"`
}

// MailboxRestrictionChanged: the mailbox is now restricted or open (R11).
// It is recorded with the first grant, by setMailboxRestricted, and with
// any revocation on a mailbox whose log has none yet; from then on grants
// no longer decide whether the mailbox is restricted: it stays restricted,
// usable by nobody if need be, until opened. Opening revoked the grants
// listed here (their user and group streams get mirror events). A mailbox
// whose log has no such event keeps the earlier rule: restricted while it
// has a grant.
type MailboxRestrictionChanged struct {
	MailboxID     string   `json:"mailboxId"`
	TenantID      string   `json:"tenantId"`
	Restricted    bool     `json:"restricted"`
	RevokedUsers  []string `json:"revokedUsers,omitempty"`
	RevokedGroups []string `json:"revokedGroups,omitempty"`
}

// MailboxRemoved: the mailbox was removed; its history stays.
type MailboxRemoved struct {
	MailboxID string `json:"mailboxId"`
	TenantID  string `json:"tenantId"`
}

func (MailboxAdded) EventName() string              { return "MailboxAdded.v1" }
func (MailboxUpdated) EventName() string            { return "MailboxUpdated.v1" }
func (MailboxSettingsConfigured) EventName() string { return "MailboxSettingsConfigured.v1" }
func (MailboxSettingsRemoved) EventName() string    { return "MailboxSettingsRemoved.v1" }
func (MailboxGlobalChanged) EventName() string      { return "MailboxGlobalChanged.v1" }
func (MailboxUserGranted) EventName() string        { return "MailboxUserGranted.v1" }
func (MailboxUserRevoked) EventName() string        { return "MailboxUserRevoked.v1" }
func (MailboxGroupGranted) EventName() string       { return "MailboxGroupGranted.v1" }
func (MailboxGroupRevoked) EventName() string       { return "MailboxGroupRevoked.v1" }
func (MailboxRemoved) EventName() string            { return "MailboxRemoved.v1" }
func (MailboxRestrictionChanged) EventName() string { return "MailboxRestrictionChanged.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{MailboxAdded{}, MailboxUpdated{}, MailboxSettingsConfigured{},
		MailboxSettingsRemoved{}, MailboxGlobalChanged{}, MailboxUserGranted{}, MailboxUserRevoked{},
		MailboxGroupGranted{}, MailboxGroupRevoked{}, MailboxRemoved{}, MailboxRestrictionChanged{}}
}
