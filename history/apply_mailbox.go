package history

import (
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/options"
)

// applyMailbox evolves the mailboxes and their grants (R9, R11, R12).
func applyMailbox() []applier {
	return []applier{
		on(func(m *Model, position int64, e mailbox.MailboxAdded) {
			m.mailboxes[e.MailboxID] = &mailboxState{c: options.Candidate{MailboxID: e.MailboxID, TenantID: e.TenantID, Address: e.Address,
				AddressKey: e.AddressKey, DisplayName: e.DisplayName, Sender: e.Sender, ReplyTo: e.ReplyTo, Global: e.Global,
				Authenticated: e.Settings != nil, Seq: position}, users: map[string]bool{}, groups: map[string]bool{}}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxUpdated) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				mb.c.DisplayName, mb.c.Sender, mb.c.ReplyTo = e.DisplayName, e.Sender, e.ReplyTo
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxSettingsConfigured) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				mb.c.Authenticated = true
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxSettingsRemoved) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				mb.c.Authenticated = false
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxGlobalChanged) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				mb.c.Global = e.Global
				mb.revoke(e.RevokedUsers, e.RevokedGroups)
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxRestrictionChanged) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				restricted := e.Restricted
				mb.restricted = &restricted
				mb.revoke(e.RevokedUsers, e.RevokedGroups)
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxUserGranted) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				mb.users[e.UserID] = true
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxUserRevoked) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				delete(mb.users, e.UserID)
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxGroupGranted) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				mb.groups[e.GroupID] = true
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxGroupRevoked) {
			if mb := m.mailboxes[e.MailboxID]; mb != nil {
				delete(mb.groups, e.GroupID)
			}
		}),
		on(func(m *Model, _ int64, e mailbox.MailboxRemoved) {
			delete(m.mailboxes, e.MailboxID)
		}),
	}
}

// revoke drops the grants one event lists (clearing global, opening a
// restricted mailbox).
func (mb *mailboxState) revoke(users, groups []string) {
	for _, u := range users {
		delete(mb.users, u)
	}
	for _, g := range groups {
		delete(mb.groups, g)
	}
}
