package history

import "github.com/absender/absender/domain/tenant"

// applyTenant evolves the tenants' policies and servers (R2, R3, R8).
func applyTenant() []applier {
	return []applier{
		on(func(m *Model, _ int64, e tenant.TenantCreated) {
			m.tenants[e.TenantID] = &tenantState{name: e.Name, policy: e.Policy}
		}),
		on(func(m *Model, _ int64, e tenant.TenantPolicyChanged) {
			if t := m.tenants[e.TenantID]; t != nil {
				t.policy = e.Policy
			}
		}),
		on(func(m *Model, _ int64, e tenant.TenantServerConfigured) {
			if t := m.tenants[e.TenantID]; t != nil {
				t.hasServer, t.sender = true, senderOf(e.Settings)
			}
		}),
		on(func(m *Model, _ int64, e tenant.TenantServerRemoved) {
			if t := m.tenants[e.TenantID]; t != nil {
				t.hasServer, t.sender = false, [2]string{}
			}
		}),
	}
}
