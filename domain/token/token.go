// Package token is the API token aggregate (R21): one stream per token.
// The caller generates the id and secret, shows Format(id, secret) once and
// passes only Hash(secret) to Issue. User tokens carry the user id (the
// role is the user's current role, read at authentication); system tokens
// (CLI: system admin, auditor, mail server) have no user and carry a
// system role.
package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"github.com/absender/absender/domain"
)

const prefix = "abs_"

// Format returns the token shown once: abs_<id>_<secret>. The id must not
// contain "_"; the secret may.
func Format(id, secret string) string { return prefix + id + "_" + secret }

// Parse splits a token into id and secret; a malformed token is
// UNAUTHENTICATED — also one whose id is no one-line text of at most
// domain.MaxString characters (R34), which no store could look up.
func Parse(token string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", "", domain.Unauthenticated("malformed token")
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" || domain.CheckLine("id", id, domain.MaxString) != nil || strings.ContainsRune(id, '\t') {
		return "", "", domain.Unauthenticated("malformed token")
	}
	return id, secret, nil
}

// Hash is the stored form of a secret: hex SHA-256.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Matches reports, in constant time, whether secret hashes to hash.
func Matches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(Hash(secret)), []byte(hash)) == 1
}

// CanIssue is R21's issuance rule. subject is the user the token is for
// (user.State.Subject()). Users may issue tokens for themselves; a system
// administrator for anyone; tenant administrators for EMPLOYEE and EXTERNAL
// users of their tenant; only the owner (LEGAL_REPRESENTATIVE) of the
// tenant for its owner or an administrator. A user of another tenant is
// NOT_FOUND (R19); otherwise a refusal is FORBIDDEN.
func CanIssue(actor, subject domain.Actor) error {
	switch {
	case actor.UserID != "" && actor.UserID == subject.UserID:
		return nil
	case actor.IsSystemAdmin():
		return nil
	case actor.Role.IsTenantRole() && actor.TenantID != subject.TenantID:
		return domain.NotFound("user")
	case subject.Role.IsTenantAdmin() && actor.IsOwnerOf(subject.TenantID):
		return nil
	case !subject.Role.IsTenantAdmin() && actor.IsTenantAdminOf(subject.TenantID):
		return nil
	}
	return domain.Forbidden("not allowed to issue a token for this user")
}

// State is one token.
type State struct {
	id       string
	userID   string
	tenantID string
	role     domain.Role
	name     string
	hash     string
	issuedAt time.Time
	issued   bool
	revoked  bool
}

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case ApiTokenIssued:
		*s = State{id: e.TokenID, userID: e.UserID, tenantID: e.TenantID, role: e.Role, name: e.Name,
			hash: e.SecretHash, issuedAt: e.IssuedAt, issued: true}
	case ApiTokenRevoked:
		s.revoked = true
	}
}

// Active reports whether the token was issued and not revoked.
func (s *State) Active() bool { return s.issued && !s.revoked }

// Issued reports whether the token was issued.
func (s *State) Issued() bool { return s.issued }

// UserID is the token's user, "" for a system token.
func (s *State) UserID() string { return s.userID }

// TenantID is the user's tenant, "" for a system token.
func (s *State) TenantID() string { return s.tenantID }

// Role is the system role of a system token (zero for user tokens).
func (s *State) Role() domain.Role { return s.role }

// Name is the token's name.
func (s *State) Name() string { return s.name }

// SecretHash is the hex SHA-256 of the secret.
func (s *State) SecretHash() string { return s.hash }

// IssuedAt is when the token was issued.
func (s *State) IssuedAt() time.Time { return s.issuedAt }

// Issue mirrors issueApiToken and `absender token issue`. For a user token
// give UserID and TenantID (and check CanIssue first); for a system token
// leave them empty and give a system Role. Name is required (field name);
// SecretHash must be a hex SHA-256.
type Issue struct {
	TokenID    string
	UserID     string
	TenantID   string
	Role       domain.Role
	Name       string
	SecretHash string
	IssuedAt   time.Time
}

// Issue issues the token.
func (s *State) Issue(cmd Issue) ([]domain.Event, error) {
	if s.issued {
		return nil, domain.AlreadyExists("tokenId", "token exists")
	}
	if cmd.TokenID == "" || strings.Contains(cmd.TokenID, "_") {
		return nil, domain.InvalidInput("tokenId", "token id is empty or contains _")
	}
	if cmd.UserID == "" && !cmd.Role.IsSystemRole() {
		return nil, domain.InvalidInput("role", "a token without a user needs a system role")
	}
	if cmd.UserID != "" && !cmd.Role.IsZero() {
		return nil, domain.InvalidInput("role", "a user token takes the user's role")
	}
	name, err := domain.NewName("name", cmd.Name)
	if err != nil {
		return nil, err
	}
	if b, err := hex.DecodeString(cmd.SecretHash); err != nil || len(b) != sha256.Size || strings.ToLower(cmd.SecretHash) != cmd.SecretHash {
		return nil, domain.InvalidInput("secretHash", "secret hash must be lower-case hex SHA-256")
	}
	return []domain.Event{ApiTokenIssued{TokenID: cmd.TokenID, UserID: cmd.UserID, TenantID: cmd.TenantID,
		Role: cmd.Role, Name: name, SecretHash: cmd.SecretHash, IssuedAt: cmd.IssuedAt.UTC()}}, nil
}

// Revoke revokes the token: NOT_FOUND when never issued; revoking twice
// changes nothing.
func (s *State) Revoke() ([]domain.Event, error) {
	if !s.issued {
		return nil, domain.NotFound("token")
	}
	if s.revoked {
		return nil, nil
	}
	return []domain.Event{ApiTokenRevoked{TokenID: s.id, UserID: s.userID, TenantID: s.tenantID}}, nil
}
