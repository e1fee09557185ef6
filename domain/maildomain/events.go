package maildomain

import "github.com/absender/absender/domain"

// MailDomainAdded: a tenant added a mail domain (R26), not yet verified;
// the owner publishes "absender-verification=<token>" as a DNS TXT record.
type MailDomainAdded struct {
	DomainID          string `json:"domainId"`
	TenantID          string `json:"tenantId"`
	Name              string `json:"name"`      // lower-case Unicode form
	ASCIIName         string `json:"asciiName"` // lower-case punycode, the key of system-wide uniqueness
	VerificationToken string `json:"verificationToken"`
}

// MailDomainVerified: the domain receives mail from now on (R26); Method
// is "dns" (the TXT record was found) or "administrator".
type MailDomainVerified struct {
	DomainID string `json:"domainId"`
	TenantID string `json:"tenantId"`
	Method   string `json:"method"`
}

// MailDomainUnverified: a system administrator withdrew the verification;
// the domain's addresses answer with a temporary failure again.
type MailDomainUnverified struct {
	DomainID string `json:"domainId"`
	TenantID string `json:"tenantId"`
}

// MailDomainQuotaSet: the address quota (R26); nil is unlimited.
type MailDomainQuotaSet struct {
	DomainID string `json:"domainId"`
	TenantID string `json:"tenantId"`
	Quota    *int   `json:"quota"`
}

// MailDomainMaintenanceSet: maintenance switched on or off (R32).
type MailDomainMaintenanceSet struct {
	DomainID    string `json:"domainId"`
	TenantID    string `json:"tenantId"`
	Maintenance bool   `json:"maintenance"`
}

// MailDomainCatchAllSet: the catch-all target (R28); empty: none.
type MailDomainCatchAllSet struct {
	DomainID  string `json:"domainId"`
	TenantID  string `json:"tenantId"`
	Target    string `json:"target"`    // display form
	TargetKey string `json:"targetKey"` // comparison key (domain.Address.Key)
}

// MailDomainRemoved: the domain was removed; its history stays.
type MailDomainRemoved struct {
	DomainID string `json:"domainId"`
	TenantID string `json:"tenantId"`
}

func (MailDomainAdded) EventName() string          { return "MailDomainAdded.v1" }
func (MailDomainVerified) EventName() string       { return "MailDomainVerified.v1" }
func (MailDomainUnverified) EventName() string     { return "MailDomainUnverified.v1" }
func (MailDomainQuotaSet) EventName() string       { return "MailDomainQuotaSet.v1" }
func (MailDomainMaintenanceSet) EventName() string { return "MailDomainMaintenanceSet.v1" }
func (MailDomainCatchAllSet) EventName() string    { return "MailDomainCatchAllSet.v1" }
func (MailDomainRemoved) EventName() string        { return "MailDomainRemoved.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{MailDomainAdded{}, MailDomainVerified{}, MailDomainUnverified{}, MailDomainQuotaSet{},
		MailDomainMaintenanceSet{}, MailDomainCatchAllSet{}, MailDomainRemoved{}}
}
