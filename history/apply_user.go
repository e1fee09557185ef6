package history

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/user"
)

// applyUser evolves the users (R18, R20).
func applyUser() []applier {
	return []applier{
		on(func(m *Model, _ int64, e user.UserCreated) {
			m.users[e.UserID] = &userState{id: e.UserID, tenantID: e.TenantID, loginName: e.LoginName, displayName: e.DisplayName,
				email: e.Email, emailKey: e.EmailKey, role: e.Role}
		}),
		on(func(m *Model, _ int64, e user.UserUpdated) {
			if u := m.users[e.UserID]; u != nil {
				if e.DisplayName != nil {
					u.displayName = *e.DisplayName
				}
				if e.Email != nil {
					u.email, u.emailKey = *e.Email, domain.AddressKey(*e.Email)
					if e.EmailKey != nil {
						u.emailKey = *e.EmailKey
					}
				}
				if e.Role != nil {
					u.role = *e.Role
				}
			}
		}),
		on(func(m *Model, _ int64, e user.UserBlockedChanged) {
			if u := m.users[e.UserID]; u != nil {
				u.blocked = e.Blocked
			}
		}),
		on(func(m *Model, _ int64, e user.UserDeleted) {
			delete(m.users, e.UserID)
			for g := range m.userGroups[e.UserID] {
				delete(m.groups[g], e.UserID)
			}
			delete(m.userGroups, e.UserID)
			for _, mb := range m.mailboxes {
				delete(mb.users, e.UserID)
			}
		}),
	}
}
