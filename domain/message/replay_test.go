package message_test

import (
	"encoding/base64"
	"testing"

	"github.com/absender/absender/domain/message"
)

// R23: a reused idempotency key with the same content (after
// normalisation) is a replay; with other content it is not.
func TestR23_SameContent(t *testing.T) {
	pdf := []byte("%PDF-1.4 offer")
	q := message.MessageQueued{MessageID: "m1", Kind: message.KindMessage,
		From: message.Mailbox{Name: "celanio Info", Address: "info@celanio.com"}, ReplyTo: &message.Mailbox{Address: "sales@celanio.com"},
		To: []message.Mailbox{{Address: "kunde@example.com"}}, Cc: []message.Mailbox{{Name: "Bob", Address: "bob@example.com"}},
		Subject: "Angebot", Text: &message.Part{Size: 5},
		Attachments: []message.AttachmentInfo{{Filename: "offer.pdf", ContentType: "application/pdf", Size: len(pdf)}}}
	stored := &message.Content{Text: "Hallo", Attachments: []message.Attachment{{Filename: "offer.pdf", ContentType: "application/pdf", Data: pdf}}}
	base := func() message.Draft {
		return message.Draft{From: "info@celanio.com", ReplyTo: "sales@celanio.com", To: []string{"kunde@example.com"},
			Cc: []string{"Bob <bob@example.com>"}, Subject: "Angebot", Text: "Hallo",
			Attachments: []message.AttachmentDraft{{Filename: "offer.pdf", ContentType: "application/pdf", ContentBase64: base64.StdEncoding.EncodeToString(pdf)}}}
	}
	tests := []struct {
		name   string
		change func(*message.Draft)
		purged bool
		want   bool
	}{
		{"the same draft", func(*message.Draft) {}, false, true},
		{"addresses in other case, a duplicate recipient", func(d *message.Draft) {
			d.From, d.To = "INFO@celanio.com", []string{"Kunde@Example.com", "kunde@example.com"}
			d.Bcc = []string{"KUNDE@example.com"}
		}, false, true},
		{"another recipient", func(d *message.Draft) { d.To = []string{"other@example.com"} }, false, false},
		{"a recipient moved from cc to to", func(d *message.Draft) { d.To, d.Cc = []string{"kunde@example.com", "Bob <bob@example.com>"}, nil }, false, false},
		{"another subject", func(d *message.Draft) { d.Subject = "Rechnung" }, false, false},
		{"another body", func(d *message.Draft) { d.Text = "Hallx" }, false, false},
		{"another attachment of the same size", func(d *message.Draft) {
			d.Attachments[0].ContentBase64 = base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 offeR"))
		}, false, false},
		{"no Reply-To", func(d *message.Draft) { d.ReplyTo = "" }, false, false},
		{"a named From", func(d *message.Draft) { d.From = "Info <info@celanio.com>" }, false, false},
		{"purged: the same sizes", func(*message.Draft) {}, true, true},
		{"purged: another body size", func(d *message.Draft) { d.Text = "Hallo!" }, true, false},
		{"an unparseable From", func(d *message.Draft) { d.From = "not an address" }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.change(&d)
			c := stored
			if tt.purged {
				c = nil
			}
			if got := message.SameContent(q, d, c); got != tt.want {
				t.Fatalf("got same content %v, want %v", got, tt.want)
			}
		})
	}
}
