package history

import "github.com/absender/absender/domain/system"

// applySystem evolves the system server's facts (R1).
func applySystem() []applier {
	return []applier{
		on(func(m *Model, _ int64, e system.SystemServerConfigured) {
			m.system.Configured, m.sysSender = true, senderOf(e.Settings)
		}),
		on(func(m *Model, _ int64, e system.SystemServerEnabledChanged) {
			m.system.Enabled = e.Enabled
		}),
	}
}
