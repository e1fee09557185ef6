package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/directory"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/user"
)

// Users are the commands on a tenant's users.
type Users struct{ *core }

// Create creates a user of a tenant and returns its id (createUser). The
// login name is claimed on its own stream in the same append, so of two
// concurrent users with one login name exactly one is created (R18).
func (s Users) Create(ctx context.Context, tenantID, loginName, displayName, email string, role domain.Role) (string, Result, error) {
	return commandWithID(ctx, s.core, "createUser", func(ctx context.Context) (string, Result, error) {
		id := s.newID()
		res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			if _, err := a.loadTenant(ctx, tenantID); err != nil {
				return nil, err
			}
			name, err := login.ValidateName(loginName)
			if err != nil {
				return nil, err
			}
			var u user.State
			var claim login.State
			if err := a.load(ctx, domain.StreamUser, id, &u); err != nil {
				return nil, err
			}
			if err := a.load(ctx, domain.StreamLogin, name, &claim); err != nil {
				return nil, err
			}
			userEvents, loginEvents, err := u.Create(&claim, user.Create{UserID: id, TenantID: tenantID, LoginName: name, DisplayName: displayName, Email: email, Role: role})
			if err != nil {
				return nil, err
			}
			var ch domain.Changes
			ch.Add(domain.StreamUser, id, userEvents...)
			ch.Add(domain.StreamLogin, name, loginEvents...)
			return ch, nil
		})
		return id, res, err
	})
}

// Update changes display name, e-mail and role (updateUser; nil keeps).
func (s Users) Update(ctx context.Context, userID string, change user.Update) (Result, error) {
	return command(ctx, s.core, "updateUser", func(ctx context.Context) (Result, error) {
		return s.onUser(ctx, userID, func(u *user.State) ([]domain.Event, error) { return u.Update(change) })
	})
}

// SetBlocked blocks or unblocks a user (setUserBlocked; R20).
func (s Users) SetBlocked(ctx context.Context, userID string, blocked bool) (Result, error) {
	return command(ctx, s.core, "setUserBlocked", func(ctx context.Context) (Result, error) {
		return s.onUser(ctx, userID, func(u *user.State) ([]domain.Event, error) { return u.SetBlocked(blocked) })
	})
}

func (s Users) onUser(ctx context.Context, userID string, decide func(*user.State) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var u user.State
		if err := a.load(ctx, domain.StreamUser, userID, &u); err != nil {
			return nil, err
		}
		if !u.Exists() {
			return nil, domain.NotFound("user")
		}
		events, err := decide(&u)
		return one(domain.StreamUser, userID, events), err
	})
}

// Delete deletes a user, revoking its grants and memberships and
// releasing its login name in one append (deleteUser; R18).
func (s Users) Delete(ctx context.Context, userID string) (Result, error) {
	return command(ctx, s.core, "deleteUser", func(ctx context.Context) (Result, error) {
		return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var u user.State
			if err := a.load(ctx, domain.StreamUser, userID, &u); err != nil {
				return nil, err
			}
			if !u.Exists() {
				return nil, domain.NotFound("user")
			}
			var claim login.State
			if err := a.load(ctx, domain.StreamLogin, u.LoginName(), &claim); err != nil {
				return nil, err
			}
			groups := map[string]*group.State{}
			for _, id := range u.GroupIDs() {
				g := &group.State{}
				if err := a.load(ctx, domain.StreamGroup, id, g); err != nil {
					return nil, err
				}
				groups[id] = g
			}
			mailboxes := map[string]*mailbox.State{}
			for _, id := range u.MailboxIDs() {
				mb := &mailbox.State{}
				if err := a.load(ctx, domain.StreamMailbox, id, mb); err != nil {
					return nil, err
				}
				mailboxes[id] = mb
			}
			return directory.DeleteUser(&u, &claim, groups, mailboxes)
		})
	})
}
