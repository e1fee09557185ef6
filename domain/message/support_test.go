package message_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/system"
)

// supportInput is Mustermann's support request in the world w, with the
// system's support address configured.
func supportInput(w world, change func(in *message.QueueSupportInput)) message.QueueSupportInput {
	in := message.QueueSupportInput{MessageID: "m1", UserID: mustermann.UserID, Subject: "Hilfe", Body: "Es geht nicht",
		Version: "1.2.3", Support: system.Support{Address: "support@absender.example"}, TenantName: "celanio", Facts: w.facts()}
	if change != nil {
		change(&in)
	}
	return in
}

// TestR7_QueueSupportRefused: given the facts, QueueSupport refuses in its
// order — the requester, R1/R2, subject and body, the support address —
// and queues nothing.
func TestR7_QueueSupportRefused(t *testing.T) {
	tests := []struct {
		name  string
		world func(w *world)
		in    func(in *message.QueueSupportInput)
		want  error
		field string
	}{
		{name: "R7 R19 FORBIDDEN: a support request is sent as a user", world: func(w *world) { w.system.Enabled = false },
			in: func(in *message.QueueSupportInput) { in.UserID = "" }, want: domain.ErrForbidden},
		{name: "R7 R1 SENDING_DISABLED before the subject", world: func(w *world) { w.system.Enabled = false },
			in: func(in *message.QueueSupportInput) { in.Subject = "Hi\r\nBcc: x@evil.example" }, want: domain.ErrSendingDisabled},
		{name: "R7 R2 SENDING_DISABLED before a missing support address", world: func(w *world) { w.policy.AllowSystemServer = false },
			in: func(in *message.QueueSupportInput) { in.Support.Address = "" }, want: domain.ErrSendingDisabled},
		{name: "R7 R22 INVALID_INPUT subject with CR LF: header injection refused",
			in: func(in *message.QueueSupportInput) { in.Subject, in.Support.Address = "Hi\r\nBcc: x@evil.example", "" }, want: domain.ErrInvalidInput, field: "subject"},
		{name: "R7 R34 INVALID_INPUT body with a control character",
			in: func(in *message.QueueSupportInput) { in.Body = "Es geht\x00 nicht" }, want: domain.ErrInvalidInput, field: "body"},
		{name: "R7 R22 INVALID_INPUT body larger than a body may be",
			in: func(in *message.QueueSupportInput) { in.Body = strings.Repeat("x", domain.MaxBody+1) }, want: domain.ErrInvalidInput, field: "body"},
		{name: "R7 without a support address: INVALID_INPUT supportAddress",
			in: func(in *message.QueueSupportInput) { in.Support.Address = "" }, want: domain.ErrInvalidInput, field: "supportAddress"},
		{name: "R7 the tenant's own address counts only while the system allows it",
			in: func(in *message.QueueSupportInput) {
				in.Support.Address, in.TenantSupportAddress = "", "help@celanio.com"
			},
			want: domain.ErrInvalidInput, field: "supportAddress"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := defaultWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			got, err := message.QueueSupport(supportInput(w, tc.in))
			ThenError(t, decided(got), err, tc.want, tc.field)
		})
	}
}

// TestR7_QueueSupportAccepted: a support request goes to the effective
// support address, From the system mailbox of the server the tenant
// resolves to (R8), Reply-To the user; the saga resolves it like any
// message of the user (no TransportResolved at queueing).
func TestR7_QueueSupportAccepted(t *testing.T) {
	tests := []struct {
		name  string
		world func(w *world)
		in    func(in *message.QueueSupportInput)
		from  message.Mailbox
		to    string
	}{
		{name: "R7 R8 to the system's support address, From the system server's sender",
			from: message.Mailbox{Name: "Absender", Address: "noreply@absender.example"}, to: "support@absender.example"},
		{name: "R7 the tenant's own support address when the system allows it",
			in: func(in *message.QueueSupportInput) {
				in.TenantSupportAddress, in.Support.AllowTenantAddress = "help@celanio.com", true
			},
			from: message.Mailbox{Name: "Absender", Address: "noreply@absender.example"}, to: "help@celanio.com"},
		{name: "R7 the system's address while the system does not allow tenant addresses",
			in:   func(in *message.QueueSupportInput) { in.TenantSupportAddress = "help@celanio.com" },
			from: message.Mailbox{Name: "Absender", Address: "noreply@absender.example"}, to: "support@absender.example"},
		{name: "R7 R8 From the tenant server's sender when the tenant resolves to it", world: func(w *world) { w.tenantServer = true },
			from: message.Mailbox{Name: "celanio System", Address: "system@celanio.com"}, to: "support@absender.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := defaultWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			got, err := message.QueueSupport(supportInput(w, tc.in))
			ThenEvents(t, got.Events(), err, message.MessageQueued{MessageID: "m1", TenantID: celanioID, UserID: mustermann.UserID, Kind: message.KindSupport,
				From: tc.from, ReplyTo: &message.Mailbox{Name: "Max Mustermann", Address: "max@celanio.com"}, To: []message.Mailbox{{Address: tc.to}},
				Subject: "Hilfe", Size: len("Hilfe") + len("Es geht nicht")})
			if want := (message.Content{Text: "Es geht nicht"}); !reflect.DeepEqual(got.Content, want) {
				t.Errorf("got content %+v, want %+v", got.Content, want)
			}
		})
	}
}

// TestR7_QueueSupportSystemInfo: with attachSystemInfo the request carries
// the product version and a configuration summary — never a secret.
func TestR7_QueueSupportSystemInfo(t *testing.T) {
	w := defaultWorld()
	w.tenantServer = true
	in := supportInput(w, func(in *message.QueueSupportInput) { in.Support.AttachSystemInfo = true })
	sys, ts := *in.Facts.SystemSettings, *in.Facts.TenantSettings
	sys.Auth, sys.Username, sys.Password = domain.AuthPassword, "relay", "relay-Secret-99"
	ts.Auth, ts.GraphTenantID, ts.GraphClientID, ts.GraphClientSecret = domain.AuthMicrosoftGraph, "dir-1", "client-1", "graph-Secret-42"
	in.Facts.SystemSettings, in.Facts.TenantSettings = &sys, &ts
	got, err := message.QueueSupport(in)
	if err != nil {
		t.Fatalf("got error %v, want a support request", err)
	}
	want := "Es geht nicht\n\n-- \n" +
		"Absender 1.2.3\n" +
		"Tenant: celanio (t-celanio)\n" +
		"User: Max Mustermann <max@celanio.com>, role EMPLOYEE\n" +
		"Effective transport: TENANT_SERVER\n" +
		"System server: smtp.absender.example port 587, STARTTLS, auth PASSWORD, sender noreply@absender.example, smtpUtf8 false\n" +
		"Tenant server: Microsoft Graph, sender system@celanio.com\n" +
		"Policy: allowSystemServer true, allowOwnServer true\n"
	if got.Content.Text != want {
		t.Errorf("got body\n%s\nwant\n%s", got.Content.Text, want)
	}
	if got.Queued.Size != len("Hilfe")+len(want) {
		t.Errorf("got size %d, want %d", got.Queued.Size, len("Hilfe")+len(want))
	}
	for _, secret := range []string{"relay-Secret-99", "graph-Secret-42"} {
		if strings.Contains(got.Content.Text, secret) {
			t.Errorf("got the secret %q in the support request", secret)
		}
	}
}
