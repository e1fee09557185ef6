package system

import "github.com/absender/absender/domain"

// Configure stores new system server settings (R4). On the first
// configuration, when the switch was never set, it also enables the server.
func (s *State) Configure(in domain.ServerSettingsInput) ([]domain.Event, error) {
	var previous *domain.ServerSettings
	if s.configured {
		previous = &s.settings
	}
	settings, err := domain.NewServerSettings(in, previous)
	if err != nil {
		return nil, err
	}
	events := []domain.Event{SystemServerConfigured{Settings: settings}}
	if !s.configured && !s.enabledSet {
		events = append(events, SystemServerEnabledChanged{Enabled: true})
	}
	return events, nil
}
