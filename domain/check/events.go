// Package check is the record of connection checks (checkMailServer): a
// check changes nothing, so its only trace is one event in the audit log,
// on a stream of its own ("check-<id>") that no configuration decision
// reads.
package check

import "github.com/absender/absender/domain"

// MailServerChecked: someone checked mail server settings (issue 11).
// Target is the TransportKind whose settings were checked (SYSTEM_SERVER,
// TENANT_SERVER or MAILBOX); Unsaved says the caller's unsaved settings
// were checked instead of the stored ones. Host is the SMTP host
// connected to (empty for Microsoft Graph). No secret, no server reply.
type MailServerChecked struct {
	TenantID   string `json:"tenantId,omitempty"`
	Target     string `json:"target"`
	MailboxID  string `json:"mailboxId,omitempty"`
	Unsaved    bool   `json:"unsaved"`
	Host       string `json:"host,omitempty"`
	OK         bool   `json:"ok"`
	FailedStep string `json:"failedStep,omitempty"`
}

func (MailServerChecked) EventName() string { return "MailServerChecked.v1" }

// Events returns a zero value of every event type of this package.
func Events() []domain.Event { return []domain.Event{MailServerChecked{}} }
