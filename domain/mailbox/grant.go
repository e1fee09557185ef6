package mailbox

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/user"
)

// GrantUser grants mb to u (R11, R12). A user of another tenant is
// NOT_FOUND unless mb is global, and then needs a system administrator
// (FORBIDDEN). It returns the events of the mailbox and the user stream.
func GrantUser(mb *State, u *user.State, actor domain.Actor) (mailboxEvents, userEvents []domain.Event, err error) {
	if err := checkGrantee(mb, u.Exists(), "user", u.TenantID(), actor); err != nil {
		return nil, nil, err
	}
	if mb.HasUserGrant(u.ID()) {
		return nil, nil, nil
	}
	return append(restrictOnGrant(mb), MailboxUserGranted{MailboxID: mb.id, TenantID: mb.tenantID, UserID: u.ID(), UserTenantID: u.TenantID()}),
		[]domain.Event{user.UserMailboxGranted{UserID: u.ID(), TenantID: u.TenantID(), MailboxID: mb.id}}, nil
}

// RevokeUser revokes u's grant on mb, with the same checks as GrantUser.
// Revoking the last grant leaves the mailbox restricted, usable by nobody
// (R11: fail closed; only SetRestricted opens it).
func RevokeUser(mb *State, u *user.State, actor domain.Actor) (mailboxEvents, userEvents []domain.Event, err error) {
	if err := checkGrantee(mb, u.Exists(), "user", u.TenantID(), actor); err != nil {
		return nil, nil, err
	}
	if !mb.HasUserGrant(u.ID()) {
		return nil, nil, nil
	}
	mailboxEvents, userEvents = UserRevocation(mb, u.ID())
	return mailboxEvents, userEvents, nil
}

// GrantGroup grants mb to g, with the rules of GrantUser.
func GrantGroup(mb *State, g *group.State, actor domain.Actor) (mailboxEvents, groupEvents []domain.Event, err error) {
	if err := checkGrantee(mb, g.Exists(), "group", g.TenantID(), actor); err != nil {
		return nil, nil, err
	}
	if mb.HasGroupGrant(g.ID()) {
		return nil, nil, nil
	}
	return append(restrictOnGrant(mb), MailboxGroupGranted{MailboxID: mb.id, TenantID: mb.tenantID, GroupID: g.ID(), GroupTenantID: g.TenantID()}),
		[]domain.Event{group.GroupMailboxGranted{GroupID: g.ID(), TenantID: g.TenantID(), MailboxID: mb.id}}, nil
}

// RevokeGroup revokes g's grant on mb, with the rules of GrantUser.
func RevokeGroup(mb *State, g *group.State, actor domain.Actor) (mailboxEvents, groupEvents []domain.Event, err error) {
	if err := checkGrantee(mb, g.Exists(), "group", g.TenantID(), actor); err != nil {
		return nil, nil, err
	}
	if !mb.HasGroupGrant(g.ID()) {
		return nil, nil, nil
	}
	mailboxEvents, groupEvents = GroupRevocation(mb, g.ID())
	return mailboxEvents, groupEvents, nil
}

// UserRevocation returns the events revoking userID's grant on mb on both
// streams, without checks (nil when not granted); deletions use it. The
// mailbox stays restricted (R11).
func UserRevocation(mb *State, userID string) (mailboxEvents, userEvents []domain.Event) {
	t, ok := mb.users[userID]
	if !ok || !mb.Exists() {
		return nil, nil
	}
	return append(keepRestricted(mb), MailboxUserRevoked{MailboxID: mb.id, TenantID: mb.tenantID, UserID: userID, UserTenantID: t}),
		[]domain.Event{user.UserMailboxRevoked{UserID: userID, TenantID: t, MailboxID: mb.id}}
}

// GroupRevocation returns the events revoking groupID's grant on mb on
// both streams, without checks (nil when not granted); deletions use it.
// The mailbox stays restricted (R11).
func GroupRevocation(mb *State, groupID string) (mailboxEvents, groupEvents []domain.Event) {
	t, ok := mb.groups[groupID]
	if !ok || !mb.Exists() {
		return nil, nil
	}
	return append(keepRestricted(mb), MailboxGroupRevoked{MailboxID: mb.id, TenantID: mb.tenantID, GroupID: groupID, GroupTenantID: t}),
		[]domain.Event{group.GroupMailboxRevoked{GroupID: groupID, TenantID: t, MailboxID: mb.id}}
}

// checkGrantee is the one place of R12's cross-tenant rule for grants.
func checkGrantee(mb *State, exists bool, what, granteeTenant string, actor domain.Actor) error {
	if err := mb.mustExist(); err != nil {
		return err
	}
	if !exists {
		return domain.NotFound(what)
	}
	if granteeTenant == mb.tenantID {
		return nil
	}
	if !mb.global {
		return domain.NotFound(what)
	}
	if !actor.IsSystemAdmin() {
		// R12: only a system administrator grants across tenants. For a
		// tenant user the grantee is another tenant's object, so R19's
		// precedence makes it NOT_FOUND (existence must not leak).
		if actor.Role.IsTenantRole() {
			return domain.NotFound(what)
		}
		return domain.Forbidden("only a system administrator grants a global mailbox across tenants")
	}
	return nil
}
