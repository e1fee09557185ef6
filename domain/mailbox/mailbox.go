// Package mailbox is the mailbox aggregate (R9, R11, R12, R16): an address
// of a tenant with flags, optional own server settings and grants to users
// and groups, plus the cross-aggregate commands that add, change and remove
// mailboxes (with the tenant stream, see package tenant for why R9/R10 are
// race-free) and grant or revoke access (with the user or group stream, whose
// mirror events let a deletion revoke everything in one append).
//
// Decisions where the SPEC is silent:
//   - A user or group of another tenant is NOT_FOUND for a non-global
//     mailbox (it does not exist from the mailbox's tenant's point of view);
//     for a global mailbox, granting or revoking it needs a system
//     administrator (FORBIDDEN otherwise, R12).
//   - Only a system administrator sets global, also when adding a mailbox
//     (FORBIDDEN); sending the current value changes nothing and is allowed.
//   - Granting twice or revoking what is not granted changes nothing.
//   - updateMailbox with both settings and removeSettings is INVALID_INPUT,
//     field removeSettings.
//   - setMailboxRestricted(id, false) on a global mailbox holding grants of
//     other tenants needs a system administrator (FORBIDDEN otherwise): it
//     revokes them, which R12 leaves to system administrators.
package mailbox

import (
	"sort"

	"github.com/absender/absender/domain"
)

// State is a mailbox, rebuilt from its events.
type State struct {
	id          string
	tenantID    string
	address     string
	addressKey  string
	displayName string
	sender      bool
	replyTo     bool
	global      bool
	settings    *domain.ServerSettings
	users       map[string]string // granted user id → the user's tenant
	groups      map[string]string // granted group id → the group's tenant
	restricted  *bool             // set by MailboxRestrictionChanged; nil: the earlier rule (R11)
	created     bool
	removed     bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case MailboxAdded:
		*s = State{id: e.MailboxID, tenantID: e.TenantID, address: e.Address, addressKey: e.AddressKey,
			displayName: e.DisplayName, sender: e.Sender, replyTo: e.ReplyTo, global: e.Global,
			users: map[string]string{}, groups: map[string]string{}, created: true}
		if e.Settings != nil {
			settings := *e.Settings
			s.settings = &settings
		}
	case MailboxUpdated:
		s.displayName, s.sender, s.replyTo = e.DisplayName, e.Sender, e.ReplyTo
	case MailboxSettingsConfigured:
		settings := e.Settings
		s.settings = &settings
	case MailboxSettingsRemoved:
		s.settings = nil
	case MailboxGlobalChanged:
		s.global = e.Global
		for _, id := range e.RevokedUsers {
			delete(s.users, id)
		}
		for _, id := range e.RevokedGroups {
			delete(s.groups, id)
		}
	case MailboxUserGranted:
		s.users[e.UserID] = e.UserTenantID
	case MailboxUserRevoked:
		delete(s.users, e.UserID)
	case MailboxGroupGranted:
		s.groups[e.GroupID] = e.GroupTenantID
	case MailboxGroupRevoked:
		delete(s.groups, e.GroupID)
	case MailboxRestrictionChanged:
		restricted := e.Restricted
		s.restricted = &restricted
		for _, id := range e.RevokedUsers {
			delete(s.users, id)
		}
		for _, id := range e.RevokedGroups {
			delete(s.groups, id)
		}
	case MailboxRemoved:
		s.removed = true
	}
}

// Exists reports whether the mailbox was added and not removed.
func (s *State) Exists() bool { return s.created && !s.removed }

// ID is the mailbox id.
func (s *State) ID() string { return s.id }

// TenantID is the owning tenant.
func (s *State) TenantID() string { return s.tenantID }

// Address is the address (display form).
func (s *State) Address() string { return s.address }

// AddressKey is the comparison key of the address.
func (s *State) AddressKey() string { return s.addressKey }

// DisplayName is the display name.
func (s *State) DisplayName() string { return s.displayName }

// Sender reports the sender flag (R13).
func (s *State) Sender() bool { return s.sender }

// ReplyTo reports the replyTo flag (R14).
func (s *State) ReplyTo() bool { return s.replyTo }

// Global reports the global flag (R12).
func (s *State) Global() bool { return s.global }

// Authenticated reports whether the mailbox has own server settings (R9, R16).
func (s *State) Authenticated() bool { return s.settings != nil }

// Settings returns the own server settings, ok=false when none.
func (s *State) Settings() (domain.ServerSettings, bool) {
	if s.settings == nil {
		return domain.ServerSettings{}, false
	}
	return *s.settings, true
}

// Restricted reports R11: a restricted mailbox is usable only by its
// grantees, also when they are blocked, deleted or revoked or the groups
// empty (by nobody if need be).
func (s *State) Restricted() bool { return IsRestricted(s.restricted, len(s.users)+len(s.groups)) }

// IsRestricted is R11's one rule, for every model that replays mailbox
// events: explicit is the value of the last MailboxRestrictionChanged
// (nil when the log has none), grants the number of grants. Under the
// new rule only the explicit value counts (fail closed); a log written
// before it keeps its meaning: restricted while it has a grant.
func IsRestricted(explicit *bool, grants int) bool {
	if explicit != nil {
		return *explicit
	}
	return grants > 0
}

// HasUserGrant reports whether the user is granted directly.
func (s *State) HasUserGrant(userID string) bool { _, ok := s.users[userID]; return ok }

// HasGroupGrant reports whether the group is granted.
func (s *State) HasGroupGrant(groupID string) bool { _, ok := s.groups[groupID]; return ok }

// GrantedUserIDs lists the granted users, sorted.
func (s *State) GrantedUserIDs() []string { return sortedKeys(s.users) }

// GrantedGroupIDs lists the granted groups, sorted.
func (s *State) GrantedGroupIDs() []string { return sortedKeys(s.groups) }

// UserGrantTenant is the tenant of a granted user, recorded at grant time.
func (s *State) UserGrantTenant(userID string) string { return s.users[userID] }

// GroupGrantTenant is the tenant of a granted group, recorded at grant time.
func (s *State) GroupGrantTenant(groupID string) string { return s.groups[groupID] }

func (s *State) mustExist() error {
	if !s.Exists() {
		return domain.NotFound("mailbox")
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
