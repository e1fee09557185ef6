package tenant

import "github.com/absender/absender/domain"

// DuplicatePolicy decides how a user's own address and an equal mailbox
// address are listed (R15).
type DuplicatePolicy struct{ s string }

// The duplicate policies.
var (
	PreferUser    = DuplicatePolicy{"PREFER_USER"}
	ShowBoth      = DuplicatePolicy{"SHOW_BOTH"}
	PreferMailbox = DuplicatePolicy{"PREFER_MAILBOX"}
)

// ParseDuplicatePolicy parses the GraphQL enum name.
func ParseDuplicatePolicy(s string) (DuplicatePolicy, error) {
	for _, p := range []DuplicatePolicy{PreferUser, ShowBoth, PreferMailbox} {
		if p.s == s {
			return p, nil
		}
	}
	return DuplicatePolicy{}, domain.InvalidInput("duplicatePolicy", "unknown duplicate policy "+s)
}

func (p DuplicatePolicy) String() string { return p.s }

// IsZero reports whether p is the zero value.
func (p DuplicatePolicy) IsZero() bool { return p.s == "" }

// MarshalText encodes the enum name.
func (p DuplicatePolicy) MarshalText() ([]byte, error) { return []byte(p.s), nil }

// UnmarshalText decodes an enum name; the empty string is the zero value.
func (p *DuplicatePolicy) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = DuplicatePolicy{}
		return nil
	}
	v, err := ParseDuplicatePolicy(string(b))
	*p = v
	return err
}

// Policy is what system administrators set per tenant.
type Policy struct {
	AllowSystemServer   bool            `json:"allowSystemServer"`
	AllowOwnServer      bool            `json:"allowOwnServer"`
	MailboxQuota        int             `json:"mailboxQuota"`
	UserAddressAsSender bool            `json:"userAddressAsSender"`
	DuplicatePolicy     DuplicatePolicy `json:"duplicatePolicy"`
	BulkLimitLifted     bool            `json:"bulkLimitLifted"`
}

// DefaultPolicy is the policy of a new tenant: R3 (both servers allowed),
// R10 (quota 1), R13 (userAddressAsSender off), R15 (PREFER_USER), R30
// (bulk limit in force).
func DefaultPolicy() Policy {
	return Policy{
		AllowSystemServer: true,
		AllowOwnServer:    true,
		MailboxQuota:      1,
		DuplicatePolicy:   PreferUser,
	}
}

// PolicyChange mirrors setTenantPolicy: nil fields stay as they are.
type PolicyChange struct {
	AllowSystemServer   *bool
	AllowOwnServer      *bool
	MailboxQuota        *int
	UserAddressAsSender *bool
	DuplicatePolicy     *DuplicatePolicy
}

// ChangePolicy changes the policy (R3, R10, R15). Only a system
// administrator may (FORBIDDEN otherwise); the quota must be ≥ 0
// (INVALID_INPUT, field mailboxQuota). A quota below the current number of
// mailboxes is accepted: existing mailboxes stay, new ones are refused.
func (s *State) ChangePolicy(actor domain.Actor, c PolicyChange) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if !actor.IsSystemAdmin() {
		return nil, domain.Forbidden("only a system administrator changes a tenant policy")
	}
	p := s.policy
	if c.AllowSystemServer != nil {
		p.AllowSystemServer = *c.AllowSystemServer
	}
	if c.AllowOwnServer != nil {
		p.AllowOwnServer = *c.AllowOwnServer
	}
	if c.MailboxQuota != nil {
		if *c.MailboxQuota < 0 {
			return nil, domain.InvalidInput("mailboxQuota", "mailboxQuota must not be negative")
		}
		p.MailboxQuota = *c.MailboxQuota
	}
	if c.UserAddressAsSender != nil {
		p.UserAddressAsSender = *c.UserAddressAsSender
	}
	if c.DuplicatePolicy != nil {
		if c.DuplicatePolicy.IsZero() {
			return nil, domain.InvalidInput("duplicatePolicy", "duplicatePolicy is invalid")
		}
		p.DuplicatePolicy = *c.DuplicatePolicy
	}
	return s.policyEvents(p)
}

// SetBulkLimitLifted lifts or restores the R30 bulk creation limit; only a
// system administrator may.
func (s *State) SetBulkLimitLifted(actor domain.Actor, lifted bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if !actor.IsSystemAdmin() {
		return nil, domain.Forbidden("only a system administrator lifts the bulk limit")
	}
	p := s.policy
	p.BulkLimitLifted = lifted
	return s.policyEvents(p)
}

func (s *State) policyEvents(p Policy) ([]domain.Event, error) {
	if p == s.policy {
		return nil, nil
	}
	return []domain.Event{TenantPolicyChanged{TenantID: s.id, Policy: p}}, nil
}
