package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

// CreateTenant creates a tenant with the default policy and returns its id.
func (s *Service) CreateTenant(ctx context.Context, name string) (string, Result, error) {
	id := s.newID()
	res, err := s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var t tenant.State
		if err := a.load(ctx, domain.StreamTenant, id, &t); err != nil {
			return nil, err
		}
		events, err := t.Create(id, name)
		return one(domain.StreamTenant, id, events), err
	})
	return id, res, err
}

// SetTenantPolicy changes a tenant's policy (R3, R10, R15; system
// administrators only).
func (s *Service) SetTenantPolicy(ctx context.Context, tenantID string, change tenant.PolicyChange) (Result, error) {
	return s.onTenant(ctx, tenantID, func(t *tenant.State) ([]domain.Event, error) {
		return t.ChangePolicy(RequestFrom(ctx).Actor, change)
	})
}

// ConfigureTenantServer stores a tenant's own mail server (R3, R4).
func (s *Service) ConfigureTenantServer(ctx context.Context, tenantID string, in ServerSettingsInput) (Result, error) {
	settings, err := s.settings(StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID}), in)
	if err != nil {
		return Result{}, err
	}
	return s.onTenant(ctx, tenantID, func(t *tenant.State) ([]domain.Event, error) {
		return t.ConfigureServer(settings)
	})
}

// RemoveTenantServer removes a tenant's own mail server.
func (s *Service) RemoveTenantServer(ctx context.Context, tenantID string) (Result, error) {
	return s.onTenant(ctx, tenantID, func(t *tenant.State) ([]domain.Event, error) {
		return t.RemoveServer()
	})
}

// SetTenantSupportAddress sets or clears (nil) a tenant's own support
// address, allowed only when the system allows it (R7).
func (s *Service) SetTenantSupportAddress(ctx context.Context, tenantID string, address *string) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		var sys system.State
		var t tenant.State
		if err := a.load(ctx, domain.StreamSystem, "system", &sys); err != nil {
			return nil, err
		}
		if err := a.load(ctx, domain.StreamTenant, tenantID, &t); err != nil {
			return nil, err
		}
		events, err := t.SetSupportAddress(address, sys.Support().AllowTenantAddress)
		if err != nil {
			return nil, err
		}
		// The system stream is read, not written: a concurrent change of
		// allowTenantAddress does not conflict. The switch is checked
		// again on every use of the address (R7).
		return one(domain.StreamTenant, tenantID, events), nil
	})
}

func (s *Service) onTenant(ctx context.Context, tenantID string, decide func(*tenant.State) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		t, err := a.loadTenant(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		events, err := decide(t)
		return one(domain.StreamTenant, tenantID, events), err
	})
}

// Tenant loads a tenant aggregate.
func (s *Service) Tenant(ctx context.Context, tenantID string) (*tenant.State, error) {
	var t tenant.State
	a := &attempt{svc: s, versions: map[domain.StreamRef]int64{}}
	return &t, a.load(ctx, domain.StreamTenant, tenantID, &t)
}
