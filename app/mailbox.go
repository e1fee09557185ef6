package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/user"
)

// AddMailboxInput is addMailbox's input; Settings present means an
// authenticated mailbox with its own server.
type AddMailboxInput struct {
	Address     string
	DisplayName string
	Sender      bool
	ReplyTo     bool
	Global      bool
	Settings    *ServerSettingsInput
}

// Mailboxes are the commands on a tenant's mailboxes: adding, changing
// and removing them, restricting them and granting them to users and
// groups.
type Mailboxes struct{ *core }

// Add adds a mailbox to a tenant and returns its id (addMailbox). The
// tenant stream registers the address in the same append, so R9 (unique
// address) and R10 (quota) hold under concurrent adds.
func (s Mailboxes) Add(ctx context.Context, tenantID string, in AddMailboxInput) (string, Result, error) {
	return commandWithID(ctx, s.core, "addMailbox", func(ctx context.Context) (string, Result, error) {
		id := s.newID()
		cmd := mailbox.AddMailbox{MailboxID: id, Address: in.Address, DisplayName: in.DisplayName, Sender: in.Sender, ReplyTo: in.ReplyTo, Global: in.Global}
		if in.Settings != nil {
			settings, err := s.settings(StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: id}), *in.Settings)
			if err != nil {
				return "", Result{}, err
			}
			cmd.Settings = &settings
		}
		res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var t tenant.State
			if err := a.load(ctx, domain.StreamTenant, tenantID, &t); err != nil {
				return nil, err
			}
			if err := a.touch(ctx, domain.StreamMailbox, id); err != nil {
				return nil, err
			}
			tenantEvents, mailboxEvents, err := mailbox.Add(&t, RequestFrom(ctx).Actor, cmd)
			if err != nil {
				return nil, err
			}
			var ch domain.Changes
			ch.Add(domain.StreamTenant, tenantID, tenantEvents...)
			ch.Add(domain.StreamMailbox, id, mailboxEvents...)
			return ch, nil
		})
		return id, res, err
	})
}

// UpdateMailboxInput is updateMailbox's input; nil keeps a value.
type UpdateMailboxInput struct {
	DisplayName    *string
	Sender         *bool
	ReplyTo        *bool
	Global         *bool
	Settings       *ServerSettingsInput
	RemoveSettings bool
}

// Update changes a mailbox's name, flags, global (R12) and settings
// (updateMailbox).
func (s Mailboxes) Update(ctx context.Context, mailboxID string, in UpdateMailboxInput) (Result, error) {
	return command(ctx, s.core, "updateMailbox", func(ctx context.Context) (Result, error) {
		cmd := mailbox.UpdateMailbox{DisplayName: in.DisplayName, Sender: in.Sender, ReplyTo: in.ReplyTo, Global: in.Global, RemoveSettings: in.RemoveSettings}
		if in.Settings != nil {
			settings, err := s.settings(StreamID(domain.StreamRef{Kind: domain.StreamMailbox, ID: mailboxID}), *in.Settings)
			if err != nil {
				return Result{}, err
			}
			cmd.Settings = &settings
		}
		return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var mb mailbox.State
			if err := a.load(ctx, domain.StreamMailbox, mailboxID, &mb); err != nil {
				return nil, err
			}
			changes, err := mailbox.Update(&mb, RequestFrom(ctx).Actor, cmd)
			if err != nil {
				return nil, err
			}
			// Clearing global revokes foreign grants on their streams too.
			return changes, a.loadMissing(ctx, changes)
		})
	})
}

// Remove removes a mailbox (removeMailbox); the tenant forgets its
// address and the grantees' streams record the revocation.
func (s Mailboxes) Remove(ctx context.Context, mailboxID string) (Result, error) {
	return command(ctx, s.core, "removeMailbox", func(ctx context.Context) (Result, error) {
		return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var mb mailbox.State
			if err := a.load(ctx, domain.StreamMailbox, mailboxID, &mb); err != nil {
				return nil, err
			}
			if !mb.Exists() {
				return nil, domain.NotFound("mailbox")
			}
			var t tenant.State
			if err := a.load(ctx, domain.StreamTenant, mb.TenantID(), &t); err != nil {
				return nil, err
			}
			changes, err := mailbox.Remove(&t, &mb)
			if err != nil {
				return nil, err
			}
			return changes, a.loadMissing(ctx, changes)
		})
	})
}

// SetRestricted restricts a mailbox (usable by its grantees only, by
// nobody without grants) or opens it, revoking its remaining grants on
// their streams too (setMailboxRestricted; R11).
func (s Mailboxes) SetRestricted(ctx context.Context, mailboxID string, restricted bool) (Result, error) {
	return command(ctx, s.core, "setMailboxRestricted", func(ctx context.Context) (Result, error) {
		return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var mb mailbox.State
			if err := a.load(ctx, domain.StreamMailbox, mailboxID, &mb); err != nil {
				return nil, err
			}
			changes, err := mailbox.SetRestricted(&mb, RequestFrom(ctx).Actor, restricted)
			if err != nil {
				return nil, err
			}
			return changes, a.loadMissing(ctx, changes)
		})
	})
}

// GrantUser lets a user use a mailbox (grantUser; R11, R12).
func (s Mailboxes) GrantUser(ctx context.Context, mailboxID, userID string) (Result, error) {
	return command(ctx, s.core, "grantUser", func(ctx context.Context) (Result, error) {
		return s.userGrant(ctx, mailboxID, userID, mailbox.GrantUser)
	})
}

// RevokeUser takes a user's grant back (revokeUser).
func (s Mailboxes) RevokeUser(ctx context.Context, mailboxID, userID string) (Result, error) {
	return command(ctx, s.core, "revokeUser", func(ctx context.Context) (Result, error) {
		return s.userGrant(ctx, mailboxID, userID, mailbox.RevokeUser)
	})
}

// GrantGroup lets a group's members use a mailbox (grantGroup; R11, R12).
func (s Mailboxes) GrantGroup(ctx context.Context, mailboxID, groupID string) (Result, error) {
	return command(ctx, s.core, "grantGroup", func(ctx context.Context) (Result, error) {
		return s.groupGrant(ctx, mailboxID, groupID, mailbox.GrantGroup)
	})
}

// RevokeGroup takes a group's grant back (revokeGroup).
func (s Mailboxes) RevokeGroup(ctx context.Context, mailboxID, groupID string) (Result, error) {
	return command(ctx, s.core, "revokeGroup", func(ctx context.Context) (Result, error) {
		return s.groupGrant(ctx, mailboxID, groupID, mailbox.RevokeGroup)
	})
}

func (s Mailboxes) userGrant(ctx context.Context, mailboxID, userID string, decide func(*mailbox.State, *user.State, domain.Actor) ([]domain.Event, []domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var mb mailbox.State
		var u user.State
		if err := a.load(ctx, domain.StreamMailbox, mailboxID, &mb); err != nil {
			return nil, err
		}
		if err := a.load(ctx, domain.StreamUser, userID, &u); err != nil {
			return nil, err
		}
		mbEvents, userEvents, err := decide(&mb, &u, RequestFrom(ctx).Actor)
		if err != nil {
			return nil, err
		}
		var ch domain.Changes
		ch.Add(domain.StreamMailbox, mailboxID, mbEvents...)
		ch.Add(domain.StreamUser, userID, userEvents...)
		return ch, nil
	})
}

func (s Mailboxes) groupGrant(ctx context.Context, mailboxID, groupID string, decide func(*mailbox.State, *group.State, domain.Actor) ([]domain.Event, []domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var mb mailbox.State
		var g group.State
		if err := a.load(ctx, domain.StreamMailbox, mailboxID, &mb); err != nil {
			return nil, err
		}
		if err := a.load(ctx, domain.StreamGroup, groupID, &g); err != nil {
			return nil, err
		}
		mbEvents, groupEvents, err := decide(&mb, &g, RequestFrom(ctx).Actor)
		if err != nil {
			return nil, err
		}
		var ch domain.Changes
		ch.Add(domain.StreamMailbox, mailboxID, mbEvents...)
		ch.Add(domain.StreamGroup, groupID, groupEvents...)
		return ch, nil
	})
}
