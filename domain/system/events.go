package system

import "github.com/absender/absender/domain"

// SystemServerConfigured: the system mail server settings were stored (R4).
type SystemServerConfigured struct {
	Settings domain.ServerSettings `json:"settings"`
}

// SystemServerEnabledChanged: the R1 master switch changed.
type SystemServerEnabledChanged struct {
	Enabled bool `json:"enabled"`
}

// SupportConfigured: the R7 support settings changed.
type SupportConfigured struct {
	Address            string `json:"address,omitempty"`
	AllowTenantAddress bool   `json:"allowTenantAddress"`
	AttachSystemInfo   bool   `json:"attachSystemInfo"`
}

func (SystemServerConfigured) EventName() string     { return "SystemServerConfigured.v1" }
func (SystemServerEnabledChanged) EventName() string { return "SystemServerEnabledChanged.v1" }
func (SupportConfigured) EventName() string          { return "SupportConfigured.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event {
	return []domain.Event{SystemServerConfigured{}, SystemServerEnabledChanged{}, SupportConfigured{}}
}
