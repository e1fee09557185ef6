package message

import (
	"fmt"

	"github.com/absender/absender/domain"
)

// testSubject is the subject of every test mail (R6).
const testSubject = "Absender test mail"

// QueueTestInput is what QueueTest decides on: the request and the facts
// about the server it names. Permission is the caller's to check.
type QueueTestInput struct {
	// MessageID is the new message's id.
	MessageID string
	// UserID is the requester ("" for a token without a user).
	UserID string
	// To is the recipient as the API received it.
	To string
	// TenantID and MailboxID name what is tested: neither for the system
	// server, TenantID for the tenant's server, MailboxID for an
	// authenticated mailbox (with TenantID, the tenant it must belong to).
	TenantID, MailboxID string

	// SystemServer is the system server's settings, nil when none are
	// configured (read for the system server).
	SystemServer *domain.ServerSettings
	// Tenant is the tenant TenantID names, nil when it does not exist
	// (read for the tenant's server).
	Tenant *TestTenant
	// Mailbox is the mailbox MailboxID names, nil when it does not exist
	// (read for a mailbox).
	Mailbox *TestMailbox
}

// TestTenant is what a test mail reads of a tenant.
type TestTenant struct {
	Name   string
	Server *domain.ServerSettings // nil when the tenant has no server of its own
}

// TestMailbox is what a test mail reads of a mailbox.
type TestMailbox struct {
	TenantID, Address string
	Settings          *domain.ServerSettings // nil when the mailbox has no own settings
}

// QueueTest decides a test mail (R6) to one address through the system
// server, a tenant's server or one of its authenticated mailboxes — also
// while R1–R3 would not use that server. In this order: the recipient's
// syntax (INVALID_INPUT to); the server (NOT_FOUND for a mailbox or
// tenant that does not exist, or a mailbox of another tenant than the one
// named; INVALID_INPUT mailboxId or tenantId when it has no settings); the
// server's sender address; R5 for the recipient. The saga resolves the
// message to its target (ResolveTest).
func QueueTest(in QueueTestInput) (Decision, error) {
	rcpt, _, err := ParseMailbox("to", in.To)
	if err != nil {
		return Decision{}, err
	}
	var (
		settings *domain.ServerSettings
		target   Target
		tenantID = in.TenantID
		where    string
	)
	switch {
	case in.MailboxID != "":
		m := in.Mailbox
		if m == nil || (in.TenantID != "" && m.TenantID != in.TenantID) {
			return Decision{}, domain.NotFound("mailbox")
		}
		if m.Settings == nil {
			return Decision{}, domain.InvalidInput("mailboxId", "the mailbox has no own server settings")
		}
		settings, target, tenantID, where = m.Settings, Target{Transport: domain.TransportMailbox, MailboxID: in.MailboxID}, m.TenantID, "the mailbox "+m.Address
	case in.TenantID != "":
		t := in.Tenant
		if t == nil {
			return Decision{}, domain.NotFound("tenant")
		}
		if t.Server == nil {
			return Decision{}, domain.InvalidInput("tenantId", "the tenant has no mail server of its own")
		}
		settings, target, where = t.Server, Target{Transport: domain.TransportTenantServer}, "the mail server of tenant "+t.Name
	default:
		if in.SystemServer == nil {
			return Decision{}, domain.InvalidInput("tenantId", "no system mail server is configured")
		}
		settings, target, where = in.SystemServer, Target{Transport: domain.TransportSystemServer}, "the system mail server"
	}
	from, _, err := ParseMailbox("senderAddress", settings.SenderAddress)
	if err != nil {
		return Decision{}, err
	}
	from.Name = settings.SenderName
	if err := CheckUTF8("to", rcpt.Address, settings.SMTPUTF8); err != nil {
		return Decision{}, err // R5
	}
	host := settings.Host
	if settings.Auth == domain.AuthMicrosoftGraph {
		host = "Microsoft Graph"
	}
	body := fmt.Sprintf("This is a test mail from Absender, sent through %s (%s).\n\nIf you can read this, the settings work.\n", where, host)
	q := MessageQueued{MessageID: in.MessageID, TenantID: tenantID, UserID: in.UserID, Kind: KindTest,
		From: from, To: []Mailbox{rcpt}, Subject: testSubject, Size: len(body) + len(testSubject), Target: &target}
	return Decision{Queued: q, Content: Content{Text: body}}, nil
}
