package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/absender/absender/domain"
)

func TestErrorsMatchByCode(t *testing.T) {
	err := fmt.Errorf("add mailbox: %w", domain.QuotaExceeded("full"))
	if !errors.Is(err, domain.ErrQuotaExceeded) {
		t.Fatalf("errors.Is(%v, ErrQuotaExceeded) = false, want true", err)
	}
	if errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("errors.Is(%v, ErrAlreadyExists) = true, want false", err)
	}
	invalid := domain.InvalidInput("host", "bad")
	if !errors.Is(invalid, domain.ErrInvalidInput) || !errors.Is(invalid, &domain.Error{Code: domain.CodeInvalidInput, Field: "host"}) {
		t.Fatalf("errors.Is(%v, INVALID_INPUT[host]) = false, want true", invalid)
	}
	if errors.Is(invalid, &domain.Error{Code: domain.CodeInvalidInput, Field: "port"}) {
		t.Fatalf("errors.Is(%v, INVALID_INPUT[port]) = true, want false", invalid)
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeQuotaExceeded {
		t.Fatalf("errors.As got %v, want QUOTA_EXCEEDED", de)
	}
}

func TestRoles(t *testing.T) {
	for _, r := range domain.Roles() {
		got, err := domain.ParseRole(r.String())
		if err != nil || got != r {
			t.Fatalf("ParseRole(%q) = %v, %v; want %v", r, got, err, r)
		}
		if r.IsTenantRole() == r.IsSystemRole() {
			t.Fatalf("%v: tenant role %v, system role %v; want exactly one", r, r.IsTenantRole(), r.IsSystemRole())
		}
	}
	if _, err := domain.ParseRole("ROOT"); !errors.Is(err, domain.ErrInvalidInput) {
		t.Fatalf("ParseRole(ROOT) error = %v, want INVALID_INPUT", err)
	}
	if !domain.RoleLegalRepresentative.IsTenantAdmin() || !domain.RoleAdministrator.IsTenantAdmin() || domain.RoleEmployee.IsTenantAdmin() {
		t.Fatal("IsTenantAdmin: want true only for LEGAL_REPRESENTATIVE and ADMINISTRATOR")
	}
}
