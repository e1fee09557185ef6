package system

import (
	"strings"

	"github.com/absender/absender/domain"
)

// ConfigureSupport sets the R7 support settings. A nil or blank address
// clears it; otherwise it must be a valid address (INVALID_INPUT, field
// "address").
func (s *State) ConfigureSupport(address *string, allowTenantAddress, attachSystemInfo bool) ([]domain.Event, error) {
	e := SupportConfigured{AllowTenantAddress: allowTenantAddress, AttachSystemInfo: attachSystemInfo}
	if address != nil && strings.TrimSpace(*address) != "" {
		a, err := domain.NormalizeAddress(*address)
		if err != nil {
			return nil, domain.WithField(err, "address")
		}
		e.Address = a.String()
	}
	if (Support{Address: e.Address, AllowTenantAddress: e.AllowTenantAddress, AttachSystemInfo: e.AttachSystemInfo}) == s.support {
		return nil, nil
	}
	return []domain.Event{e}, nil
}
