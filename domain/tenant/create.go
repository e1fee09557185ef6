package tenant

import "github.com/absender/absender/domain"

// Create creates the tenant with the default policy. The name is a
// domain.NewName (R34; INVALID_INPUT, field name).
func (s *State) Create(tenantID, name string) ([]domain.Event, error) {
	if s.created {
		return nil, domain.AlreadyExists("tenantId", "tenant exists")
	}
	if tenantID == "" {
		return nil, domain.InvalidInput("tenantId", "tenant id is required")
	}
	name, err := domain.NewName("name", name)
	if err != nil {
		return nil, err
	}
	return []domain.Event{TenantCreated{TenantID: tenantID, Name: name, Policy: DefaultPolicy()}}, nil
}
