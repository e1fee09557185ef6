package tenant_test

import (
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

func ptr[T any](v T) *T { return &v }

var (
	sysAdmin = domain.Actor{UserID: "root", Role: domain.RoleSystemAdmin}
	owner    = domain.Actor{UserID: "u1", TenantID: "t1", Role: domain.RoleLegalRepresentative}
	created  = tenant.TenantCreated{TenantID: "t1", Name: "celanio GmbH", Policy: tenant.DefaultPolicy()}
	server   = domain.ServerSettings{Host: "smtp.celanio.com", Port: 587, Encryption: domain.EncryptionSTARTTLS,
		Auth: domain.AuthNone, SenderAddress: "welcome@celanio.com"}
)

func serverInput() domain.ServerSettingsInput {
	return domain.ServerSettingsInput{Host: ptr("smtp.celanio.com"), Encryption: domain.EncryptionSTARTTLS,
		Auth: domain.AuthNone, SenderAddress: "welcome@celanio.com"}
}

func TestCreateTenant(t *testing.T) {
	got, err := Given[tenant.State]().Create("t1", "  celanio GmbH ")
	ThenEvents(t, got, err, created)

	for name, in := range map[string]string{"empty": " ", "too long": string(make([]rune, 201)), "control": "a\nb"} {
		t.Run("name "+name+" is INVALID_INPUT", func(t *testing.T) {
			got, err := Given[tenant.State]().Create("t1", in)
			ThenError(t, got, err, domain.ErrInvalidInput, "name")
		})
	}
}

func TestR3_Policy(t *testing.T) {
	t.Run("R3 R10 R15 defaults", func(t *testing.T) {
		p := tenant.DefaultPolicy()
		want := tenant.Policy{AllowSystemServer: true, AllowOwnServer: true, MailboxQuota: 1, DuplicatePolicy: tenant.PreferUser}
		if p != want {
			t.Fatalf("got %+v, want %+v", p, want)
		}
	})
	t.Run("R3 only a system administrator changes the policy", func(t *testing.T) {
		s := Given[tenant.State](created)
		got, err := s.ChangePolicy(owner, tenant.PolicyChange{AllowOwnServer: ptr(false)})
		ThenError(t, got, err, domain.ErrForbidden, "")
		Unchanged(t, s, created)
	})
	t.Run("R3 system administrator changes only the given fields", func(t *testing.T) {
		got, err := Given[tenant.State](created).ChangePolicy(sysAdmin, tenant.PolicyChange{MailboxQuota: ptr(3), DuplicatePolicy: ptr(tenant.ShowBoth)})
		want := tenant.DefaultPolicy()
		want.MailboxQuota, want.DuplicatePolicy = 3, tenant.ShowBoth
		ThenEvents(t, got, err, tenant.TenantPolicyChanged{TenantID: "t1", Policy: want})
	})
	t.Run("R10 negative quota is INVALID_INPUT", func(t *testing.T) {
		got, err := Given[tenant.State](created).ChangePolicy(sysAdmin, tenant.PolicyChange{MailboxQuota: ptr(-1)})
		ThenError(t, got, err, domain.ErrInvalidInput, "mailboxQuota")
	})
	t.Run("R3 unknown tenant is NOT_FOUND", func(t *testing.T) {
		got, err := Given[tenant.State]().ChangePolicy(sysAdmin, tenant.PolicyChange{})
		ThenError(t, got, err, domain.ErrNotFound, "")
	})
	t.Run("R3 configuring a tenant server is FORBIDDEN when allowOwnServer is false", func(t *testing.T) {
		p := tenant.DefaultPolicy()
		p.AllowOwnServer = false
		given := []domain.Event{created, tenant.TenantPolicyChanged{TenantID: "t1", Policy: p}}
		s := Given[tenant.State](given...)
		got, err := s.ConfigureServer(serverInput())
		ThenError(t, got, err, domain.ErrForbidden, "")
		Unchanged(t, s, given...)
	})
	t.Run("R3 R4 configuring a tenant server", func(t *testing.T) {
		got, err := Given[tenant.State](created).ConfigureServer(serverInput())
		ThenEvents(t, got, err, tenant.TenantServerConfigured{TenantID: "t1", Settings: server})
	})
	t.Run("R3 a disallowed server is ignored, not deleted, and effective again when allowed", func(t *testing.T) {
		usable := system.Facts{Configured: true, Enabled: true}
		s := Given[tenant.State](created, tenant.TenantServerConfigured{TenantID: "t1", Settings: server})
		off := tenant.DefaultPolicy()
		off.AllowOwnServer = false
		Apply(s, tenant.TenantPolicyChanged{TenantID: "t1", Policy: off})
		if _, ok := s.Server(); !ok || s.EffectiveTransport(usable) != domain.TransportSystemServer {
			t.Fatalf("got server kept %v, transport %v; want kept, SYSTEM_SERVER", ok, s.EffectiveTransport(usable))
		}
		Apply(s, tenant.TenantPolicyChanged{TenantID: "t1", Policy: tenant.DefaultPolicy()})
		if got := s.EffectiveTransport(usable); got != domain.TransportTenantServer {
			t.Fatalf("got %v, want TENANT_SERVER", got)
		}
	})
}

func TestR1_R2_EffectiveTransport(t *testing.T) {
	usable := system.Facts{Configured: true, Enabled: true}
	noSystem := tenant.DefaultPolicy()
	noSystem.AllowSystemServer = false
	noOwn := tenant.DefaultPolicy()
	noOwn.AllowOwnServer = false
	tests := []struct {
		name   string
		sys    system.Facts
		own    bool
		policy tenant.Policy
		want   domain.TransportKind
	}{
		{"R1 no system server configured: NONE even with a tenant server", system.Facts{Enabled: true}, true, tenant.DefaultPolicy(), domain.TransportNone},
		{"R1 system server disabled: NONE even with a tenant server", system.Facts{Configured: true}, true, tenant.DefaultPolicy(), domain.TransportNone},
		{"R2 own server allowed: TENANT_SERVER", usable, true, tenant.DefaultPolicy(), domain.TransportTenantServer},
		{"R2 no own server: SYSTEM_SERVER", usable, false, tenant.DefaultPolicy(), domain.TransportSystemServer},
		{"R2 own server not allowed: SYSTEM_SERVER", usable, true, noOwn, domain.TransportSystemServer},
		{"R2 no own server and system server not allowed: NONE", usable, false, noSystem, domain.TransportNone},
		{"R2 own server beats disallowed system server", usable, true, noSystem, domain.TransportTenantServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tenant.ResolveTransport(tt.sys, tt.own, tt.policy); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestR7_TenantSupportAddress(t *testing.T) {
	t.Run("R7 FORBIDDEN unless the system allows tenant addresses", func(t *testing.T) {
		s := Given[tenant.State](created)
		got, err := s.SetSupportAddress(ptr("help@celanio.com"), false)
		ThenError(t, got, err, domain.ErrForbidden, "")
		Unchanged(t, s, created)
	})
	t.Run("R7 allowed: set, and effective", func(t *testing.T) {
		s := Given[tenant.State](created)
		got, err := s.SetSupportAddress(ptr("help@celanio.com"), true)
		ThenEvents(t, got, err, tenant.TenantSupportAddressSet{TenantID: "t1", Address: "help@celanio.com"})
		Apply(s, got...)
		if a := tenant.EffectiveSupportAddress(s.OwnSupportAddress(), system.Support{Address: "sys@example.com", AllowTenantAddress: true}); a != "help@celanio.com" {
			t.Fatalf("got %q, want the tenant's", a)
		}
		if a := tenant.EffectiveSupportAddress(s.OwnSupportAddress(), system.Support{Address: "sys@example.com"}); a != "sys@example.com" {
			t.Fatalf("got %q, want the system's once disallowed", a)
		}
	})
	t.Run("R7 invalid address is INVALID_INPUT field address", func(t *testing.T) {
		got, err := Given[tenant.State](created).SetSupportAddress(ptr("help"), true)
		ThenError(t, got, err, domain.ErrInvalidInput, "address")
	})
}
