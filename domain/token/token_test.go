package token_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/token"
)

func TestR21_TokenFormat(t *testing.T) {
	tok := token.Format("t1", "s3cr_et")
	if tok != "abs_t1_s3cr_et" {
		t.Fatalf("got %q, want abs_t1_s3cr_et", tok)
	}
	id, secret, err := token.Parse(tok)
	if err != nil || id != "t1" || secret != "s3cr_et" {
		t.Fatalf("got %q %q %v, want t1 s3cr_et", id, secret, err)
	}
	// R34: an id no store can look up is malformed too.
	for _, bad := range []string{"", "abs_", "abs_id", "abs__x", "abs_id_", "xyz_id_secret",
		"abs_\xff_x", "abs_a\x00_x", "abs_a\u0085_x", "abs_a\tb_x", "abs_" + strings.Repeat("9", 1001) + "_x"} {
		if _, _, err := token.Parse(bad); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("Parse(%q) error = %v, want UNAUTHENTICATED", bad, err)
		}
	}
	h := token.Hash("secret")
	if len(h) != 64 || !token.Matches("secret", h) || token.Matches("other", h) {
		t.Fatalf("got hash %q, want hex SHA-256 that matches only its secret", h)
	}
}

func TestR21_CanIssue(t *testing.T) {
	actor := func(id, tenant string, r domain.Role) domain.Actor {
		return domain.Actor{UserID: id, TenantID: tenant, Role: r}
	}
	ownerT1 := actor("o1", "t1", domain.RoleLegalRepresentative)
	adminT1 := actor("a1", "t1", domain.RoleAdministrator)
	admin2T1 := actor("a2", "t1", domain.RoleAdministrator)
	empT1 := actor("e1", "t1", domain.RoleEmployee)
	extT1 := actor("x1", "t1", domain.RoleExternal)
	adminT2 := actor("a9", "t2", domain.RoleAdministrator)
	sys := actor("root", "", domain.RoleSystemAdmin)
	auditor := actor("aud", "", domain.RoleAuditor)
	tests := []struct {
		name           string
		actor, subject domain.Actor
		want           error
	}{
		{"R21 users issue for themselves", empT1, empT1, nil},
		{"R21 external users issue for themselves", extT1, extT1, nil},
		{"R21 administrators issue for themselves", adminT1, adminT1, nil},
		{"R21 tenant administrator for an employee", adminT1, empT1, nil},
		{"R21 tenant administrator for an external user", adminT1, extT1, nil},
		{"R21 owner for an employee", ownerT1, empT1, nil},
		{"R21 owner for an administrator", ownerT1, adminT1, nil},
		{"R21 system administrator for the owner", sys, ownerT1, nil},
		{"R21 administrator not for another administrator", adminT1, admin2T1, domain.ErrForbidden},
		{"R21 administrator not for the owner", adminT1, ownerT1, domain.ErrForbidden},
		{"R21 employee not for another user", empT1, extT1, domain.ErrForbidden},
		{"R21 auditor not for a user", auditor, empT1, domain.ErrForbidden},
		{"R21 R19 administrator of another tenant gets NOT_FOUND", adminT2, empT1, domain.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := token.CanIssue(tt.actor, tt.subject)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestR21_IssueAndRevoke(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	hash := token.Hash("secret")
	issued := token.ApiTokenIssued{TokenID: "k1", UserID: "u2", TenantID: "t1", Name: "CI", SecretHash: hash, IssuedAt: at}
	got, err := Given[token.State]().Issue(token.Issue{TokenID: "k1", UserID: "u2", TenantID: "t1", Name: " CI ", SecretHash: hash, IssuedAt: at})
	ThenEvents(t, got, err, issued)

	t.Run("R21 a system token needs a system role", func(t *testing.T) {
		got, err := Given[token.State]().Issue(token.Issue{TokenID: "k2", Name: "cli", SecretHash: hash, IssuedAt: at})
		ThenError(t, got, err, domain.ErrInvalidInput, "role")
		got, err = Given[token.State]().Issue(token.Issue{TokenID: "k2", Role: domain.RoleMailServer, Name: "postfix", SecretHash: hash, IssuedAt: at})
		ThenEvents(t, got, err, token.ApiTokenIssued{TokenID: "k2", Role: domain.RoleMailServer, Name: "postfix", SecretHash: hash, IssuedAt: at})
	})
	t.Run("R21 only a SHA-256 hash is stored", func(t *testing.T) {
		got, err := Given[token.State]().Issue(token.Issue{TokenID: "k3", UserID: "u2", Name: "x", SecretHash: "secret", IssuedAt: at})
		ThenError(t, got, err, domain.ErrInvalidInput, "secretHash")
		if strings.Contains(hash, "secret") {
			t.Fatal("hash contains the secret")
		}
	})
	t.Run("R21 name is required", func(t *testing.T) {
		got, err := Given[token.State]().Issue(token.Issue{TokenID: "k3", UserID: "u2", Name: " ", SecretHash: hash, IssuedAt: at})
		ThenError(t, got, err, domain.ErrInvalidInput, "name")
	})
	t.Run("R21 revoke", func(t *testing.T) {
		s := Given[token.State](issued)
		got, err := s.Revoke()
		ThenEvents(t, got, err, token.ApiTokenRevoked{TokenID: "k1", UserID: "u2", TenantID: "t1"})
		if Apply(s, got...).Active() {
			t.Fatal("got active, want revoked")
		}
		got, err = Given[token.State]().Revoke()
		ThenError(t, got, err, domain.ErrNotFound, "")
	})
}
