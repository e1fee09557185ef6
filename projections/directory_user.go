package projections

import (
	"context"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
)

// applyUser applies the user aggregate (R18, R20) to rm_users.
func applyUser() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e user.UserCreated) error {
			return tx.Exec(ctx, `INSERT INTO rm_users (id, tenant_id, login_name, display_name, email, email_key, role, blocked, seq,
				sort_key, search_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.UserID, e.TenantID, e.LoginName, e.DisplayName, e.Email, e.EmailKey, e.Role.String(), false, rec.Position.Offset,
				Fold(e.DisplayName), userSearchKey(e.LoginName, e.Email))
		}),
		on(applyUserUpdated),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e user.UserBlockedChanged) error {
			return tx.Exec(ctx, `UPDATE rm_users SET blocked = ? WHERE id = ?`, e.Blocked, e.UserID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e user.UserDeleted) error {
			// The deletion's own events revoked grants and memberships first;
			// these deletes keep the model clean even without them.
			for _, q := range []string{
				`UPDATE rm_mailboxes SET grant_count = grant_count - 1
				WHERE id IN (SELECT mailbox_id FROM rm_mailbox_grants WHERE grantee_kind = 'user' AND grantee_id = ?)`,
				`DELETE FROM rm_access WHERE user_id = ?`,
				`DELETE FROM rm_group_members WHERE user_id = ?`,
				`DELETE FROM rm_mailbox_grants WHERE grantee_kind = 'user' AND grantee_id = ?`,
				`DELETE FROM rm_users WHERE id = ?`,
			} {
				if err := tx.Exec(ctx, q, e.UserID); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

func applyUserUpdated(ctx context.Context, tx Tx, _ eventstore.Record, e user.UserUpdated) error {
	if e.DisplayName != nil {
		if err := tx.Exec(ctx, `UPDATE rm_users SET display_name = ?, sort_key = ? WHERE id = ?`, *e.DisplayName, Fold(*e.DisplayName), e.UserID); err != nil {
			return err
		}
	}
	if e.Email != nil {
		key := domain.AddressKey(*e.Email)
		if e.EmailKey != nil {
			key = *e.EmailKey
		}
		if err := tx.Exec(ctx, `UPDATE rm_users SET email = ?, email_key = ? WHERE id = ?`, *e.Email, key, e.UserID); err != nil {
			return err
		}
		// The login name never changes; the search key is read back for it.
		var login []string
		if err := tx.Scan(ctx, &login, `SELECT login_name FROM rm_users WHERE id = ?`, e.UserID); err != nil {
			return err
		}
		if len(login) == 1 {
			if err := tx.Exec(ctx, `UPDATE rm_users SET search_key = ? WHERE id = ?`, userSearchKey(login[0], *e.Email), e.UserID); err != nil {
				return err
			}
		}
	}
	if e.Role != nil {
		return tx.Exec(ctx, `UPDATE rm_users SET role = ? WHERE id = ?`, e.Role.String(), e.UserID)
	}
	return nil
}
