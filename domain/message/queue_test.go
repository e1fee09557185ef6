package message_test

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	. "github.com/absender/absender/domain/internal/decidertest"
	"github.com/absender/absender/domain/message"
)

func attach(name string, data []byte) message.AttachmentDraft {
	return message.AttachmentDraft{Filename: name, ContentType: "application/octet-stream", ContentBase64: base64.StdEncoding.EncodeToString(data)}
}

func recipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%d@example.com", i)
	}
	return out
}

// TestR17_QueueOrderOfChecks: given the facts, Queue refuses a message
// with the first failing check in R17's order — the requester, R1/R2,
// From, Reply-To, then R22 and R5 field by field — and queues nothing.
func TestR17_QueueOrderOfChecks(t *testing.T) {
	exe := attach("x.exe", []byte("MZ\x90\x00"))
	tests := []struct {
		name  string
		world func(w *world)
		in    func(in *message.QueueInput)
		want  error
		field string
	}{
		{name: "R17 FORBIDDEN: a message is sent as a user", in: func(in *message.QueueInput) { in.UserID = "" },
			want: domain.ErrForbidden},
		{name: "R17 FORBIDDEN before SENDING_DISABLED", world: func(w *world) { w.system.Enabled = false },
			in: func(in *message.QueueInput) { in.UserID = "" }, want: domain.ErrForbidden},
		{name: "R34 an idempotency key with a control character is INVALID_INPUT idempotencyKey",
			in: func(in *message.QueueInput) { in.IdempotencyKey = "order\x0042" }, want: domain.ErrInvalidInput, field: "idempotencyKey"},
		{name: "R34 an idempotency key longer than its bound is INVALID_INPUT idempotencyKey",
			in: func(in *message.QueueInput) { in.IdempotencyKey = strings.Repeat("k", message.MaxIdempotencyKey+1) }, want: domain.ErrInvalidInput, field: "idempotencyKey"},
		{name: "R1 SENDING_DISABLED comes before FROM_NOT_ALLOWED", world: func(w *world) { w.system.Enabled = false },
			in: func(in *message.QueueInput) { in.Draft.From = "mallory@evil.example" }, want: domain.ErrSendingDisabled},
		{name: "R1 SENDING_DISABLED comes before a From that does not parse", world: func(w *world) { w.system.Enabled = false },
			in: func(in *message.QueueInput) { in.Draft.From = "not an address" }, want: domain.ErrSendingDisabled},
		{name: "R1 SENDING_DISABLED comes before R22", world: func(w *world) { w.system.Enabled = false },
			in: func(in *message.QueueInput) { in.Draft.Subject = "Hi\r\nBcc: x@evil.example" }, want: domain.ErrSendingDisabled},
		{name: "R2 R3 SENDING_DISABLED without a server the tenant may use", world: func(w *world) { w.policy.AllowSystemServer = false },
			want: domain.ErrSendingDisabled},
		{name: "R17 a From that does not parse is INVALID_INPUT from",
			in: func(in *message.QueueInput) { in.Draft.From = "not an address" }, want: domain.ErrInvalidInput, field: "from"},
		{name: "R17 R22 a From with CR LF in its name is INVALID_INPUT from, not stripped",
			in: func(in *message.QueueInput) { in.Draft.From = "celanio\r\nBcc: x@evil.example <info@celanio.com>" }, want: domain.ErrInvalidInput, field: "from"},
		{name: "R17 a Reply-To that does not parse is INVALID_INPUT replyTo",
			in: func(in *message.QueueInput) { in.Draft.ReplyTo = "nobody" }, want: domain.ErrInvalidInput, field: "replyTo"},
		{name: "R17 FROM_NOT_ALLOWED: no sender option",
			in: func(in *message.QueueInput) { in.Draft.From = "mallory@evil.example" }, want: domain.ErrFromNotAllowed},
		{name: "R17 FROM_NOT_ALLOWED: a display name no option has",
			in: func(in *message.QueueInput) { in.Draft.From = "Someone Else <info@celanio.com>" }, want: domain.ErrFromNotAllowed},
		{name: "R17 R20 FROM_NOT_ALLOWED: a blocked sender", world: func(w *world) { w.viewer.Blocked = true },
			want: domain.ErrFromNotAllowed},
		{name: "R17 FROM_NOT_ALLOWED before REPLY_TO_NOT_ALLOWED",
			in: func(in *message.QueueInput) {
				in.Draft.From, in.Draft.ReplyTo = "mallory@evil.example", "mallory@evil.example"
			}, want: domain.ErrFromNotAllowed},
		{name: "R17 FROM_NOT_ALLOWED before INVALID_INPUT",
			in: func(in *message.QueueInput) {
				in.Draft.From, in.Draft.Subject = "mallory@evil.example", "Hi\r\nBcc: x@evil.example"
			}, want: domain.ErrFromNotAllowed},
		{name: "R17 REPLY_TO_NOT_ALLOWED",
			in: func(in *message.QueueInput) { in.Draft.ReplyTo = "mallory@evil.example" }, want: domain.ErrReplyToNotAllowed},
		{name: "R17 REPLY_TO_NOT_ALLOWED before ATTACHMENT_FORBIDDEN",
			in: func(in *message.QueueInput) {
				in.Draft.ReplyTo, in.Draft.Attachments = "mallory@evil.example", []message.AttachmentDraft{exe}
			}, want: domain.ErrReplyToNotAllowed},
		{name: "R17 REPLY_TO_NOT_ALLOWED before INVALID_INPUT to",
			in: func(in *message.QueueInput) {
				in.Draft.ReplyTo, in.Draft.To = "mallory@evil.example", []string{"nobody"}
			}, want: domain.ErrReplyToNotAllowed},
		{name: "R22 INVALID_INPUT to: not an address",
			in: func(in *message.QueueInput) { in.Draft.To = []string{"not an address"} }, want: domain.ErrInvalidInput, field: "to"},
		{name: "R22 INVALID_INPUT to: no recipient at all",
			in: func(in *message.QueueInput) { in.Draft.To = nil }, want: domain.ErrInvalidInput, field: "to"},
		{name: "R22 INVALID_INPUT to: more than 100 recipients",
			in: func(in *message.QueueInput) { in.Draft.To = recipients(101) }, want: domain.ErrInvalidInput, field: "to"},
		{name: "R22 INVALID_INPUT cc",
			in: func(in *message.QueueInput) { in.Draft.Cc = []string{"bad@@dest.example"} }, want: domain.ErrInvalidInput, field: "cc"},
		{name: "R22 INVALID_INPUT bcc",
			in: func(in *message.QueueInput) { in.Draft.Bcc = []string{"nobody"} }, want: domain.ErrInvalidInput, field: "bcc"},
		{name: "R22 INVALID_INPUT subject with CR LF: header injection refused, not stripped",
			in: func(in *message.QueueInput) { in.Draft.Subject = "Hi\r\nBcc: x@evil.example" }, want: domain.ErrInvalidInput, field: "subject"},
		{name: "R22 INVALID_INPUT to before ATTACHMENT_FORBIDDEN (schema order)",
			in: func(in *message.QueueInput) {
				in.Draft.To, in.Draft.Attachments = []string{"not an address"}, []message.AttachmentDraft{exe}
			}, want: domain.ErrInvalidInput, field: "to"},
		{name: "R22 INVALID_INPUT subject before ATTACHMENT_FORBIDDEN (schema order)",
			in: func(in *message.QueueInput) {
				in.Draft.Subject, in.Draft.Attachments = "a\r\nb", []message.AttachmentDraft{exe}
			}, want: domain.ErrInvalidInput, field: "subject"},
		{name: "R22 ATTACHMENT_FORBIDDEN x.exe",
			in: func(in *message.QueueInput) { in.Draft.Attachments = []message.AttachmentDraft{exe} }, want: domain.ErrAttachmentForbidden},
		{name: "R5 an internationalised local part through a server without smtpUtf8 is INVALID_INPUT to",
			in: func(in *message.QueueInput) { in.Draft.To = []string{"山田太郎@株式.会社"} }, want: domain.ErrInvalidInput, field: "to"},
		{name: "R5 before the subject (schema order)",
			in: func(in *message.QueueInput) {
				in.Draft.Cc, in.Draft.Subject = []string{"山田太郎@株式.会社"}, "a\r\nb"
			}, want: domain.ErrInvalidInput, field: "cc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := defaultWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			in := message.QueueInput{MessageID: "m1", UserID: mustermann.UserID, Draft: draft(), Facts: w.facts()}
			if tc.in != nil {
				tc.in(&in)
			}
			got, err := message.Queue(in)
			ThenError(t, decided(got), err, tc.want, tc.field)
		})
	}
}

// decided are the events of a decision, none for the zero decision.
func decided(d message.Decision) []domain.Event {
	if reflect.DeepEqual(d, message.Decision{}) {
		return nil
	}
	return d.Events()
}

// TestR17_QueueAccepted: an accepted message is queued with the
// resolution R17 and R5 needed, recorded right after it (R23), and its
// content apart from the events (R25).
func TestR17_QueueAccepted(t *testing.T) {
	base := func(f message.Facts) message.TransportResolved {
		return message.TransportResolved{MessageID: "m1", TenantID: celanioID, Resolution: message.Resolution{
			Rule: message.RuleSystemServer, Transport: domain.TransportSystemServer,
			Skipped: []message.Skipped{{Candidate: "tenant server", Reason: "not configured"},
				{Candidate: "mailbox info@celanio.com (mb-info)", Reason: "has no own server settings (R16)"}},
			GrantedBy: "mailbox info@celanio.com without grants: open to the tenant's users (R11)",
			FromName:  "celanio Info", Versions: f.Versions}}
	}
	tests := []struct {
		name     string
		world    func(w *world)
		in       func(in *message.QueueInput)
		queued   func(q *message.MessageQueued)
		resolved func(r *message.TransportResolved)
		content  message.Content
	}{
		{name: "R17 R16 a bare From takes its option's name; through the system server (R2)",
			content: message.Content{Text: "Guten Tag"}},
		{name: "R23 the idempotency key is kept with the message",
			in:      func(in *message.QueueInput) { in.IdempotencyKey = "order-42" },
			queued:  func(q *message.MessageQueued) { q.IdempotencyKey = "order-42" },
			content: message.Content{Text: "Guten Tag"}},
		{name: "R17 a named From and a Reply-To option; R22 duplicates removed across to, cc and bcc",
			in: func(in *message.QueueInput) {
				in.Draft.From, in.Draft.ReplyTo = "celanio Info <info@celanio.com>", "support@celanio.com"
				in.Draft.Cc, in.Draft.Bcc = []string{"KUNDE@example.com", "chef@example.com"}, []string{"chef@example.com", "archiv@example.com"}
				in.Draft.HTML = "<p>Guten Tag</p>"
			},
			queued: func(q *message.MessageQueued) {
				q.FromNamed, q.ReplyTo = true, &message.Mailbox{Address: "support@celanio.com"}
				q.Cc, q.Bcc = []message.Mailbox{{Address: "chef@example.com"}}, []message.Mailbox{{Address: "archiv@example.com"}}
				q.Size += len("<p>Guten Tag</p>")
			},
			content: message.Content{Text: "Guten Tag", HTML: "<p>Guten Tag</p>"}},
		{name: "R5 an internationalised local part through a server with smtpUtf8; R2 the tenant server",
			world: func(w *world) { w.tenantServer = true },
			in:    func(in *message.QueueInput) { in.Draft.To = []string{"山田太郎@株式.会社"} },
			queued: func(q *message.MessageQueued) {
				q.To = []message.Mailbox{{Address: "山田太郎@株式.会社"}}
			},
			resolved: func(r *message.TransportResolved) {
				r.Resolution.Rule, r.Resolution.Transport, r.Resolution.SMTPUTF8 = message.RuleTenantServer, domain.TransportTenantServer, true
				r.Resolution.Skipped[0] = message.Skipped{Candidate: "system server", Reason: "the tenant's own server takes precedence (R2)"}
			},
			content: message.Content{Text: "Guten Tag"}},
		{name: "R22 attachments are decoded into the content and counted in the size",
			in: func(in *message.QueueInput) {
				in.Draft.Attachments = []message.AttachmentDraft{{Filename: "angebot.pdf", ContentType: "application/pdf", ContentBase64: base64.StdEncoding.EncodeToString([]byte("%PDF-1.7"))}}
			},
			queued: func(q *message.MessageQueued) { q.Size += len("%PDF-1.7") },
			content: message.Content{Text: "Guten Tag", Attachments: []message.Attachment{
				{Filename: "angebot.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7")}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := defaultWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			f := w.facts()
			in := message.QueueInput{MessageID: "m1", UserID: mustermann.UserID, Draft: draft(), Facts: f}
			if tc.in != nil {
				tc.in(&in)
			}
			q := message.MessageQueued{MessageID: "m1", TenantID: celanioID, UserID: mustermann.UserID, Kind: message.KindMessage,
				From: message.Mailbox{Name: "celanio Info", Address: "info@celanio.com"}, To: []message.Mailbox{{Address: "kunde@example.com"}},
				Cc: []message.Mailbox{}, Bcc: []message.Mailbox{}, Subject: "Angebot", Size: len("Angebot") + len("Guten Tag")}
			if tc.queued != nil {
				tc.queued(&q)
			}
			r := base(f)
			if tc.resolved != nil {
				tc.resolved(&r)
			}
			got, err := message.Queue(in)
			// A nil error interface, not a typed nil: err == nil holds.
			ThenEvents(t, got.Events(), err, q, r)
			if !reflect.DeepEqual(got.Content, tc.content) {
				t.Errorf("got content %+v, want %+v", got.Content, tc.content)
			}
		})
	}
}

// TestR17_AddressKeys: the facts Queue reads are the mailboxes with the
// From and Reply-To addresses, case-folded; none when they do not parse.
func TestR17_AddressKeys(t *testing.T) {
	got := message.AddressKeys(draft(func(d *message.Draft) { d.From, d.ReplyTo = "Info <INFO@celanio.com>", "support@celanio.com" }))
	if want := []string{"info@celanio.com", "support@celanio.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := message.AddressKeys(draft(func(d *message.Draft) { d.From = "not an address" })); got != nil {
		t.Errorf("got %q for a From that does not parse, want none", got)
	}
}
