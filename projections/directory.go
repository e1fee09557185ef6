package projections

import (
	"context"
	"encoding/json"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/mailbox"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
	"github.com/absender/absender/domain/token"
	"github.com/absender/absender/domain/user"
	"github.com/absender/absender/eventstore"
)

// Directory is the read model of the configuration: system server,
// tenants, users, groups and memberships, mailboxes with their grants, the
// per-user access rows behind the option lists (R11/R12), and API tokens.
type Directory struct{}

// Name is the consumer group.
func (Directory) Name() string { return "directory" }

// Handles says the directory ignores message events (the send saga's).
func (Directory) Handles(rec eventstore.Record) bool {
	return rec.StreamType != string(message.StreamKind)
}

// Settings is the stored, secret-free view of server settings (SPEC §3:
// secrets only as hasPassword/hasGraphClientSecret).
type Settings struct {
	Host                 string `json:"host,omitempty"`
	Port                 int    `json:"port,omitempty"`
	Encryption           string `json:"encryption"`
	Auth                 string `json:"auth"`
	Username             string `json:"username,omitempty"`
	HasPassword          bool   `json:"hasPassword"`
	GraphTenantID        string `json:"graphTenantId,omitempty"`
	GraphClientID        string `json:"graphClientId,omitempty"`
	HasGraphClientSecret bool   `json:"hasGraphClientSecret"`
	SenderAddress        string `json:"senderAddress"`
	SenderName           string `json:"senderName,omitempty"`
	SMTPUTF8             bool   `json:"smtpUtf8"`
}

func settingsJSON(s domain.ServerSettings) string {
	b, _ := json.Marshal(Settings{
		Host: s.Host, Port: s.Port, Encryption: s.Encryption.String(), Auth: s.Auth.String(), Username: s.Username,
		HasPassword: s.HasPassword(), GraphTenantID: s.GraphTenantID, GraphClientID: s.GraphClientID,
		HasGraphClientSecret: s.HasGraphClientSecret(), SenderAddress: s.SenderAddress, SenderName: s.SenderName,
		SMTPUTF8: s.SMTPUTF8,
	})
	return string(b)
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Apply updates the directory for one event.
func (Directory) Apply(ctx context.Context, tx Tx, rec eventstore.Record) error {
	seq := rec.Position.Offset
	switch e := rec.Event.(type) {
	// System (R1, R7)
	case system.SystemServerConfigured:
		return tx.Exec(ctx, `INSERT INTO rm_system (id, configured, settings) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET configured = excluded.configured, settings = excluded.settings`, true, settingsJSON(e.Settings))
	case system.SystemServerEnabledChanged:
		return tx.Exec(ctx, `INSERT INTO rm_system (id, enabled) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled`, e.Enabled)
	case system.SupportConfigured:
		return tx.Exec(ctx, `INSERT INTO rm_system (id, support_address, allow_tenant_address, attach_system_info) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET support_address = excluded.support_address,
				allow_tenant_address = excluded.allow_tenant_address, attach_system_info = excluded.attach_system_info`,
			nullString(e.Address), e.AllowTenantAddress, e.AttachSystemInfo)

	// Tenants (R3, R10, R15)
	case tenant.TenantCreated:
		p := e.Policy
		return tx.Exec(ctx, `INSERT INTO rm_tenants (id, name, sort_key, search_key, allow_system_server, allow_own_server, mailbox_quota,
				user_address_as_sender, duplicate_policy, bulk_limit_lifted, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.TenantID, e.Name, Fold(e.Name), "", p.AllowSystemServer, p.AllowOwnServer, p.MailboxQuota, p.UserAddressAsSender,
			p.DuplicatePolicy.String(), p.BulkLimitLifted, seq)
	case tenant.TenantPolicyChanged:
		p := e.Policy
		return tx.Exec(ctx, `UPDATE rm_tenants SET allow_system_server = ?, allow_own_server = ?, mailbox_quota = ?,
				user_address_as_sender = ?, duplicate_policy = ?, bulk_limit_lifted = ? WHERE id = ?`,
			p.AllowSystemServer, p.AllowOwnServer, p.MailboxQuota, p.UserAddressAsSender, p.DuplicatePolicy.String(),
			p.BulkLimitLifted, e.TenantID)
	case tenant.TenantServerConfigured:
		return tx.Exec(ctx, `UPDATE rm_tenants SET server = ? WHERE id = ?`, settingsJSON(e.Settings), e.TenantID)
	case tenant.TenantServerRemoved:
		return tx.Exec(ctx, `UPDATE rm_tenants SET server = NULL WHERE id = ?`, e.TenantID)
	case tenant.TenantSupportAddressSet:
		return tx.Exec(ctx, `UPDATE rm_tenants SET support_address = ? WHERE id = ?`, nullString(e.Address), e.TenantID)

	// Users (R18, R20)
	case user.UserCreated:
		return tx.Exec(ctx, `INSERT INTO rm_users (id, tenant_id, login_name, display_name, email, email_key, role, blocked, seq,
				sort_key, search_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.UserID, e.TenantID, e.LoginName, e.DisplayName, e.Email, e.EmailKey, e.Role.String(), false, seq,
			Fold(e.DisplayName), userSearchKey(e.LoginName, e.Email))
	case user.UserUpdated:
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
	case user.UserBlockedChanged:
		return tx.Exec(ctx, `UPDATE rm_users SET blocked = ? WHERE id = ?`, e.Blocked, e.UserID)
	case user.UserDeleted:
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

	// Groups and memberships (R18)
	case group.GroupCreated:
		return tx.Exec(ctx, `INSERT INTO rm_groups (id, tenant_id, name, seq, sort_key, search_key) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.GroupID, e.TenantID, e.Name, seq, Fold(e.Name), "")
	case group.GroupDeleted:
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
	case group.GroupMemberAdded:
		if err := tx.Exec(ctx, `INSERT INTO rm_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, e.GroupID, e.UserID); err != nil {
			return err
		}
		// The new member gets the group's mailboxes.
		return tx.Exec(ctx, `INSERT INTO rm_access (user_id, mailbox_id, via)
			SELECT ?, mailbox_id, grantee_id FROM rm_mailbox_grants WHERE grantee_kind = 'group' AND grantee_id = ?
			ON CONFLICT DO NOTHING`, e.UserID, e.GroupID)
	case group.GroupMemberRemoved:
		if err := tx.Exec(ctx, `DELETE FROM rm_group_members WHERE group_id = ? AND user_id = ?`, e.GroupID, e.UserID); err != nil {
			return err
		}
		return tx.Exec(ctx, `DELETE FROM rm_access WHERE user_id = ? AND via = ?`, e.UserID, e.GroupID)

	// Mailboxes and grants (R9, R11, R12)
	case mailbox.MailboxAdded:
		var settings *string
		if e.Settings != nil {
			s := settingsJSON(*e.Settings)
			settings = &s
		}
		return tx.Exec(ctx, `INSERT INTO rm_mailboxes (id, tenant_id, address, address_key, display_name, sender, reply_to, global, settings, grant_count, seq,
				sort_key, search_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.MailboxID, e.TenantID, e.Address, e.AddressKey, e.DisplayName, e.Sender, e.ReplyTo, e.Global, settings, seq,
			Fold(e.DisplayName), Fold(e.Address))
	case mailbox.MailboxUpdated:
		return tx.Exec(ctx, `UPDATE rm_mailboxes SET display_name = ?, sort_key = ?, sender = ?, reply_to = ? WHERE id = ?`,
			e.DisplayName, Fold(e.DisplayName), e.Sender, e.ReplyTo, e.MailboxID)
	case mailbox.MailboxSettingsConfigured:
		return tx.Exec(ctx, `UPDATE rm_mailboxes SET settings = ? WHERE id = ?`, settingsJSON(e.Settings), e.MailboxID)
	case mailbox.MailboxSettingsRemoved:
		return tx.Exec(ctx, `UPDATE rm_mailboxes SET settings = NULL WHERE id = ?`, e.MailboxID)
	case mailbox.MailboxGlobalChanged:
		if err := tx.Exec(ctx, `UPDATE rm_mailboxes SET global = ? WHERE id = ?`, e.Global, e.MailboxID); err != nil {
			return err
		}
		return revokeGrants(ctx, tx, e.MailboxID, e.RevokedUsers, e.RevokedGroups)
	case mailbox.MailboxRestrictionChanged:
		if err := tx.Exec(ctx, `UPDATE rm_mailboxes SET restricted = ? WHERE id = ?`, e.Restricted, e.MailboxID); err != nil {
			return err
		}
		return revokeGrants(ctx, tx, e.MailboxID, e.RevokedUsers, e.RevokedGroups)
	case mailbox.MailboxUserGranted:
		if err := addGrant(ctx, tx, e.MailboxID, "user", e.UserID, e.UserTenantID, seq); err != nil {
			return err
		}
		return tx.Exec(ctx, `INSERT INTO rm_access (user_id, mailbox_id, via) VALUES (?, ?, 'user') ON CONFLICT DO NOTHING`, e.UserID, e.MailboxID)
	case mailbox.MailboxUserRevoked:
		return revokeGrant(ctx, tx, e.MailboxID, "user", e.UserID)
	case mailbox.MailboxGroupGranted:
		if err := addGrant(ctx, tx, e.MailboxID, "group", e.GroupID, e.GroupTenantID, seq); err != nil {
			return err
		}
		return tx.Exec(ctx, `INSERT INTO rm_access (user_id, mailbox_id, via)
			SELECT user_id, ?, group_id FROM rm_group_members WHERE group_id = ? ON CONFLICT DO NOTHING`, e.MailboxID, e.GroupID)
	case mailbox.MailboxGroupRevoked:
		return revokeGrant(ctx, tx, e.MailboxID, "group", e.GroupID)
	case mailbox.MailboxRemoved:
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

	// API tokens (R21): only the hash is stored.
	case token.ApiTokenIssued:
		return tx.Exec(ctx, `INSERT INTO rm_tokens (id, user_id, tenant_id, role, name, secret_hash, created_at, revoked)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			e.TokenID, nullString(e.UserID), nullString(e.TenantID), nullString(e.Role.String()), e.Name, e.SecretHash,
			e.IssuedAt.UTC().Format(TimeFormat), false)
	case token.ApiTokenRevoked:
		return tx.Exec(ctx, `UPDATE rm_tokens SET revoked = ? WHERE id = ?`, true, e.TokenID)
	}
	return nil
}

// TimeFormat is how times are stored (sortable text on both databases).
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

func addGrant(ctx context.Context, tx Tx, mailboxID, kind, granteeID, granteeTenant string, seq int64) error {
	if err := tx.Exec(ctx, `INSERT INTO rm_mailbox_grants (mailbox_id, grantee_kind, grantee_id, grantee_tenant_id, seq)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, mailboxID, kind, granteeID, granteeTenant, seq); err != nil {
		return err
	}
	return refreshGrantCount(ctx, tx, mailboxID)
}

// revokeGrants revokes a mailbox's grants to users and groups that one
// event lists (clearing global, opening a restricted mailbox).
func revokeGrants(ctx context.Context, tx Tx, mailboxID string, users, groups []string) error {
	for _, u := range users {
		if err := revokeGrant(ctx, tx, mailboxID, "user", u); err != nil {
			return err
		}
	}
	for _, g := range groups {
		if err := revokeGrant(ctx, tx, mailboxID, "group", g); err != nil {
			return err
		}
	}
	return nil
}

func revokeGrant(ctx context.Context, tx Tx, mailboxID, kind, granteeID string) error {
	if err := tx.Exec(ctx, `DELETE FROM rm_mailbox_grants WHERE mailbox_id = ? AND grantee_kind = ? AND grantee_id = ?`, mailboxID, kind, granteeID); err != nil {
		return err
	}
	var err error
	if kind == "user" {
		err = tx.Exec(ctx, `DELETE FROM rm_access WHERE mailbox_id = ? AND user_id = ? AND via = 'user'`, mailboxID, granteeID)
	} else {
		err = tx.Exec(ctx, `DELETE FROM rm_access WHERE mailbox_id = ? AND via = ?`, mailboxID, granteeID)
	}
	if err != nil {
		return err
	}
	return refreshGrantCount(ctx, tx, mailboxID)
}

// refreshGrantCount recounts instead of incrementing, so a redelivered
// event cannot skew the count (R11: a mailbox whose log has no
// MailboxRestrictionChanged is restricted while it has a grant).
func refreshGrantCount(ctx context.Context, tx Tx, mailboxID string) error {
	return tx.Exec(ctx, `UPDATE rm_mailboxes SET grant_count = (SELECT count(*) FROM rm_mailbox_grants g WHERE g.mailbox_id = rm_mailboxes.id) WHERE id = ?`, mailboxID)
}
