package user

import "github.com/absender/absender/domain"

// SetBlocked blocks or unblocks the user (R20). A blocked user keeps its
// history; read models refuse its tokens, empty its options and skip it in
// grants.
func (s *State) SetBlocked(blocked bool) ([]domain.Event, error) {
	if err := s.mustExist(); err != nil {
		return nil, err
	}
	if blocked == s.blocked {
		return nil, nil
	}
	return []domain.Event{UserBlockedChanged{UserID: s.id, TenantID: s.tenantID, Blocked: blocked}}, nil
}
