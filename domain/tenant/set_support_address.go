package tenant

import (
	"strings"

	"github.com/absender/absender/domain"
)

// SetSupportAddress sets (or, with nil or blank, clears) the tenant's own
// support address (R7). Setting one is FORBIDDEN unless the system's
// allowTenantAddress is on (passed in by the caller from the system
// aggregate); clearing is always allowed. An invalid address is
// INVALID_INPUT, field address.
func (s *State) SetSupportAddress(address *string, allowTenantAddress bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	var normalized string
	if address != nil && strings.TrimSpace(*address) != "" {
		if !allowTenantAddress {
			return nil, domain.Forbidden("the system does not allow tenant support addresses")
		}
		a, err := domain.NormalizeAddress(*address)
		if err != nil {
			return nil, domain.WithField(err, "address")
		}
		normalized = a.String()
	}
	if normalized == s.supportAddress {
		return nil, nil
	}
	return []domain.Event{TenantSupportAddressSet{TenantID: s.id, Address: normalized}}, nil
}
