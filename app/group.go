package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/directory"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/user"
)

// Groups are the commands on a tenant's groups and their members.
type Groups struct{ *core }

// Create creates a group of a tenant and returns its id (createGroup).
func (s Groups) Create(ctx context.Context, tenantID, name string) (string, Result, error) {
	return commandWithID(ctx, s.core, "createGroup", func(ctx context.Context) (string, Result, error) {
		id := s.newID()
		res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			if _, err := a.loadTenant(ctx, tenantID); err != nil {
				return nil, err
			}
			var g group.State
			if err := a.load(ctx, domain.StreamGroup, id, &g); err != nil {
				return nil, err
			}
			events, err := g.Create(id, tenantID, name)
			return one(domain.StreamGroup, id, events), err
		})
		return id, res, err
	})
}

// AddMember adds a user of the group's tenant (addGroupMember; R18).
func (s Groups) AddMember(ctx context.Context, groupID, userID string) (Result, error) {
	return command(ctx, s.core, "addGroupMember", func(ctx context.Context) (Result, error) {
		return s.membership(ctx, groupID, userID, group.AddMember)
	})
}

// RemoveMember removes a member (removeGroupMember).
func (s Groups) RemoveMember(ctx context.Context, groupID, userID string) (Result, error) {
	return command(ctx, s.core, "removeGroupMember", func(ctx context.Context) (Result, error) {
		return s.membership(ctx, groupID, userID, group.RemoveMember)
	})
}

func (s Groups) membership(ctx context.Context, groupID, userID string, decide func(*group.State, *user.State) ([]domain.Event, []domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var g group.State
		var u user.State
		if err := a.load(ctx, domain.StreamGroup, groupID, &g); err != nil {
			return nil, err
		}
		if err := a.load(ctx, domain.StreamUser, userID, &u); err != nil {
			return nil, err
		}
		groupEvents, userEvents, err := decide(&g, &u)
		if err != nil {
			return nil, err
		}
		var ch domain.Changes
		ch.Add(domain.StreamGroup, groupID, groupEvents...)
		ch.Add(domain.StreamUser, userID, userEvents...)
		return ch, nil
	})
}

// Delete deletes a group, its memberships and its grants (deleteGroup;
// R18).
func (s Groups) Delete(ctx context.Context, groupID string) (Result, error) {
	return command(ctx, s.core, "deleteGroup", func(ctx context.Context) (Result, error) {
		return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var g group.State
			if err := a.load(ctx, domain.StreamGroup, groupID, &g); err != nil {
				return nil, err
			}
			if !g.Exists() {
				return nil, domain.NotFound("group")
			}
			mailboxes := map[string]*mailbox.State{}
			for _, id := range g.MailboxIDs() {
				mb := &mailbox.State{}
				if err := a.load(ctx, domain.StreamMailbox, id, mb); err != nil {
					return nil, err
				}
				mailboxes[id] = mb
			}
			changes, err := directory.DeleteGroup(&g, mailboxes)
			if err != nil {
				return nil, err
			}
			// Members' streams get mirror events; their versions must hold too.
			return changes, a.loadMissing(ctx, changes)
		})
	})
}
