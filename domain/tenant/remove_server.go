package tenant

import "github.com/absender/absender/domain"

// RemoveServer removes the tenant mail server settings. It is allowed
// whatever the policy; without a server it changes nothing.
func (s *State) RemoveServer() ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if s.server == nil {
		return nil, nil
	}
	return []domain.Event{TenantServerRemoved{TenantID: s.id}}, nil
}
