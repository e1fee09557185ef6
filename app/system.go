package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/system"
)

var systemRef = domain.StreamRef{Kind: domain.StreamSystem, ID: "system"}

// ConfigureSystemServer stores the system mail server's settings (R4).
func (s *Service) ConfigureSystemServer(ctx context.Context, in ServerSettingsInput) (Result, error) {
	settings, err := s.settings(StreamID(systemRef), in)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var sys system.State
		if err := a.load(ctx, systemRef.Kind, systemRef.ID, &sys); err != nil {
			return nil, err
		}
		events, err := sys.Configure(settings)
		return one(systemRef.Kind, systemRef.ID, events), err
	})
}

// SetSystemServerEnabled is the master switch (R1).
func (s *Service) SetSystemServerEnabled(ctx context.Context, enabled bool) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var sys system.State
		if err := a.load(ctx, systemRef.Kind, systemRef.ID, &sys); err != nil {
			return nil, err
		}
		events, err := sys.SetEnabled(enabled)
		return one(systemRef.Kind, systemRef.ID, events), err
	})
}

// ConfigureSupport sets the support address and switches (R7).
func (s *Service) ConfigureSupport(ctx context.Context, address *string, allowTenantAddress, attachSystemInfo bool) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var sys system.State
		if err := a.load(ctx, systemRef.Kind, systemRef.ID, &sys); err != nil {
			return nil, err
		}
		events, err := sys.ConfigureSupport(address, allowTenantAddress, attachSystemInfo)
		return one(systemRef.Kind, systemRef.ID, events), err
	})
}

// System loads the system aggregate.
func (s *Service) System(ctx context.Context) (*system.State, error) {
	var sys system.State
	a := &attempt{svc: s, versions: map[domain.StreamRef]int64{}}
	return &sys, a.load(ctx, systemRef.Kind, systemRef.ID, &sys)
}
