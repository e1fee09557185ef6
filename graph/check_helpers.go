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
// connection of up to 15 s, so a caller cannot open many at once.
const (
	MaxChecksPerCaller = 2
	MaxChecks          = 16
)

// checkLimiter counts the checks running, per caller and in all.
type checkLimiter struct {
	mu       sync.Mutex
	total    int
	byCaller map[string]int
}

// acquire admits one more check of caller, or answers RATE_LIMITED.
func (l *checkLimiter) acquire(caller string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byCaller == nil {
		l.byCaller = map[string]int{}
	}
	if l.byCaller[caller] >= MaxChecksPerCaller || l.total >= MaxChecks {
		return nil, &domain.Error{Code: domain.CodeRateLimited,
			Message: "too many connection checks running at once; try again when one has finished"}
	}
	l.byCaller[caller]++
	l.total++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.total--
		if l.byCaller[caller]--; l.byCaller[caller] <= 0 {
			delete(l.byCaller, caller)
		}
	}, nil
}

// run runs fn as a check of caller when the bounds admit it (else
// RATE_LIMITED); its place is freed however fn ends, also by a panic.
func (l *checkLimiter) run(caller string, fn func()) error {
	release, err := l.acquire(caller)
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
	cs, err := r.deps.App.SettingsToCheck(ctx, deref(tenantID), deref(mailboxID), in)
	if err != nil {
		return nil, err
	}
	if r.deps.Checker == nil {
		return nil, errors.New("checkMailServer: this process has no transport to check with")
	}
	var res mail.CheckResult
	if err := r.checks.run(PrincipalName(PrincipalFrom(ctx)), func() {
		res = r.deps.Checker.Check(ctx, cs.Settings, mail.Credentials{Password: cs.Password, GraphClientSecret: cs.GraphClientSecret})
	}); err != nil {
		return nil, err
	}
	rec, err := r.deps.App.RecordMailServerCheck(ctx, cs, res.OK, res.FailedStep())
	if _, err = r.wrote(ctx, rec, err); err != nil {
		return nil, err
	}
	out := &model.ConnectionCheck{Ok: res.OK, Steps: make([]model.CheckStep, len(res.Steps))}
	for i, s := range res.Steps {
		out.Steps[i] = model.CheckStep{Name: s.Name, Ok: s.OK, Detail: s.Detail, Millis: int(s.Duration.Milliseconds())}
	}
	return out, nil
}
