package projections

import (
	"context"

	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/eventstore"
)

// applyMailbox applies the mailbox aggregate and its grants (R9, R11,
// R12) to rm_mailboxes, rm_mailbox_grants and rm_access.
func applyMailbox() []applier {
	return []applier{
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e mailbox.MailboxAdded) error {
			var settings *string
			if e.Settings != nil {
				s := settingsJSON(*e.Settings)
				settings = &s
			}
			return tx.Exec(ctx, `INSERT INTO rm_mailboxes (id, tenant_id, address, address_key, display_name, sender, reply_to, global, settings, grant_count, seq,
				sort_key, search_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				e.MailboxID, e.TenantID, e.Address, e.AddressKey, e.DisplayName, e.Sender, e.ReplyTo, e.Global, settings, rec.Position.Offset,
				Fold(e.DisplayName), Fold(e.Address))
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxUpdated) error {
			return tx.Exec(ctx, `UPDATE rm_mailboxes SET display_name = ?, sort_key = ?, sender = ?, reply_to = ? WHERE id = ?`,
				e.DisplayName, Fold(e.DisplayName), e.Sender, e.ReplyTo, e.MailboxID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxSettingsConfigured) error {
			return tx.Exec(ctx, `UPDATE rm_mailboxes SET settings = ? WHERE id = ?`, settingsJSON(e.Settings), e.MailboxID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxSettingsRemoved) error {
			return tx.Exec(ctx, `UPDATE rm_mailboxes SET settings = NULL WHERE id = ?`, e.MailboxID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxGlobalChanged) error {
			if err := tx.Exec(ctx, `UPDATE rm_mailboxes SET global = ? WHERE id = ?`, e.Global, e.MailboxID); err != nil {
				return err
			}
			return revokeGrants(ctx, tx, e.MailboxID, e.RevokedUsers, e.RevokedGroups)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxRestrictionChanged) error {
			if err := tx.Exec(ctx, `UPDATE rm_mailboxes SET restricted = ? WHERE id = ?`, e.Restricted, e.MailboxID); err != nil {
				return err
			}
			return revokeGrants(ctx, tx, e.MailboxID, e.RevokedUsers, e.RevokedGroups)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e mailbox.MailboxUserGranted) error {
			if err := addGrant(ctx, tx, e.MailboxID, "user", e.UserID, e.UserTenantID, rec.Position.Offset); err != nil {
				return err
			}
			return tx.Exec(ctx, `INSERT INTO rm_access (user_id, mailbox_id, via) VALUES (?, ?, 'user') ON CONFLICT DO NOTHING`, e.UserID, e.MailboxID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxUserRevoked) error {
			return revokeGrant(ctx, tx, e.MailboxID, "user", e.UserID)
		}),
		on(func(ctx context.Context, tx Tx, rec eventstore.Record, e mailbox.MailboxGroupGranted) error {
			if err := addGrant(ctx, tx, e.MailboxID, "group", e.GroupID, e.GroupTenantID, rec.Position.Offset); err != nil {
				return err
			}
			return tx.Exec(ctx, `INSERT INTO rm_access (user_id, mailbox_id, via)
			SELECT user_id, ?, group_id FROM rm_group_members WHERE group_id = ? ON CONFLICT DO NOTHING`, e.MailboxID, e.GroupID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxGroupRevoked) error {
			return revokeGrant(ctx, tx, e.MailboxID, "group", e.GroupID)
		}),
		on(func(ctx context.Context, tx Tx, _ eventstore.Record, e mailbox.MailboxRemoved) error {
			for _, q := range []string{
				`DELETE FROM rm_access WHERE mailbox_id = ?`,
				`DELETE FROM rm_mailbox_grants WHERE mailbox_id = ?`,
				`DELETE FROM rm_mailboxes WHERE id = ?`,
			} {
				if err := tx.Exec(ctx, q, e.MailboxID); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

func addGrant(ctx context.Context, tx Tx, mailboxID, kind, granteeID, granteeTenant string, seq int64) error {
	if err := tx.Exec(ctx, `INSERT INTO rm_mailbox_grants (mailbox_id, grantee_kind, grantee_id, grantee_tenant_id, seq)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, mailboxID, kind, granteeID, granteeTenant, seq); err != nil {
		return err
	}
	return refreshGrantCount(ctx, tx, mailboxID)
}
