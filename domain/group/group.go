// Package group is the group aggregate (R18): a named set of users of one
// tenant. The group stream mirrors the mailboxes granted to the group so
// that deleting a group revokes them in one append (domain/directory).
//
// Decisions where the SPEC is silent: group names need not be unique; a
// user of another tenant is NOT_FOUND from the group's point of view (R19:
// another tenant's objects do not exist for the caller); adding a member
// twice or removing a non-member changes nothing.
package group

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/user"
)

// State is a group, rebuilt from its events.
type State struct {
	id        string
	tenantID  string
	name      string
	created   bool
	deleted   bool
	members   map[string]bool
	mailboxes map[string]bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case GroupCreated:
		*s = State{id: e.GroupID, tenantID: e.TenantID, name: e.Name, created: true,
			members: map[string]bool{}, mailboxes: map[string]bool{}}
	case GroupDeleted:
		s.deleted = true
	case GroupMemberAdded:
		s.members[e.UserID] = true
	case GroupMemberRemoved:
		delete(s.members, e.UserID)
	case GroupMailboxGranted:
		s.mailboxes[e.MailboxID] = true
	case GroupMailboxRevoked:
		delete(s.mailboxes, e.MailboxID)
	}
}

// Exists reports whether the group was created and not deleted.
func (s *State) Exists() bool { return s.created && !s.deleted }

// ID is the group id.
func (s *State) ID() string { return s.id }

// TenantID is the group's tenant.
func (s *State) TenantID() string { return s.tenantID }

// Name is the group name.
func (s *State) Name() string { return s.name }

// HasMember reports whether the user is a member.
func (s *State) HasMember(userID string) bool { return s.members[userID] }

// HasMailboxGrant reports whether the mailbox is granted to the group.
func (s *State) HasMailboxGrant(mailboxID string) bool { return s.mailboxes[mailboxID] }

// MemberIDs lists the members (unordered).
func (s *State) MemberIDs() []string { return keys(s.members) }

// MailboxIDs lists the mailboxes granted to the group (unordered).
func (s *State) MailboxIDs() []string { return keys(s.mailboxes) }

func (s *State) mustExist() error {
	if !s.Exists() {
		return domain.NotFound("group")
	}
	return nil
}

// Create creates the group; the name is a domain.NewName (R34;
// INVALID_INPUT, field name).
func (s *State) Create(groupID, tenantID, name string) ([]domain.Event, error) {
	if s.created {
		return nil, domain.AlreadyExists("groupId", "group exists")
	}
	name, err := domain.NewName("name", name)
	if err != nil {
		return nil, err
	}
	return []domain.Event{GroupCreated{GroupID: groupID, TenantID: tenantID, Name: name}}, nil
}

// AddMember adds u to g (R18): both must exist and be of the same tenant (a
// user of another tenant is NOT_FOUND). It returns the events of both streams.
func AddMember(g *State, u *user.State) (groupEvents, userEvents []domain.Event, err error) {
	if err := checkPair(g, u); err != nil {
		return nil, nil, err
	}
	if g.members[u.ID()] {
		return nil, nil, nil
	}
	return []domain.Event{GroupMemberAdded{GroupID: g.id, TenantID: g.tenantID, UserID: u.ID()}},
		[]domain.Event{user.UserJoinedGroup{UserID: u.ID(), TenantID: u.TenantID(), GroupID: g.id}}, nil
}

// RemoveMember removes u from g; it changes nothing when u is no member.
func RemoveMember(g *State, u *user.State) (groupEvents, userEvents []domain.Event, err error) {
	if err := checkPair(g, u); err != nil {
		return nil, nil, err
	}
	if !g.members[u.ID()] {
		return nil, nil, nil
	}
	groupEvents, userEvents = MemberRemoval(g, u.ID(), u.TenantID())
	return groupEvents, userEvents, nil
}

// MemberRemoval returns the events that take user userID out of g on both
// streams, without checks; directory.DeleteUser uses it.
func MemberRemoval(g *State, userID, userTenantID string) (groupEvents, userEvents []domain.Event) {
	return []domain.Event{GroupMemberRemoved{GroupID: g.id, TenantID: g.tenantID, UserID: userID}},
		[]domain.Event{user.UserLeftGroup{UserID: userID, TenantID: userTenantID, GroupID: g.id}}
}

func checkPair(g *State, u *user.State) error {
	if err := g.mustExist(); err != nil {
		return err
	}
	if !u.Exists() || u.TenantID() != g.tenantID {
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
