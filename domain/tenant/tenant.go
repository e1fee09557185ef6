// Package tenant is the tenant aggregate: name, policy (R3, R10, R15),
// optional tenant mail server (R3, R4), support address (R7) and the set of
// the tenant's mailboxes with their address keys (R9, R10).
//
// # Why R9 and R10 are race-free
//
// Adding a mailbox appends TenantMailboxRegistered to the tenant stream in
// the same transaction as MailboxAdded to the new mailbox stream, with the
// tenant stream's expected version. Every registration therefore changes the
// tenant stream's version: of two concurrent addMailbox commands on one
// tenant exactly one appends; the other fails with a version conflict,
// reloads the tenant (now holding the first mailbox) and decides again — so
// it sees a duplicate address (ALREADY_EXISTS) or the full quota
// (QUOTA_EXCEEDED) and neither rule can be bypassed by a race.
//
// Decisions where the SPEC is silent: a quota below the current number of
// mailboxes is accepted (existing mailboxes stay; adding more is refused);
// a tenant may always clear its support address, setting one needs the
// system's allowTenantAddress; removing a tenant server that does not exist
// and other commands that change nothing return no events and no error.
package tenant

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/system"
)

// State is a tenant, rebuilt from its events.
type State struct {
	id             string
	name           string
	created        bool
	policy         Policy
	server         *domain.ServerSettings
	supportAddress string
	mailboxes      map[string]string // mailbox id → address key
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case TenantCreated:
		s.id, s.name, s.created, s.policy = e.TenantID, e.Name, true, e.Policy
		s.mailboxes = map[string]string{}
	case TenantPolicyChanged:
		s.policy = e.Policy
	case TenantServerConfigured:
		settings := e.Settings
		s.server = &settings
	case TenantServerRemoved:
		s.server = nil
	case TenantSupportAddressSet:
		s.supportAddress = e.Address
	case TenantMailboxRegistered:
		if s.mailboxes == nil {
			s.mailboxes = map[string]string{}
		}
		s.mailboxes[e.MailboxID] = e.AddressKey
	case TenantMailboxUnregistered:
		delete(s.mailboxes, e.MailboxID)
	}
}

// Exists reports whether the tenant was created.
func (s *State) Exists() bool { return s.created }

// ID is the tenant id.
func (s *State) ID() string { return s.id }

// Name is the tenant name.
func (s *State) Name() string { return s.name }

// Policy is the tenant policy.
func (s *State) Policy() Policy { return s.policy }

// Server returns the tenant server settings, ok=false when none are stored.
// A stored server may be ignored by policy (R3); see EffectiveTransport.
func (s *State) Server() (domain.ServerSettings, bool) {
	if s.server == nil {
		return domain.ServerSettings{}, false
	}
	return *s.server, true
}

// OwnSupportAddress is the tenant's own support address, "" when none.
func (s *State) OwnSupportAddress() string { return s.supportAddress }

// MailboxCount is the number of the tenant's mailboxes (R10).
func (s *State) MailboxCount() int { return len(s.mailboxes) }

// HasMailbox reports whether the mailbox belongs to the tenant.
func (s *State) HasMailbox(mailboxID string) bool {
	_, ok := s.mailboxes[mailboxID]
	return ok
}

// MailboxesWithKey returns the ids of the tenant's mailboxes whose address
// has one of the given keys (domain.AddressKey).
func (s *State) MailboxesWithKey(keys ...string) []string {
	var out []string
	for id, k := range s.mailboxes {
		for _, want := range keys {
			if k == want {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// EffectiveTransport resolves the tenant's transport (R1, R2, R3).
func (s *State) EffectiveTransport(sys system.Facts) domain.TransportKind {
	return ResolveTransport(sys, s.server != nil, s.policy)
}

// ResolveTransport is the one place of R1+R2+R3: without a configured and
// enabled system server nothing is sent (R1); a tenant server is used when
// the tenant has one and its policy allows own servers, else the system
// server when the policy allows it, else nothing (R2, R3).
func ResolveTransport(sys system.Facts, hasOwnServer bool, p Policy) domain.TransportKind {
	switch {
	case !sys.Usable():
		return domain.TransportNone
	case hasOwnServer && p.AllowOwnServer:
		return domain.TransportTenantServer
	case p.AllowSystemServer:
		return domain.TransportSystemServer
	}
	return domain.TransportNone
}

// EffectiveSupportAddress is the support address a support request of the
// tenant goes to (R7): its own (OwnSupportAddress) when it has one and the
// system allows tenant addresses, else the system's. "" means none
// (support requests are then INVALID_INPUT, field supportAddress).
func EffectiveSupportAddress(own string, sys system.Support) string {
	if sys.AllowTenantAddress && own != "" {
		return own
	}
	return sys.Address
}

func (s *State) mustExist() error {
	if !s.created {
		return domain.NotFound("tenant")
	}
	return nil
}
