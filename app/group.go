package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/directory"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/user"
)

// CreateGroup creates a group of a tenant and returns its id.
func (s *Service) CreateGroup(ctx context.Context, tenantID, name string) (string, Result, error) {
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
}

// AddGroupMember adds a user of the group's tenant (R18).
func (s *Service) AddGroupMember(ctx context.Context, groupID, userID string) (Result, error) {
	return s.membership(ctx, groupID, userID, group.AddMember)
}

// RemoveGroupMember removes a member.
func (s *Service) RemoveGroupMember(ctx context.Context, groupID, userID string) (Result, error) {
	return s.membership(ctx, groupID, userID, group.RemoveMember)
}

func (s *Service) membership(ctx context.Context, groupID, userID string, decide func(*group.State, *user.State) ([]domain.Event, []domain.Event, error)) (Result, error) {
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

// DeleteGroup deletes a group, its memberships and its grants (R18).
func (s *Service) DeleteGroup(ctx context.Context, groupID string) (Result, error) {
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
}

// Group loads a group aggregate.
func (s *Service) Group(ctx context.Context, groupID string) (*group.State, error) {
	var g group.State
	a := &attempt{svc: s, versions: map[domain.StreamRef]int64{}}
	return &g, a.load(ctx, domain.StreamGroup, groupID, &g)
}
