package projections

import (
	"context"

	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/eventstore"
)

// applyGroup applies the group aggregate and its memberships (R18) to
// rm_groups, rm_group_members and the access rows they give.
func applyGroup() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e group.GroupCreated) error {
			return tx.Exec(ctx, `INSERT INTO rm_groups (id, tenant_id, name, seq, sort_key, search_key) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.GroupID, e.TenantID, e.Name, rec.Position.Offset, Fold(e.Name), "")
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e group.GroupDeleted) error {
			for _, q := range []string{
				`UPDATE rm_mailboxes SET grant_count = grant_count - 1
				WHERE id IN (SELECT mailbox_id FROM rm_mailbox_grants WHERE grantee_kind = 'group' AND grantee_id = ?)`,
				`DELETE FROM rm_access WHERE via = ?`,
				`DELETE FROM rm_group_members WHERE group_id = ?`,
				`DELETE FROM rm_mailbox_grants WHERE grantee_kind = 'group' AND grantee_id = ?`,
				`DELETE FROM rm_groups WHERE id = ?`,
			} {
				if err := tx.Exec(ctx, q, e.GroupID); err != nil {
					return err
				}
			}
			return nil
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e group.GroupMemberAdded) error {
			if err := tx.Exec(ctx, `INSERT INTO rm_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, e.GroupID, e.UserID); err != nil {
				return err
			}
			// The new member gets the group's mailboxes.
			return tx.Exec(ctx, `INSERT INTO rm_access (user_id, mailbox_id, via)
			SELECT ?, mailbox_id, grantee_id FROM rm_mailbox_grants WHERE grantee_kind = 'group' AND grantee_id = ?
			ON CONFLICT DO NOTHING`, e.UserID, e.GroupID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e group.GroupMemberRemoved) error {
			if err := tx.Exec(ctx, `DELETE FROM rm_group_members WHERE group_id = ? AND user_id = ?`, e.GroupID, e.UserID); err != nil {
				return err
			}
			return tx.Exec(ctx, `DELETE FROM rm_access WHERE user_id = ? AND via = ?`, e.UserID, e.GroupID)
		}),
	}
}
