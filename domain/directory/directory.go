// Package directory holds the deletions of R18, which touch several
// aggregates: deleting a user or a group revokes its grants and
// memberships through events, in one append whose expected versions cover
// every stream involved, so a concurrent grant or membership change makes
// the deletion re-decide instead of leaving a dangling reference. (They
// cannot live in package user or group: mailbox imports both.)
//
// The caller loads the user or group and every stream its mirrors list
// (user.State.GroupIDs/MailboxIDs, group.State.MemberIDs/MailboxIDs) and
// appends each returned Change with the version it loaded. A referenced
// group or mailbox missing from the maps (or already gone) gets no events;
// the reference is still cleared on the deleted aggregate's own stream.
package directory

import (
	"sort"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/user"
)

// DeleteUser deletes u (R18): it leaves every group, loses every direct
// mailbox grant and releases its login name (claim is the login stream of
// login.StreamKey(u.LoginName())). A user that does not exist is NOT_FOUND.
func DeleteUser(u *user.State, claim *login.State, groups map[string]*group.State, mailboxes map[string]*mailbox.State) (domain.Changes, error) {
	if !u.Exists() {
		return nil, domain.NotFound("user")
	}
	var userEvents []domain.Event
	var ch domain.Changes
	for _, id := range sorted(u.GroupIDs()) {
		g, ok := groups[id]
		if !ok || !g.Exists() || !g.HasMember(u.ID()) {
			userEvents = append(userEvents, user.UserLeftGroup{UserID: u.ID(), TenantID: u.TenantID(), GroupID: id})
			continue
		}
		groupEvents, mirror := group.MemberRemoval(g, u.ID(), u.TenantID())
		ch.Add(domain.StreamGroup, id, groupEvents...)
		userEvents = append(userEvents, mirror...)
	}
	for _, id := range sorted(u.MailboxIDs()) {
		mb, ok := mailboxes[id]
		mailboxEvents, mirror := mailbox.UserRevocation(mbOrEmpty(mb, ok), u.ID())
		if len(mirror) == 0 {
			mirror = []domain.Event{user.UserMailboxRevoked{UserID: u.ID(), TenantID: u.TenantID(), MailboxID: id}}
		}
		ch.Add(domain.StreamMailbox, id, mailboxEvents...)
		userEvents = append(userEvents, mirror...)
	}
	userEvents = append(userEvents, user.UserDeleted{UserID: u.ID(), TenantID: u.TenantID()})
	loginEvents, err := claim.Release(u.ID())
	if err != nil {
		return nil, err
	}
	out := domain.Changes{}
	out.Add(domain.StreamUser, u.ID(), userEvents...)
	out.Add(domain.StreamLogin, login.StreamKey(u.LoginName()), loginEvents...)
	return append(out, ch...), nil
}

// DeleteGroup deletes g (R18): every member leaves it and every mailbox
// grant to it is revoked. Members are of the group's tenant (R18), so
// their mirror events need no user state.
func DeleteGroup(g *group.State, mailboxes map[string]*mailbox.State) (domain.Changes, error) {
	if !g.Exists() {
		return nil, domain.NotFound("group")
	}
	var groupEvents []domain.Event
	var ch domain.Changes
	for _, id := range sorted(g.MemberIDs()) {
		removal, mirror := group.MemberRemoval(g, id, g.TenantID())
		groupEvents = append(groupEvents, removal...)
		ch.Add(domain.StreamUser, id, mirror...)
	}
	for _, id := range sorted(g.MailboxIDs()) {
		mb, ok := mailboxes[id]
		mailboxEvents, mirror := mailbox.GroupRevocation(mbOrEmpty(mb, ok), g.ID())
		if len(mirror) == 0 {
			mirror = []domain.Event{group.GroupMailboxRevoked{GroupID: g.ID(), TenantID: g.TenantID(), MailboxID: id}}
		}
		ch.Add(domain.StreamMailbox, id, mailboxEvents...)
		groupEvents = append(groupEvents, mirror...)
	}
	groupEvents = append(groupEvents, group.GroupDeleted{GroupID: g.ID(), TenantID: g.TenantID()})
	out := domain.Changes{}
	out.Add(domain.StreamGroup, g.ID(), groupEvents...)
	return append(out, ch...), nil
}

func mbOrEmpty(mb *mailbox.State, ok bool) *mailbox.State {
	if !ok || mb == nil {
		return &mailbox.State{}
	}
	return mb
}

func sorted(ids []string) []string {
	sort.Strings(ids)
	return ids
}
