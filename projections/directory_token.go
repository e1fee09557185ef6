package projections

import (
	"context"

	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/eventstore"
)

// applyToken applies the API token aggregate (R21) to rm_tokens: only
// the hash is stored.
func applyToken() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e token.ApiTokenIssued) error {
			return tx.Exec(ctx, `INSERT INTO rm_tokens (id, user_id, tenant_id, role, name, secret_hash, created_at, revoked)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.TokenID, nullString(e.UserID), nullString(e.TenantID), nullString(e.Role.String()), e.Name, e.SecretHash,
				e.IssuedAt.UTC().Format(TimeFormat), false)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e token.ApiTokenRevoked) error {
			return tx.Exec(ctx, `UPDATE rm_tokens SET revoked = ? WHERE id = ?`, true, e.TokenID)
		}),
	}
}
