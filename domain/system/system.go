// Package system is the system mail server aggregate (one stream): its
// settings, the R1 master switch and the R7 support settings.
//
// Decisions where the SPEC is silent: enabling a server that is not yet
// configured is accepted (R1 still makes every transport NONE until it is
// configured); the first configuration of a server whose switch was never
// set also enables it, so configuring the system server is enough to send.
// Commands that change nothing return no events and no error.
package system

import "github.com/absender/absender/domain"

// State is the system mail server, rebuilt from its events.
type State struct {
	configured bool
	enabled    bool
	enabledSet bool
	settings   domain.ServerSettings
	support    Support
}

// Support are the R7 support settings. Address is "" when none is set.
type Support struct {
	Address            string `json:"address,omitempty"`
	AllowTenantAddress bool   `json:"allowTenantAddress"`
	AttachSystemInfo   bool   `json:"attachSystemInfo"`
}

// Facts are the R1 facts other aggregates and read models need.
type Facts struct {
	Configured bool
	Enabled    bool
}

// Usable reports whether mail may be sent at all (R1): a system server is
// configured and enabled.
func (f Facts) Usable() bool { return f.Configured && f.Enabled }

// Apply evolves the state by one event; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case SystemServerConfigured:
		s.configured, s.settings = true, e.Settings
	case SystemServerEnabledChanged:
		s.enabled, s.enabledSet = e.Enabled, true
	case SupportConfigured:
		s.support = Support{Address: e.Address, AllowTenantAddress: e.AllowTenantAddress, AttachSystemInfo: e.AttachSystemInfo}
	}
}

// Configured reports whether a system server is configured.
func (s *State) Configured() bool { return s.configured }

// Enabled reports the master switch (R1).
func (s *State) Enabled() bool { return s.enabled }

// Settings returns the stored settings, ok=false when none are configured.
func (s *State) Settings() (domain.ServerSettings, bool) { return s.settings, s.configured }

// Support returns the support settings (R7).
func (s *State) Support() Support { return s.support }

// Facts returns the R1 facts.
func (s *State) Facts() Facts { return Facts{Configured: s.configured, Enabled: s.enabled} }
