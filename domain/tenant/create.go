package tenant

import (
	"strings"

	"github.com/absender/absender/domain"
)

// Create creates the tenant with the default policy. The name is required,
// trimmed, at most 200 characters and without control characters
// (INVALID_INPUT, field name).
func (s *State) Create(tenantID, name string) ([]domain.Event, error) {
	if s.created {
		return nil, domain.AlreadyExists("tenantId", "tenant exists")
	}
	if tenantID == "" {
		return nil, domain.InvalidInput("tenantId", "tenant id is required")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, domain.InvalidInput("name", "name is required")
	}
	if reason := domain.ValidDisplayName(name); reason != "" {
		return nil, domain.InvalidInput("name", "name "+reason)
	}
	return []domain.Event{TenantCreated{TenantID: tenantID, Name: name, Policy: DefaultPolicy()}}, nil
}
