package message_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/message"
)

// testMailInput is a test mail in a world with the system server configured,
// tenant celanio with its server, the authenticated mailbox welcome and
// the mailbox info without settings.
func testMailInput(change func(in *message.QueueTestInput)) message.QueueTestInput {
	sys, ts, ws := systemSettings, tenantSettings, welcomeSettings
	in := message.QueueTestInput{MessageID: "m1", UserID: "u-admin", To: "pruefung@example.com", SystemServer: &sys}
	if change != nil {
		change(&in)
	}
	switch {
	case in.Mailbox != nil || in.Tenant != nil:
		// the case gave the facts itself
	case in.MailboxID == welcomeMailbox.MailboxID:
		in.Mailbox = &message.TestMailbox{TenantID: celanioID, Address: welcomeMailbox.Address, Settings: &ws}
	case in.MailboxID == infoMailbox.MailboxID:
		in.Mailbox = &message.TestMailbox{TenantID: celanioID, Address: infoMailbox.Address}
	case in.MailboxID == "" && in.TenantID == celanioID:
		in.Tenant = &message.TestTenant{Name: "celanio", Server: &ts}
	}
	return in
}

// TestR6_QueueTestRefused: given the server's facts, QueueTest refuses in
// its order — the recipient, the server, R5 — and queues nothing.
func TestR6_QueueTestRefused(t *testing.T) {
	tests := []struct {
		name  string
		in    func(in *message.QueueTestInput)
		want  error
		field string
	}{
		{"R6 an invalid recipient is INVALID_INPUT to", func(in *message.QueueTestInput) { in.To = "nobody" }, domain.ErrInvalidInput, "to"},
		{"R6 R22 a recipient with CR LF is INVALID_INPUT to", func(in *message.QueueTestInput) { in.To = "a@example.com\r\nBcc: x@evil.example" }, domain.ErrInvalidInput, "to"},
		{"R6 the recipient comes before the server", func(in *message.QueueTestInput) { in.To, in.MailboxID = "nobody", "mb-gone" }, domain.ErrInvalidInput, "to"},
		{"R6 no system server configured: INVALID_INPUT tenantId", func(in *message.QueueTestInput) { in.SystemServer = nil }, domain.ErrInvalidInput, "tenantId"},
		{"R6 R19 a tenant that does not exist is NOT_FOUND", func(in *message.QueueTestInput) { in.TenantID = "t-gone" }, domain.ErrNotFound, ""},
		{"R6 a tenant without a server: INVALID_INPUT tenantId", func(in *message.QueueTestInput) {
			in.TenantID = celanioID
			in.Tenant = &message.TestTenant{Name: "celanio"}
		}, domain.ErrInvalidInput, "tenantId"},
		{"R6 R19 a mailbox that does not exist is NOT_FOUND", func(in *message.QueueTestInput) { in.MailboxID = "mb-gone" }, domain.ErrNotFound, ""},
		{"R6 R19 another tenant's mailbox is NOT_FOUND", func(in *message.QueueTestInput) {
			in.TenantID, in.MailboxID = "t-other", welcomeMailbox.MailboxID
		}, domain.ErrNotFound, ""},
		{"R6 a mailbox without own settings: INVALID_INPUT mailboxId", func(in *message.QueueTestInput) { in.MailboxID = infoMailbox.MailboxID }, domain.ErrInvalidInput, "mailboxId"},
		{"R6 R5 an internationalised local part through a server without smtpUtf8 is INVALID_INPUT to",
			func(in *message.QueueTestInput) { in.To = "山田太郎@株式.会社" }, domain.ErrInvalidInput, "to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := message.QueueTest(testMailInput(tc.in))
			ThenError(t, decided(got), err, tc.want, tc.field)
		})
	}
}

// TestR6_QueueTestAccepted: a test mail goes to its target, whatever R1–R3
// say (the facts hold no R1–R3 at all), From the server's sender; the saga
// resolves it to the target (no TransportResolved at queueing).
func TestR6_QueueTestAccepted(t *testing.T) {
	graph := domain.ServerSettings{Auth: domain.AuthMicrosoftGraph, SenderAddress: "noreply@absender.example", SenderName: "Absender"}
	tests := []struct {
		name   string
		in     func(in *message.QueueTestInput)
		tenant string
		from   message.Mailbox
		to     string
		target message.Target
		where  string
	}{
		{"R6 the system server", nil, "", message.Mailbox{Name: "Absender", Address: "noreply@absender.example"}, "pruefung@example.com",
			message.Target{Transport: domain.TransportSystemServer}, "the system mail server (smtp.absender.example)"},
		{"R6 the system server through Microsoft Graph names no host", func(in *message.QueueTestInput) { in.SystemServer = &graph }, "",
			message.Mailbox{Name: "Absender", Address: "noreply@absender.example"}, "pruefung@example.com",
			message.Target{Transport: domain.TransportSystemServer}, "the system mail server (Microsoft Graph)"},
		{"R6 the tenant's own server", func(in *message.QueueTestInput) { in.TenantID = celanioID }, celanioID,
			message.Mailbox{Name: "celanio System", Address: "system@celanio.com"}, "pruefung@example.com",
			message.Target{Transport: domain.TransportTenantServer}, "the mail server of tenant celanio (smtp.celanio.com)"},
		{"R6 an authenticated mailbox, its tenant taken from the mailbox", func(in *message.QueueTestInput) { in.MailboxID = welcomeMailbox.MailboxID }, celanioID,
			message.Mailbox{Address: "welcome@celanio.com"}, "pruefung@example.com",
			message.Target{Transport: domain.TransportMailbox, MailboxID: welcomeMailbox.MailboxID}, "the mailbox welcome@celanio.com (mail.celanio.com)"},
		{"R6 R5 an internationalised local part through a server with smtpUtf8", func(in *message.QueueTestInput) {
			in.TenantID, in.To = celanioID, "山田太郎@株式.会社"
		}, celanioID, message.Mailbox{Name: "celanio System", Address: "system@celanio.com"}, "山田太郎@株式.会社",
			message.Target{Transport: domain.TransportTenantServer}, "the mail server of tenant celanio (smtp.celanio.com)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := message.QueueTest(testMailInput(tc.in))
			body := "This is a test mail from Absender, sent through " + tc.where + ".\n\nIf you can read this, the settings work.\n"
			target := tc.target
			ThenEvents(t, got.Events(), err, message.MessageQueued{MessageID: "m1", TenantID: tc.tenant, UserID: "u-admin", Kind: message.KindTest,
				From: tc.from, To: []message.Mailbox{{Address: tc.to}}, Subject: "Absender test mail", Size: len(body) + len("Absender test mail"), Target: &target})
			if want := (message.Content{Text: body}); !reflect.DeepEqual(got.Content, want) {
				t.Errorf("got content %+v, want %+v", got.Content, want)
			}
			if strings.Contains(got.Content.Text, string(welcomeSettings.Password)) {
				t.Errorf("got a secret in the test mail %q", got.Content.Text)
			}
		})
	}
}
