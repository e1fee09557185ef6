package system

import "github.com/absender/absender/domain"

// SetEnabled flips the R1 master switch. It is accepted also before the
// server is configured; R1 keeps sending off until it is.
func (s *State) SetEnabled(enabled bool) ([]domain.Event, error) {
	if s.enabledSet && s.enabled == enabled {
		return nil, nil
	}
	return []domain.Event{SystemServerEnabledChanged{Enabled: enabled}}, nil
}
