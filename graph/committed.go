package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/graph/model"
	"github.com/absender/absender/telemetry"
)

// R36 Committed means accepted: a mutation whose events were committed
// never answers with an error. It waits for the read models (read-your-
// writes) at most Deps.WaitTimeout; past it, it answers from the committed
// events — the aggregate the command layer loads from its stream — and
// the response carries extensions.warnings [{code: READ_MODEL_BEHIND}],
// so a client does not retry a change that already happened. Fields
// resolved below the answer (members, grants, options) still come from
// the read models and may lag until they caught up.

// ReadModelBehind is the warning's code.
const ReadModelBehind = "READ_MODEL_BEHIND"

type behindKey struct{}

var errParked = errors.New("a read model parked the command's events")

// wrote waits until every read model has applied a command's events. A
// command error is returned as is (nothing was committed); past the bound
// the returned context says to answer from the events (behind).
func (r *Resolver) wrote(ctx context.Context, res app.Result, err error) (context.Context, error) {
	if err != nil {
		return ctx, err
	}
	// The span shows how much of a mutation is waiting for the read
	// models (issue 13 item 2).
	wctx, span := telemetry.Tracer().Start(ctx, "graph.read-your-writes")
	defer span.End()
	wctx, cancel := context.WithTimeout(wctx, r.deps.WaitTimeout)
	defer cancel()
	pos := res.Position
	if res.Events == 0 {
		// Nothing to append — maybe because a concurrent command already
		// did the same: wait for everything committed so far.
		pos, err = r.deps.Store.Head(wctx)
	}
	if err == nil {
		err = r.deps.Runner.WaitFor(wctx, pos)
	}
	if err == nil && res.Events > 0 {
		// A read model past the position may have parked the command's
		// events (R35) instead of applying them: it does not show them.
		var parked bool
		_, ps := telemetry.Tracer().Start(wctx, "graph.parked-check")
		if parked, err = r.deps.Store.ParkedAppend(wctx, pos, res.Events); err == nil && parked {
			err = errParked
		}
		ps.End()
	}
	if err == nil {
		return ctx, nil
	}
	r.deps.Log.WarnContext(ctx, "read models behind: answering from the committed events",
		"wait", r.deps.WaitTimeout, "position", pos, "err", err)
	warnBehind(ctx)
	return context.WithValue(ctx, behindKey{}, true), nil
}

// committed is wrote for a mutation that answers with an id only.
func (r *Resolver) committed(ctx context.Context, res app.Result, err error) error {
	_, err = r.wrote(ctx, res, err)
	return err
}

// behind reports whether ctx is a mutation's past the bound.
func behind(ctx context.Context) bool { b, _ := ctx.Value(behindKey{}).(bool); return b }

// warnBehind adds the READ_MODEL_BEHIND warning to the response, once.
// Mutations run one after another, so no two add it at once.
func warnBehind(ctx context.Context) {
	if !graphql.HasOperationContext(ctx) {
		return
	}
	if graphql.GetExtension(ctx, "warnings") == nil {
		graphql.RegisterExtension(ctx, "warnings", []map[string]any{{"code": ReadModelBehind,
			"message": "the change is saved; the read models have not caught up yet"}})
	}
}

// The answers built from the committed events.

func (r *Resolver) userFromEvents(ctx context.Context, id string) (*model.User, error) {
	u, err := r.deps.App.Aggregates.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if !u.Exists() {
		return nil, domain.NotFound("user")
	}
	return &model.User{ID: u.ID(), TenantID: u.TenantID(), LoginName: u.LoginName(), DisplayName: u.DisplayName(),
		Email: u.Email(), Role: model.Role(u.Role().String()), Blocked: u.Blocked()}, nil
}

func (r *Resolver) groupFromEvents(ctx context.Context, id string) (*model.Group, error) {
	g, err := r.deps.App.Aggregates.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	if !g.Exists() {
		return nil, domain.NotFound("group")
	}
	return &model.Group{ID: g.ID(), TenantID: g.TenantID(), Name: g.Name()}, nil
}

func (r *Resolver) mailboxFromEvents(ctx context.Context, id string) (*model.Mailbox, error) {
	m, err := r.deps.App.Aggregates.Mailbox(ctx, id)
	if err != nil {
		return nil, err
	}
	if !m.Exists() {
		return nil, domain.NotFound("mailbox")
	}
	return &model.Mailbox{ID: m.ID(), TenantID: m.TenantID(), Address: m.Address(), DisplayName: m.DisplayName(),
		Sender: m.Sender(), ReplyTo: m.ReplyTo(), Global: m.Global(), Authenticated: m.Authenticated(),
		Restricted: m.Restricted()}, nil
}

func (r *Resolver) tenantFromEvents(ctx context.Context, id string) (*model.Tenant, error) {
	t, err := r.deps.App.Aggregates.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	if !t.Exists() {
		return nil, domain.NotFound("tenant")
	}
	out := &model.Tenant{ID: t.ID(), Name: t.Name()}
	if a := t.OwnSupportAddress(); a != "" {
		out.SupportAddress = &a
	}
	return out, nil
}

func (r *Resolver) systemMailServerFromEvents(ctx context.Context) (*model.SystemMailServer, error) {
	sys, err := r.deps.App.Aggregates.System(ctx)
	if err != nil {
		return nil, err
	}
	sup := sys.Support()
	out := &model.SystemMailServer{Configured: sys.Configured(), Enabled: sys.Enabled(), Support: &model.SupportSettings{
		AllowTenantAddress: sup.AllowTenantAddress, AttachSystemInfo: sup.AttachSystemInfo}}
	if sup.Address != "" {
		out.Support.Address = &sup.Address
	}
	if s, ok := sys.Settings(); ok && authz.CanSeeDetails(PrincipalFrom(ctx), "") {
		out.Settings = settingsFromDomain(s)
	}
	return out, nil
}

// settingsFromDomain is settingsModel for settings of an aggregate (no
// secrets: only whether they are set).
func settingsFromDomain(s domain.ServerSettings) *model.ServerSettings {
	out := &model.ServerSettings{Encryption: model.Encryption(s.Encryption.String()), Auth: model.ServerAuth(s.Auth.String()),
		HasPassword: s.HasPassword(), HasGraphClientSecret: s.HasGraphClientSecret(), SenderAddress: s.SenderAddress,
		SMTPUtf8: s.SMTPUTF8, Host: optional(s.Host), Username: optional(s.Username), GraphTenantID: optional(s.GraphTenantID),
		GraphClientID: optional(s.GraphClientID), SenderName: optional(s.SenderName)}
	if s.Port != 0 {
		out.Port = &s.Port
	}
	return out
}

// messageFromEvents is the message as it was accepted: QUEUED.
func (r *Resolver) messageFromEvents(ctx context.Context, id string) (*model.Message, error) {
	m, at, err := r.deps.App.Aggregates.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	q := m.Queued()
	if q == nil {
		return nil, domain.NotFound("message")
	}
	out := &model.Message{ID: q.MessageID, Kind: model.MessageKind(q.Kind), Status: model.MessageStatusQueued, From: q.From.String(),
		To: mailboxStrings(q.To), Cc: mailboxStrings(q.Cc), Subject: q.Subject, RejectedRecipients: []string{},
		CreatedAt: at, UpdatedAt: at, TenantID: q.TenantID}
	if q.ReplyTo != nil {
		rt := q.ReplyTo.String()
		out.ReplyTo = &rt
	}
	if q.Target != nil {
		k := model.TransportKind(q.Target.Transport.String())
		out.Transport = &k
	}
	return out, nil
}

func mailboxStrings(ms []message.Mailbox) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}
