package graph

import (
	"context"
	"errors"
	"sync"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/graph/model"
	mail "github.com/absender/absender/transport"
)

// ServerChecker runs connection checks (transport.Transport.Check).
type ServerChecker interface {
	Check(ctx context.Context, s domain.ServerSettings, creds mail.Credentials) mail.CheckResult
}

// Bounds of concurrent connection checks: a check costs an outbound
// connection of up to 15 s, so a caller cannot open many at once, nor the
// users of one tenant together take the places of all.
const (
	MaxChecksPerCaller = 2
	MaxChecksPerTenant = 4
	MaxChecks          = 16
)

// checkLimiter counts the checks running, per caller, per tenant and in
// all.
type checkLimiter struct {
	mu    sync.Mutex
	total int
	// running counts by "caller:<name>" and "tenant:<id>".
	running map[string]int
}

// acquire admits one more check of caller, of tenant (empty for system
// roles: no tenant bound), or answers RATE_LIMITED.
func (l *checkLimiter) acquire(caller, tenant string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running == nil {
		l.running = map[string]int{}
	}
	keys := []string{"caller:" + caller}
	if tenant != "" {
		keys = append(keys, "tenant:"+tenant)
	}
	if l.total >= MaxChecks || l.running[keys[0]] >= MaxChecksPerCaller ||
		len(keys) > 1 && l.running[keys[1]] >= MaxChecksPerTenant {
		return nil, &domain.Error{Code: domain.CodeRateLimited,
			Message: "too many connection checks running at once; try again when one has finished"}
	}
	l.total++
	for _, k := range keys {
		l.running[k]++
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.total--
		for _, k := range keys {
			if l.running[k]--; l.running[k] <= 0 {
				delete(l.running, k)
			}
		}
	}, nil
}

// run runs fn as a check of caller in tenant when the bounds admit it
// (else RATE_LIMITED); its place is freed however fn ends, also by a
// panic.
func (l *checkLimiter) run(caller, tenant string, fn func()) error {
	release, err := l.acquire(caller, tenant)
	if err != nil {
		return err
	}
	defer release()
	fn()
	return nil
}

// checkMailServer is the checkMailServer mutation: NOT_FOUND and
// FORBIDDEN for every target given (R19), then the arguments, then the
// rate bound; the check itself, then its audit entry.
func (r *Resolver) checkMailServer(ctx context.Context, tenantID, mailboxID *string, input *model.ServerSettingsInput) (*model.ConnectionCheck, error) {
	if err := authenticated(ctx); err != nil {
		return nil, err
	}
	var targets []authz.Target
	if deref(tenantID) != "" {
		t, _, err := r.tenantTarget(ctx, *tenantID)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	if deref(mailboxID) != "" {
		t, _, err := r.mailboxTarget(ctx, *mailboxID)
		if err != nil {
			return nil, err
		}
		targets = append(targets, authz.Target{TenantID: t.TenantID})
	}
	if len(targets) == 0 {
		targets = append(targets, authz.Target{}) // the system server
	}
	var err error
	for _, t := range targets {
		if ctx, err = r.allow(ctx, authz.OpCheckMailServer, t); err != nil {
			return nil, err
		}
	}
	var in *app.ServerSettingsInput
	if input != nil {
		v := settingsInput(*input)
		in = &v
	}
	var res mail.CheckResult
	rec, err := r.deps.App.Commands.Checks.CheckMailServer(ctx, deref(tenantID), deref(mailboxID), in,
		func(ctx context.Context, cs app.CheckSettings) (bool, string, error) {
			if r.deps.Checker == nil {
				return false, "", errors.New("checkMailServer: this process has no transport to check with")
			}
			p := PrincipalFrom(ctx)
			if err := r.checks.run(PrincipalName(p), p.TenantID, func() {
				res = r.deps.Checker.Check(ctx, cs.Settings, mail.Credentials{Password: cs.Password, GraphClientSecret: cs.GraphClientSecret})
			}); err != nil {
				return false, "", err
			}
			return res.OK, res.FailedStep(), nil
		})
	if _, err = r.wrote(ctx, rec, err); err != nil {
		return nil, err
	}
	out := &model.ConnectionCheck{Ok: res.OK, Steps: make([]model.CheckStep, len(res.Steps))}
	for i, s := range res.Steps {
		out.Steps[i] = model.CheckStep{Name: s.Name, Ok: s.OK, Detail: s.Detail, Millis: int(s.Duration.Milliseconds())}
	}
	return out, nil
}
