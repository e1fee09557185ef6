package app

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
)

// newSecret is 160 random bits, lower-case base32 without padding.
func newSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Tokens are the commands on API tokens.
type Tokens struct{ *core }

// tokenID is an id without "_" (the token's separator).
func (s Tokens) tokenID() string { return strings.ReplaceAll(s.newID(), "-", "") }

// IssueForUser issues a token for a user (issueApiToken; R21) and returns
// it, shown once; only its SHA-256 hash is stored.
func (s Tokens) IssueForUser(ctx context.Context, userID, name string) (string, Result, error) {
	return commandWithID(ctx, s.core, "issueApiToken", func(ctx context.Context) (string, Result, error) {
		id, secret := s.tokenID(), newSecret()
		res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var u user.State
			if err := a.load(ctx, domain.StreamUser, userID, &u); err != nil {
				return nil, err
			}
			if !u.Exists() {
				return nil, domain.NotFound("user")
			}
			if err := token.CanIssue(RequestFrom(ctx).Actor, u.Subject()); err != nil {
				return nil, err
			}
			var t token.State
			if err := a.load(ctx, domain.StreamToken, id, &t); err != nil {
				return nil, err
			}
			events, err := t.Issue(token.Issue{TokenID: id, UserID: userID, TenantID: u.TenantID(), Name: name, SecretHash: token.Hash(secret), IssuedAt: s.now()})
			return one(domain.StreamToken, id, events), err
		})
		if err != nil {
			return "", Result{}, err
		}
		return token.Format(id, secret), res, nil
	})
}

// IssueForSystem issues a token without a user for a system role
// (SYSTEM_ADMIN, AUDITOR, MAIL_SERVER), as `absender token issue` does
// (issueSystemToken: a CLI command, not a mutation).
func (s Tokens) IssueForSystem(ctx context.Context, role domain.Role, name string) (string, Result, error) {
	return commandWithID(ctx, s.core, "issueSystemToken", func(ctx context.Context) (string, Result, error) {
		id, secret := s.tokenID(), newSecret()
		res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var t token.State
			if err := a.load(ctx, domain.StreamToken, id, &t); err != nil {
				return nil, err
			}
			events, err := t.Issue(token.Issue{TokenID: id, Role: role, Name: name, SecretHash: token.Hash(secret), IssuedAt: s.now()})
			return one(domain.StreamToken, id, events), err
		})
		if err != nil {
			return "", Result{}, err
		}
		return token.Format(id, secret), res, nil
	})
}

// Revoke revokes a token (revokeApiToken): its holder, whoever may issue
// tokens for its user (R21), and system administrators may.
func (s Tokens) Revoke(ctx context.Context, tokenID string) (Result, error) {
	return command(ctx, s.core, "revokeApiToken", func(ctx context.Context) (Result, error) {
		actor := RequestFrom(ctx).Actor
		return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
			var t token.State
			if err := a.load(ctx, domain.StreamToken, tokenID, &t); err != nil {
				return nil, err
			}
			if !t.Issued() {
				return nil, domain.NotFound("token")
			}
			switch {
			case actor.IsSystemAdmin():
			case t.UserID() == "":
				return nil, domain.NotFound("token") // system tokens are invisible to users
			case t.UserID() != actor.UserID:
				var u user.State
				if err := a.load(ctx, domain.StreamUser, t.UserID(), &u); err != nil {
					return nil, err
				}
				if err := token.CanIssue(actor, u.Subject()); err != nil {
					return nil, err
				}
			}
			events, err := t.Revoke()
			return one(domain.StreamToken, tokenID, events), err
		})
	})
}
