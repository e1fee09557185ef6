package tenant

import "github.com/absender/absender/domain"

// TenantCreated: a tenant was created with its initial policy.
type TenantCreated struct {
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
	Policy   Policy `json:"policy"`
}

// TenantPolicyChanged: the tenant's policy is now Policy (the whole policy).
type TenantPolicyChanged struct {
	TenantID string `json:"tenantId"`
	Policy   Policy `json:"policy"`
}

// TenantServerConfigured: the tenant mail server settings were stored.
type TenantServerConfigured struct {
	TenantID string                `json:"tenantId"`
	Settings domain.ServerSettings `json:"settings"`
}

// TenantServerRemoved: the tenant mail server settings were removed.
type TenantServerRemoved struct {
	TenantID string `json:"tenantId"`
}

// TenantSupportAddressSet: the tenant's own support address; "" clears it.
type TenantSupportAddressSet struct {
	TenantID string `json:"tenantId"`
	Address  string `json:"address,omitempty"`
}

// TenantMailboxRegistered: a mailbox with this address now belongs to the tenant (R9, R10).
type TenantMailboxRegistered struct {
	TenantID   string `json:"tenantId"`
	MailboxID  string `json:"mailboxId"`
	Address    string `json:"address"`
	AddressKey string `json:"addressKey"`
}

// TenantMailboxUnregistered: the mailbox was removed from the tenant.
type TenantMailboxUnregistered struct {
	TenantID  string `json:"tenantId"`
	MailboxID string `json:"mailboxId"`
}

func (TenantCreated) EventName() string             { return "TenantCreated.v1" }
func (TenantPolicyChanged) EventName() string       { return "TenantPolicyChanged.v1" }
func (TenantServerConfigured) EventName() string    { return "TenantServerConfigured.v1" }
func (TenantServerRemoved) EventName() string       { return "TenantServerRemoved.v1" }
func (TenantSupportAddressSet) EventName() string   { return "TenantSupportAddressSet.v1" }
func (TenantMailboxRegistered) EventName() string   { return "TenantMailboxRegistered.v1" }
func (TenantMailboxUnregistered) EventName() string { return "TenantMailboxUnregistered.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{TenantCreated{}, TenantPolicyChanged{}, TenantServerConfigured{},
		TenantServerRemoved{}, TenantSupportAddressSet{}, TenantMailboxRegistered{}, TenantMailboxUnregistered{}}
}
