package projections

import (
	"context"

	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/eventstore"
)

// applyTenant applies the tenant aggregate (R3, R10, R15) to rm_tenants.
func applyTenant() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e tenant.TenantCreated) error {
			p := e.Policy
			return tx.Exec(ctx, `INSERT INTO rm_tenants (id, name, sort_key, search_key, allow_system_server, allow_own_server, mailbox_quota,
				user_address_as_sender, duplicate_policy, bulk_limit_lifted, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.TenantID, e.Name, Fold(e.Name), "", p.AllowSystemServer, p.AllowOwnServer, p.MailboxQuota, p.UserAddressAsSender,
				p.DuplicatePolicy.String(), p.BulkLimitLifted, rec.Position.Offset)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e tenant.TenantPolicyChanged) error {
			p := e.Policy
			return tx.Exec(ctx, `UPDATE rm_tenants SET allow_system_server = ?, allow_own_server = ?, mailbox_quota = ?,
				user_address_as_sender = ?, duplicate_policy = ?, bulk_limit_lifted = ? WHERE id = ?`,
				p.AllowSystemServer, p.AllowOwnServer, p.MailboxQuota, p.UserAddressAsSender, p.DuplicatePolicy.String(),
				p.BulkLimitLifted, e.TenantID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e tenant.TenantServerConfigured) error {
			return tx.Exec(ctx, `UPDATE rm_tenants SET server = ? WHERE id = ?`, settingsJSON(e.Settings), e.TenantID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e tenant.TenantServerRemoved) error {
			return tx.Exec(ctx, `UPDATE rm_tenants SET server = NULL WHERE id = ?`, e.TenantID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e tenant.TenantSupportAddressSet) error {
			return tx.Exec(ctx, `UPDATE rm_tenants SET support_address = ? WHERE id = ?`, nullString(e.Address), e.TenantID)
		}),
	}
}
