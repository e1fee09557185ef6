package mailbox

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/user"
)

// UpdateMailbox mirrors updateMailbox: nil fields stay as they are.
type UpdateMailbox struct {
	DisplayName    *string
	Sender         *bool
	ReplyTo        *bool
	Global         *bool
	Settings       *domain.ServerSettingsInput
	RemoveSettings bool
}

// Update changes display name, flags, global and own settings in one step.
// Changing global needs a system administrator (FORBIDDEN, R12); clearing
// it revokes the grants to users and groups of other tenants in the same
// step (MailboxGlobalChanged lists them; the user and group streams get
// their mirror events). INVALID_INPUT in schema order: displayName, the
// settings' fields (R4; an omitted secret keeps the stored one),
// removeSettings.
func Update(mb *State, actor domain.Actor, cmd UpdateMailbox) (domain.Changes, error) {
	if err := mb.mustExist(); err != nil {
		return nil, err
	}
	globalChanges := cmd.Global != nil && *cmd.Global != mb.global
	if globalChanges && !actor.IsSystemAdmin() {
		return nil, domain.Forbidden("only a system administrator sets or clears global")
	}
	updated := MailboxUpdated{MailboxID: mb.id, TenantID: mb.tenantID, DisplayName: mb.displayName, Sender: mb.sender, ReplyTo: mb.replyTo}
	if cmd.DisplayName != nil {
		name, err := validDisplayName(*cmd.DisplayName)
		if err != nil {
			return nil, err
		}
		updated.DisplayName = name
	}
	if cmd.Sender != nil {
		updated.Sender = *cmd.Sender
	}
	if cmd.ReplyTo != nil {
		updated.ReplyTo = *cmd.ReplyTo
	}
	var settings *domain.ServerSettings
	if cmd.Settings != nil {
		s, err := domain.NewServerSettings(*cmd.Settings, mb.settings)
		if err != nil {
			return nil, err
		}
		settings = &s
	}
	if cmd.Settings != nil && cmd.RemoveSettings {
		return nil, domain.InvalidInput("removeSettings", "give settings or removeSettings, not both")
	}

	var events []domain.Event
	var mirrors domain.Changes
	if updated.DisplayName != mb.displayName || updated.Sender != mb.sender || updated.ReplyTo != mb.replyTo {
		events = append(events, updated)
	}
	if globalChanges {
		changed := MailboxGlobalChanged{MailboxID: mb.id, TenantID: mb.tenantID, Global: *cmd.Global}
		if !*cmd.Global {
			for _, id := range mb.GrantedUserIDs() {
				if t := mb.users[id]; t != mb.tenantID {
					changed.RevokedUsers = append(changed.RevokedUsers, id)
					mirrors.Add(domain.StreamUser, id, user.UserMailboxRevoked{UserID: id, TenantID: t, MailboxID: mb.id})
				}
			}
			for _, id := range mb.GrantedGroupIDs() {
				if t := mb.groups[id]; t != mb.tenantID {
					changed.RevokedGroups = append(changed.RevokedGroups, id)
					mirrors.Add(domain.StreamGroup, id, group.GroupMailboxRevoked{GroupID: id, TenantID: t, MailboxID: mb.id})
				}
			}
		}
		if len(changed.RevokedUsers)+len(changed.RevokedGroups) > 0 {
			events = append(events, keepRestricted(mb)...) // R11: the mailbox stays restricted
		}
		events = append(events, changed)
	}
	switch {
	case settings != nil:
		events = append(events, MailboxSettingsConfigured{MailboxID: mb.id, TenantID: mb.tenantID, Settings: *settings})
	case cmd.RemoveSettings && mb.settings != nil:
		events = append(events, MailboxSettingsRemoved{MailboxID: mb.id, TenantID: mb.tenantID})
	}
	var ch domain.Changes
	ch.Add(domain.StreamMailbox, mb.id, events...)
	return append(ch, mirrors...), nil
}
