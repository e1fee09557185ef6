package app

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

// Tenants are the commands on tenants: creation, policy, their own mail
// server and support address.
type Tenants struct{ *core }

// Create creates a tenant with the default policy and returns its id
// (createTenant).
func (s Tenants) Create(ctx context.Context, name string) (string, Result, error) {
	return commandWithID(ctx, s.core, "createTenant", func(ctx context.Context) (string, Result, error) {
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
	})
}

// SetPolicy changes a tenant's policy (setTenantPolicy; R3, R10, R15;
// system administrators only).
func (s Tenants) SetPolicy(ctx context.Context, tenantID string, change tenant.PolicyChange) (Result, error) {
	return command(ctx, s.core, "setTenantPolicy", func(ctx context.Context) (Result, error) {
		return s.onTenant(ctx, tenantID, func(t *tenant.State) ([]domain.Event, error) {
			return t.ChangePolicy(RequestFrom(ctx).Actor, change)
		})
	})
}

// ConfigureServer stores a tenant's own mail server (configureTenantServer;
// R3, R4).
func (s Tenants) ConfigureServer(ctx context.Context, tenantID string, in ServerSettingsInput) (Result, error) {
	return command(ctx, s.core, "configureTenantServer", func(ctx context.Context) (Result, error) {
		settings, err := s.settings(StreamID(domain.StreamRef{Kind: domain.StreamTenant, ID: tenantID}), in)
		if err != nil {
			return Result{}, err
		}
		return s.onTenant(ctx, tenantID, func(t *tenant.State) ([]domain.Event, error) {
			return t.ConfigureServer(settings)
		})
	})
}

// RemoveServer removes a tenant's own mail server (removeTenantServer).
func (s Tenants) RemoveServer(ctx context.Context, tenantID string) (Result, error) {
	return command(ctx, s.core, "removeTenantServer", func(ctx context.Context) (Result, error) {
		return s.onTenant(ctx, tenantID, func(t *tenant.State) ([]domain.Event, error) {
			return t.RemoveServer()
		})
	})
}

// SetSupportAddress sets or clears (nil) a tenant's own support address,
// allowed only when the system allows it (setTenantSupportAddress; R7).
func (s Tenants) SetSupportAddress(ctx context.Context, tenantID string, address *string) (Result, error) {
	return command(ctx, s.core, "setTenantSupportAddress", func(ctx context.Context) (Result, error) {
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
	})
}

func (s Tenants) onTenant(ctx context.Context, tenantID string, decide func(*tenant.State) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, func(ctx context.Context, a *attempt) (domain.Changes, error) {
		t, err := a.loadTenant(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		events, err := decide(t)
		return one(domain.StreamTenant, tenantID, events), err
	})
}
