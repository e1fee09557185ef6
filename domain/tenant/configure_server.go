package tenant

import "github.com/absender/absender/domain"

// ConfigureServer stores the tenant mail server settings (R4). It is
// refused with FORBIDDEN when the policy does not allow own servers (R3).
func (s *State) ConfigureServer(in domain.ServerSettingsInput) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if !s.policy.AllowOwnServer {
		return nil, domain.Forbidden("the tenant policy does not allow an own mail server")
	}
	settings, err := domain.NewServerSettings(in, s.server)
	if err != nil {
		return nil, err
	}
	return []domain.Event{TenantServerConfigured{TenantID: s.id, Settings: settings}}, nil
}
