package graph

import (
	"context"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/graph/model"
)

func (r *Resolver) readMailbox(ctx context.Context, id string) (*model.Mailbox, error) {
	if behind(ctx) {
		return r.mailboxFromEvents(ctx, id)
	}
	m, err := r.deps.Reader.Mailbox(ctx, id)
	if err != nil {
		return nil, notFound(err, "mailbox")
	}
	return mailboxModel(m), nil
}

// grant runs a grant or revocation of a user or group (kind) on a mailbox.
// Both objects are checked for R19's NOT_FOUND before FORBIDDEN: a grantee
// of another tenant does not exist for a tenant user (R12: only a system
// administrator grants across tenants).
func (r *mutationResolver) grant(ctx context.Context, op authz.Op, kind, mailboxID, granteeID string, run func(context.Context, string, string) (app.Result, error)) (*model.Mailbox, error) {
	t, _, err := r.mailboxTarget(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	if err := r.ownGrantee(ctx, kind, granteeID); err != nil {
		return nil, err
	}
	t.GlobalMailbox = false
	if ctx, err = r.allow(ctx, op, t); err != nil {
		return nil, err
	}
	res, err := run(ctx, mailboxID, granteeID)
	if ctx, err = r.wrote(ctx, res, err); err != nil {
		return nil, err
	}
	return r.readMailbox(ctx, mailboxID)
}

// ownGrantee answers NOT_FOUND for a user or group that does not exist or,
// for a tenant user, belongs to another tenant (R19).
func (r *Resolver) ownGrantee(ctx context.Context, kind, id string) error {
	var tenantID string
	if kind == "user" {
		u, err := r.deps.Reader.User(ctx, id)
		if err != nil {
			return notFound(err, "user")
		}
		tenantID = u.TenantID
	} else {
		g, err := r.deps.Reader.Group(ctx, id)
		if err != nil {
			return notFound(err, "group")
		}
		tenantID = g.TenantID
	}
	if p := PrincipalFrom(ctx); p.Role.IsTenantRole() && p.TenantID != tenantID {
		return domain.NotFound(kind)
	}
	return nil
}

// visibleGrantees lists a mailbox's grantees of one kind as far as the
// viewer may see them (R12): nothing outside the mailbox's tenant unless
// the viewer sees details; tenant administrators see only their own
// tenant's grantees of a global mailbox.
func (r *Resolver) visibleGrantees(ctx context.Context, obj *model.Mailbox, kind string) ([]string, error) {
	p := PrincipalFrom(ctx)
	if !authz.CanSeeDetails(p, obj.TenantID) {
		return nil, nil
	}
	grants, err := r.deps.Reader.GrantsOf(ctx, obj.ID)
	if err != nil {
		return nil, err
	}
	all := authz.CanSeeDetails(p, "")
	var ids []string
	for _, g := range grants {
		if g.Kind == kind && (all || g.TenantID == p.TenantID) {
			ids = append(ids, g.ID)
		}
	}
	return ids, nil
}
