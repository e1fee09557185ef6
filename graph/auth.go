package graph

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/projections"
)

type principalKey struct{}

// WithPrincipal attaches the caller to ctx.
func WithPrincipal(ctx context.Context, p authz.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller (the zero Principal: unauthenticated).
func PrincipalFrom(ctx context.Context) authz.Principal {
	p, _ := ctx.Value(principalKey{}).(authz.Principal)
	return p
}

// Authenticator turns bearer tokens into principals (R21: the token's
// SHA-256 hash is compared in constant time; R20: blocked users' tokens
// are refused). The token is read from its own stream, not a read model,
// so a token issued by `absender token issue` in another process works at
// once and a revocation takes effect at once.
type Authenticator struct {
	App    *app.App
	Reader *projections.Reader
	// Generation (optional) lets it remember a token's principal until
	// the next change anywhere (a revocation, a blocked user): see
	// eventstore.Store.Generation.
	Generation func() uint64
	cache      *sync.Map // token → cachedPrincipal
}

type cachedPrincipal struct {
	p   authz.Principal
	gen uint64
}

// NewAuthenticator returns an authenticator that caches between changes.
func NewAuthenticator(a *app.App, r *projections.Reader, generation func() uint64) Authenticator {
	return Authenticator{App: a, Reader: r, Generation: generation, cache: &sync.Map{}}
}

// ErrBadToken is a token that is malformed, unknown, revoked or whose user
// is gone or blocked.
var ErrBadToken = errors.New("graph: invalid token")

// Authenticate checks a bearer token ("" means no token: the zero
// Principal and no error).
func (a Authenticator) Authenticate(ctx context.Context, bearer string) (authz.Principal, error) {
	raw := strings.TrimSpace(bearer)
	if raw == "" {
		return authz.Principal{}, nil
	}
	var p authz.Principal
	var err error
	if a.cache == nil || a.Generation == nil {
		p, err = a.authenticate(ctx, raw)
	} else {
		gen := a.Generation()
		if c, ok := a.cache.Load(raw); ok && c.(cachedPrincipal).gen == gen {
			p = c.(cachedPrincipal).p
		} else if p, err = a.authenticate(ctx, raw); err == nil {
			a.cache.Store(raw, cachedPrincipal{p: p, gen: gen})
		}
	}
	if err == nil && p.TokenID != "" {
		// ApiToken.lastUsedAt; best effort, at most once a minute.
		_ = a.Reader.TokenUsage().Used(ctx, p.TokenID, time.Now())
	}
	return p, err
}

func (a Authenticator) authenticate(ctx context.Context, raw string) (authz.Principal, error) {
	id, secret, err := token.Parse(raw)
	if err != nil {
		return authz.Principal{}, ErrBadToken
	}
	tok, err := a.App.Aggregates.Token(ctx, id)
	if err != nil {
		return authz.Principal{}, err
	}
	if !tok.Active() || !token.Matches(secret, tok.SecretHash()) {
		return authz.Principal{}, ErrBadToken
	}
	if tok.UserID() == "" {
		if !tok.Role().IsSystemRole() {
			return authz.Principal{}, ErrBadToken
		}
		return authz.Principal{TokenID: id, Role: tok.Role()}, nil
	}
	u, err := a.Reader.User(ctx, tok.UserID())
	if errors.Is(err, projections.ErrNotFound) {
		return authz.Principal{}, ErrBadToken
	}
	if err != nil {
		return authz.Principal{}, err
	}
	role, err := domain.ParseRole(u.Role)
	if err != nil {
		return authz.Principal{}, ErrBadToken
	}
	if u.Blocked {
		return authz.Principal{}, ErrBadToken // R20
	}
	return authz.Principal{TokenID: id, UserID: u.ID, TenantID: u.TenantID, Role: role}, nil
}

// PrincipalName is how events name the actor: the user, or the token of
// a system role.
func PrincipalName(p authz.Principal) string {
	if p.UserID != "" {
		return "user:" + p.UserID
	}
	if p.TokenID != "" {
		return "token:" + p.TokenID
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// bearerToken extracts the token from an Authorization header value.
func bearerToken(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
