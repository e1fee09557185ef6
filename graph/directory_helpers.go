package graph

import (
	"context"
	"time"

	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/graph/model"
)

func (r *Resolver) readUser(ctx context.Context, id string) (*model.User, error) {
	if behind(ctx) {
		return r.userFromEvents(ctx, id)
	}
	u, err := r.deps.Reader.User(ctx, id)
	if err != nil {
		return nil, notFound(err, "user")
	}
	return userModel(u), nil
}
func (r *Resolver) readGroup(ctx context.Context, id string) (*model.Group, error) {
	if behind(ctx) {
		return r.groupFromEvents(ctx, id)
	}
	g, err := r.deps.Reader.Group(ctx, id)
	if err != nil {
		return nil, notFound(err, "group")
	}
	return groupModel(g), nil
}
func (r *mutationResolver) membership(ctx context.Context, op authz.Op, groupID, userID string, run func(context.Context, string, string) (appResult, error)) (*model.Group, error) {
	t, _, err := r.groupTarget(ctx, groupID)
	if err != nil {
		return nil, err
	}
	if err := r.ownGrantee(ctx, "user", userID); err != nil {
		return nil, err
	}
	if ctx, err = r.allow(ctx, op, t); err != nil {
		return nil, err
	}
	res, err := run(ctx, groupID, userID)
	if ctx, err = r.wrote(ctx, res, err); err != nil {
		return nil, err
	}
	return r.readGroup(ctx, groupID)
}
func (r *Resolver) options(ctx context.Context, op authz.Op, kind options.Kind, userID string) ([]model.AddressOption, error) {
	t, u, err := r.userTarget(ctx, userID)
	if err != nil {
		return nil, err
	}
	if _, err := r.allow(ctx, op, t); err != nil {
		return nil, err
	}
	opts, err := r.deps.Reader.OptionsOf(ctx, kind, u)
	if err != nil {
		return nil, err
	}
	return optionsModel(opts), nil
}

// pastOptions answers a user's option list as it was at a time, replayed
// from the events (the user may have been deleted since).
func (r *Resolver) pastOptions(ctx context.Context, op authz.Op, kind options.Kind, userID string, at time.Time) ([]model.AddressOption, error) {
	if err := authenticated(ctx); err != nil {
		return nil, err
	}
	u, err := r.deps.App.Aggregates.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.TenantID() == "" {
		return nil, domain.NotFound("user")
	}
	if _, err := r.allow(ctx, op, authz.Target{TenantID: u.TenantID(), UserID: userID, SubjectRole: u.Role()}); err != nil {
		return nil, err
	}
	m, err := r.deps.History.At(ctx, u.TenantID(), at)
	if err != nil {
		return nil, err
	}
	return optionsModel(m.Options(kind, userID)), nil
}

func optionsModel(opts []options.Option) []model.AddressOption {
	out := make([]model.AddressOption, len(opts))
	for i, o := range opts {
		out[i] = model.AddressOption{Address: o.Address, DisplayName: o.DisplayName, Source: model.OptionSource(o.Source.String()),
			MailboxID: optional(o.MailboxID), Transport: model.TransportKind(o.Transport.String())}
	}
	return out
}
