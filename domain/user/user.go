// Package user is the user aggregate (R18, R20): a backend user of one
// tenant with a tenant role. Besides its own facts, the user stream mirrors
// the user's references — group memberships and mailbox grants — so that
// deleting a user can revoke all of them in one append whose expected
// versions cover every stream involved (see domain/directory).
//
// Commands on a user that does not exist or was deleted are NOT_FOUND.
// Commands that change nothing return no events and no error.
package user

import (
	"github.com/absender/absender/domain"
)

// State is a user, rebuilt from its events.
type State struct {
	id          string
	tenantID    string
	loginName   string
	displayName string
	email       string
	emailKey    string
	role        domain.Role
	blocked     bool
	created     bool
	deleted     bool
	groups      map[string]bool
	mailboxes   map[string]bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case UserCreated:
		*s = State{id: e.UserID, tenantID: e.TenantID, loginName: e.LoginName, displayName: e.DisplayName,
			email: e.Email, emailKey: e.EmailKey, role: e.Role, created: true,
			groups: map[string]bool{}, mailboxes: map[string]bool{}}
	case UserUpdated:
		if e.DisplayName != nil {
			s.displayName = *e.DisplayName
		}
		if e.Email != nil {
			s.email = *e.Email
		}
		if e.EmailKey != nil {
			s.emailKey = *e.EmailKey
		}
		if e.Role != nil {
			s.role = *e.Role
		}
	case UserBlockedChanged:
		s.blocked = e.Blocked
	case UserDeleted:
		s.deleted = true
	case UserJoinedGroup:
		s.groups[e.GroupID] = true
	case UserLeftGroup:
		delete(s.groups, e.GroupID)
	case UserMailboxGranted:
		s.mailboxes[e.MailboxID] = true
	case UserMailboxRevoked:
		delete(s.mailboxes, e.MailboxID)
	}
}

// Exists reports whether the user was created and not deleted.
func (s *State) Exists() bool { return s.created && !s.deleted }

// Deleted reports whether the user was deleted.
func (s *State) Deleted() bool { return s.deleted }

// ID is the user id.
func (s *State) ID() string { return s.id }

// TenantID is the user's tenant.
func (s *State) TenantID() string { return s.tenantID }

// LoginName is the login name as entered.
func (s *State) LoginName() string { return s.loginName }

// DisplayName is the display name.
func (s *State) DisplayName() string { return s.displayName }

// Email is the user's address (display form).
func (s *State) Email() string { return s.email }

// EmailKey is the comparison key of the user's address.
func (s *State) EmailKey() string { return s.emailKey }

// Role is the user's tenant role.
func (s *State) Role() domain.Role { return s.role }

// Blocked reports R20's blocked flag.
func (s *State) Blocked() bool { return s.blocked }

// InGroup reports whether the user is a member of the group.
func (s *State) InGroup(groupID string) bool { return s.groups[groupID] }

// HasMailboxGrant reports whether the mailbox is granted to the user directly.
func (s *State) HasMailboxGrant(mailboxID string) bool { return s.mailboxes[mailboxID] }

// GroupIDs lists the user's groups (unordered).
func (s *State) GroupIDs() []string { return keys(s.groups) }

// MailboxIDs lists the mailboxes granted to the user directly (unordered).
func (s *State) MailboxIDs() []string { return keys(s.mailboxes) }

// Subject describes the user for token issuance rules (R21).
func (s *State) Subject() domain.Actor {
	return domain.Actor{UserID: s.id, TenantID: s.tenantID, Role: s.role}
}

func (s *State) mustExist() error {
	if !s.Exists() {
		return domain.NotFound("user")
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
