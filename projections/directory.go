package projections

import (
	"context"
	"encoding/json"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
	"github.com/absender/absender/domain/check"
	"github.com/absender/absender/domain/group"
	"github.com/absender/absender/domain/login"
	"github.com/absender/absender/domain/maildomain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/tenant"
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

// directoryApplies is the directory's dispatch table: one list of
// appliers per aggregate, each in its own file (directory_<aggregate>.go).
var directoryApplies = newApplyTable(applySystem(), applyTenant(), applyUser(), applyGroup(),
	applyMailbox(), applyToken())

// Apply updates the directory for one event.
func (Directory) Apply(ctx context.Context, tx Tx, rec eventstore.Record) error {
	return directoryApplies.apply(ctx, tx, rec)
}

// Applies lists the event types the directory applies.
func (Directory) Applies() []string { return directoryApplies.names() }

// Ignores lists the event types the directory leaves alone on purpose,
// with the reason.
func (Directory) Ignores() map[string]string {
	return merged(
		ignoring("the send saga's: the messages read model applies them", message.Events()...),
		ignoring("login-name claims only guard uniqueness; rm_users has the login name from UserCreated", login.Events()...),
		ignoring("mirrors the group or mailbox event the directory applies", user.UserJoinedGroup{}, user.UserLeftGroup{},
			user.UserMailboxGranted{}, user.UserMailboxRevoked{}, group.GroupMailboxGranted{}, group.GroupMailboxRevoked{}),
		ignoring("the tenant's address registry guards R9/R10 in the aggregate; rm_mailboxes has the mailbox from MailboxAdded",
			tenant.TenantMailboxRegistered{}, tenant.TenantMailboxUnregistered{}),
		ignoring("a connection check changes no configuration; the audit log records it", check.Events()...),
		ignoring("hosted accounts are not projected yet (issue 15)", account.Events()...),
		ignoring("hosted mail domains are not projected yet (issue 15)", maildomain.Events()...),
	)
}

// TimeFormat is how times are stored (sortable text on both databases).
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

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
