package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/system"
)

var systemRef = domain.StreamRef{Kind: domain.StreamSystem, ID: "system"}

// System are the commands on the installation: the system mail server,
// its master switch and the support settings.
type System struct{ *core }

// ConfigureServer stores the system mail server's settings
// (configureSystemServer; R4).
func (s System) ConfigureServer(ctx context.Context, in ServerSettingsInput) (Result, error) {
	return command(ctx, s.core, "configureSystemServer", func(ctx context.Context) (Result, error) {
		settings, err := s.settings(StreamID(systemRef), in)
		if err != nil {
			return Result{}, err
		}
		return s.onSystem(ctx, func(sys *system.State) ([]domain.Event, error) { return sys.Configure(settings) })
	})
}

// SetServerEnabled is the master switch (setSystemServerEnabled; R1).
func (s System) SetServerEnabled(ctx context.Context, enabled bool) (Result, error) {
	return command(ctx, s.core, "setSystemServerEnabled", func(ctx context.Context) (Result, error) {
		return s.onSystem(ctx, func(sys *system.State) ([]domain.Event, error) { return sys.SetEnabled(enabled) })
	})
}

// ConfigureSupport sets the support address and switches
// (configureSupport; R7).
func (s System) ConfigureSupport(ctx context.Context, address *string, allowTenantAddress, attachSystemInfo bool) (Result, error) {
	return command(ctx, s.core, "configureSupport", func(ctx context.Context) (Result, error) {
		return s.onSystem(ctx, func(sys *system.State) ([]domain.Event, error) {
			return sys.ConfigureSupport(address, allowTenantAddress, attachSystemInfo)
		})
	})
}

func (s System) onSystem(ctx context.Context, decide func(*system.State) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var sys system.State
		if err := a.load(ctx, systemRef.Kind, systemRef.ID, &sys); err != nil {
			return nil, err
		}
		events, err := decide(&sys)
		return one(systemRef.Kind, systemRef.ID, events), err
	})
}
