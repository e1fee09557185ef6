package mailbox

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/user"
)

// SetRestricted mirrors setMailboxRestricted (R11). Restricting a mailbox
// without grants makes it usable by nobody until granted. Opening it is
// the only way a restricted mailbox opens: it revokes every remaining
// grant in the same step (the user and group streams get their mirror
// events). Revoking grants of users or groups of other tenants (a global
// mailbox, R12) needs a system administrator (FORBIDDEN). Setting the
// current value records nothing.
func SetRestricted(mb *State, actor domain.Actor, restricted bool) (domain.Changes, error) {
	if err := mb.mustExist(); err != nil {
		return nil, err
	}
	if restricted == mb.Restricted() && (mb.restricted != nil || !restricted) {
		return nil, nil
	}
	changed := MailboxRestrictionChanged{MailboxID: mb.id, TenantID: mb.tenantID, Restricted: restricted}
	var mirrors domain.Changes
	if !restricted {
		for _, id := range mb.GrantedUserIDs() {
			t := mb.users[id]
			if t != mb.tenantID && !actor.IsSystemAdmin() {
				return nil, domain.Forbidden("only a system administrator revokes the grants of other tenants (R12)")
			}
			changed.RevokedUsers = append(changed.RevokedUsers, id)
			mirrors.Add(domain.StreamUser, id, user.UserMailboxRevoked{UserID: id, TenantID: t, MailboxID: mb.id})
		}
		for _, id := range mb.GrantedGroupIDs() {
			t := mb.groups[id]
			if t != mb.tenantID && !actor.IsSystemAdmin() {
				return nil, domain.Forbidden("only a system administrator revokes the grants of other tenants (R12)")
			}
			changed.RevokedGroups = append(changed.RevokedGroups, id)
			mirrors.Add(domain.StreamGroup, id, group.GroupMailboxRevoked{GroupID: id, TenantID: t, MailboxID: mb.id})
		}
	}
	var ch domain.Changes
	ch.Add(domain.StreamMailbox, mb.id, changed)
	return append(ch, mirrors...), nil
}

// restrictOnGrant is R11's "restricted from its first grant on": a grant
// to a mailbox that is not restricted under the new rule restricts it,
// recorded before the grant so access never widens in between.
func restrictOnGrant(mb *State) []domain.Event {
	if mb.restricted != nil && *mb.restricted {
		return nil
	}
	return []domain.Event{MailboxRestrictionChanged{MailboxID: mb.id, TenantID: mb.tenantID, Restricted: true}}
}

// keepRestricted keeps a mailbox restricted under the earlier rule (no
// MailboxRestrictionChanged in its log, restricted by its grants) when a
// grant is revoked: recorded before the revocation, so revoking its last
// grant no longer opens it (R11, fail closed).
func keepRestricted(mb *State) []domain.Event {
	if mb.restricted != nil || !mb.Restricted() {
		return nil
	}
	return []domain.Event{MailboxRestrictionChanged{MailboxID: mb.id, TenantID: mb.tenantID, Restricted: true}}
}
