package graph

import (
	"context"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/graph/model"
)

func (r *Resolver) readMailbox(ctx context.Context, id string) (*model.Mailbox, error) {
	m, err := r.deps.Reader.Mailbox(ctx, id)
	if err != nil {
		return nil, notFound(err, "mailbox")
	}
	return mailboxModel(m), nil
}
func (r *mutationResolver) grant(ctx context.Context, op authz.Op, mailboxID, granteeID string, run func(context.Context, string, string) (app.Result, error)) (*model.Mailbox, error) {
	t, _, err := r.mailboxTarget(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	t.GlobalMailbox = false
	if ctx, err = r.allow(ctx, op, t); err != nil {
		return nil, err
	}
	res, err := run(ctx, mailboxID, granteeID)
	if err := r.wrote(ctx, res, err); err != nil {
		return nil, err
	}
	return r.readMailbox(ctx, mailboxID)
}
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
