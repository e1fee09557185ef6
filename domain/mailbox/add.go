package mailbox

import (
	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
)

// AddMailbox mirrors addMailbox. Settings nil means not authenticated.
type AddMailbox struct {
	MailboxID   string
	Address     string
	DisplayName string
	Sender      bool
	ReplyTo     bool
	Global      bool
	Settings    *domain.ServerSettingsInput
}

// Add adds a mailbox to tenant t. Checks in R19 precedence: the tenant
// exists (NOT_FOUND); global needs a system administrator (FORBIDDEN, R12);
// INVALID_INPUT in schema order address, displayName, then the settings'
// fields (R4); then R9 (ALREADY_EXISTS, field address) and R10
// (QUOTA_EXCEEDED) through tenant.RegisterMailbox. It returns the tenant
// and mailbox events, appended together.
func Add(t *tenant.State, actor domain.Actor, cmd AddMailbox) (tenantEvents, mailboxEvents []domain.Event, err error) {
	if !t.Exists() {
		return nil, nil, domain.NotFound("tenant")
	}
	if cmd.Global && !actor.IsSystemAdmin() {
		return nil, nil, domain.Forbidden("only a system administrator makes a mailbox global")
	}
	address, err := domain.NormalizeAddress(cmd.Address)
	if err != nil {
		return nil, nil, domain.WithField(err, "address")
	}
	displayName, err := validDisplayName(cmd.DisplayName)
	if err != nil {
		return nil, nil, err
	}
	var settings *domain.ServerSettings
	if cmd.Settings != nil {
		s, err := domain.NewServerSettings(*cmd.Settings, nil)
		if err != nil {
			return nil, nil, err
		}
		settings = &s
	}
	tenantEvents, err = t.RegisterMailbox(cmd.MailboxID, address)
	if err != nil {
		return nil, nil, err
	}
	mailboxEvents = []domain.Event{MailboxAdded{MailboxID: cmd.MailboxID, TenantID: t.ID(),
		Address: address.String(), AddressKey: address.Key(), DisplayName: displayName,
		Sender: cmd.Sender, ReplyTo: cmd.ReplyTo, Global: cmd.Global, Settings: settings}}
	return tenantEvents, mailboxEvents, nil
}

func validDisplayName(s string) (string, error) { return domain.NewName("displayName", s) }
