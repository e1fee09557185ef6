package projections

import (
	"context"

	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/eventstore"
)

// applySystem applies the system aggregate (R1, R7) to rm_system.
func applySystem() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e system.SystemServerConfigured) error {
			return tx.Exec(ctx, `INSERT INTO rm_system (id, configured, settings) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET configured = excluded.configured, settings = excluded.settings`, true, settingsJSON(e.Settings))
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e system.SystemServerEnabledChanged) error {
			return tx.Exec(ctx, `INSERT INTO rm_system (id, enabled) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled`, e.Enabled)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e system.SupportConfigured) error {
			return tx.Exec(ctx, `INSERT INTO rm_system (id, support_address, allow_tenant_address, attach_system_info) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET support_address = excluded.support_address,
				allow_tenant_address = excluded.allow_tenant_address, attach_system_info = excluded.attach_system_info`,
				nullString(e.Address), e.AllowTenantAddress, e.AttachSystemInfo)
		}),
	}
}
