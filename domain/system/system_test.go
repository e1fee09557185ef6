package system_test

import (
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/system"
)

func ptr[T any](v T) *T { return &v }

var settings = domain.ServerSettings{Host: "smtp.example.com", Port: 25, Encryption: domain.EncryptionNone,
	Auth: domain.AuthNone, SenderAddress: "noreply@example.com"}

func input() domain.ServerSettingsInput {
	return domain.ServerSettingsInput{Host: ptr("smtp.example.com"), Encryption: domain.EncryptionNone,
		Auth: domain.AuthNone, SenderAddress: "noreply@example.com"}
}

func TestR1_SystemServer(t *testing.T) {
	t.Run("R1 first configuration also enables the server", func(t *testing.T) {
		s := Given[system.State]()
		got, err := s.Configure(input())
		ThenEvents(t, got, err, system.SystemServerConfigured{Settings: settings}, system.SystemServerEnabledChanged{Enabled: true})
		Apply(s, got...)
		if !s.Facts().Usable() {
			t.Fatalf("got facts %+v, want usable", s.Facts())
		}
	})
	t.Run("R1 a server disabled before configuration stays disabled", func(t *testing.T) {
		given := []domain.Event{system.SystemServerEnabledChanged{Enabled: false}}
		got, err := Given[system.State](given...).Configure(input())
		ThenEvents(t, got, err, system.SystemServerConfigured{Settings: settings})
	})
	t.Run("R1 disabling the master switch", func(t *testing.T) {
		s := Given[system.State](system.SystemServerConfigured{Settings: settings}, system.SystemServerEnabledChanged{Enabled: true})
		got, err := s.SetEnabled(false)
		ThenEvents(t, got, err, system.SystemServerEnabledChanged{Enabled: false})
		if Apply(s, got...).Facts().Usable() {
			t.Fatal("got usable, want not usable when disabled")
		}
	})
	t.Run("R1 enabling an unconfigured server is accepted but not usable", func(t *testing.T) {
		s := Given[system.State]()
		got, err := s.SetEnabled(true)
		ThenEvents(t, got, err, system.SystemServerEnabledChanged{Enabled: true})
		if Apply(s, got...).Facts().Usable() {
			t.Fatal("got usable, want not usable without configuration")
		}
	})
	t.Run("R4 invalid settings are refused and nothing is stored", func(t *testing.T) {
		given := []domain.Event{system.SystemServerConfigured{Settings: settings}}
		s := Given[system.State](given...)
		in := input()
		in.Port = ptr(0)
		got, err := s.Configure(in)
		ThenError(t, got, err, domain.ErrInvalidInput, "port")
		Unchanged(t, s, given...)
	})
}

func TestR7_SupportSettings(t *testing.T) {
	s := Given[system.State]()
	got, err := s.ConfigureSupport(ptr("Support@Example.com"), true, true)
	ThenEvents(t, got, err, system.SupportConfigured{Address: "Support@example.com", AllowTenantAddress: true, AttachSystemInfo: true})

	t.Run("R7 invalid support address is INVALID_INPUT field address", func(t *testing.T) {
		got, err := s.ConfigureSupport(ptr("support"), false, false)
		ThenError(t, got, err, domain.ErrInvalidInput, "address")
		Unchanged(t, s)
	})
}
