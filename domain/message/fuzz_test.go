package message_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
)

// FuzzR22_Validate runs a message's checks as SendMessage runs them (the
// senders' syntax, then R22/R5 field by field): no panic, and whatever is
// accepted is what a store accepts (R34: valid UTF-8, no NUL) and what a
// header may hold (R22: no control character other than TAB in an
// address, display name, subject or file name; bodies only TAB, CR, LF).
func FuzzR22_Validate(f *testing.F) {
	f.Add("info@celanio.com", "", "kunde@example.com", "", "Angebot", "Guten Tag", "", "angebot.pdf", "application/pdf", []byte("%PDF"))
	f.Add("Celanio <info@celanio.com>", "\"Support\" <s@celanio.com>", "a@b.example", "c@d.example", "", "", "<p>x</p>", "", "", []byte(nil))
	f.Add("info@celanio.com", "", "kunde@example.com", "", "Hallo\x00", "Guten\x00Tag", "", "a.txt", "text/plain", []byte("x"))
	f.Add("info@celanio.com", "", "kunde@example.com", "", "=?utf-8?b?SGFsbG8NCkJjYzogeEB5Lno=?=", "", "", "", "", []byte(nil))
	f.Add("=?utf-8?q?a=0Ab?= <info@celanio.com>", "", "kunde@example.com\n", "", "s", "t\u0085", "", "a\x00.txt", "text/plain; x=\"\x00\"", []byte("x"))
	f.Add("info@celanio.com", "", "kunde@example.com", "", "s", "t", "h\xff", "ok.zip", "application/zip", []byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, from, replyTo, to, cc, subject, text, html, filename, contentType string, data []byte) {
		d := message.Draft{From: from, ReplyTo: replyTo, To: strings.Split(to, ","), Subject: subject, Text: text, HTML: html}
		if cc != "" {
			d.Cc = strings.Split(cc, ",")
		}
		if filename != "" || contentType != "" {
			d.Attachments = []message.AttachmentDraft{{Filename: filename, ContentType: contentType, ContentBase64: base64.StdEncoding.EncodeToString(data)}}
		}
		p, err := validate(d, true)
		if err != nil {
			return
		}
		oneLine := func(what, s string) {
			if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
				t.Fatalf("accepted %s %q", what, s)
			}
			if domain.ValidDisplayName(s) != "" && what == "display name" {
				t.Fatalf("accepted %s %q: %s", what, s, domain.ValidDisplayName(s))
			}
		}
		mailboxes := append(append(append([]message.Mailbox{p.From}, p.To...), p.Cc...), p.Bcc...)
		if p.ReplyTo != nil {
			mailboxes = append(mailboxes, *p.ReplyTo)
		}
		for _, m := range mailboxes {
			oneLine("address", m.Address)
			oneLine("display name", m.Name)
			if again, _, err := message.ParseMailbox("to", m.String()); err != nil || again.Address != m.Address {
				t.Fatalf("accepted %+v, which parses again as %+v, %v", m, again, err)
			}
		}
		if n := len(p.To) + len(p.Cc) + len(p.Bcc); n < 1 || n > message.MaxRecipients {
			t.Fatalf("accepted %d recipients", n)
		}
		oneLine("subject", p.Subject)
		if _, err := domain.NewSubject("subject", p.Subject); err != nil || utf8.RuneCountInString(p.Subject) > domain.MaxSubject {
			t.Fatalf("accepted subject %q: %v", p.Subject, err)
		}
		for _, body := range []string{p.Content.Text, p.Content.HTML} {
			if domain.CheckBody("text", body) != nil {
				t.Fatalf("accepted body %q", body)
			}
		}
		for _, a := range p.Content.Attachments {
			oneLine("display name", a.Filename)
			oneLine("content type", a.ContentType)
			if a.Filename == "" || message.ForbiddenName(a.Filename) {
				t.Fatalf("accepted attachment %q", a.Filename)
			}
		}
		if p.Size > message.MaxSize {
			t.Fatalf("accepted %d octets", p.Size)
		}
	})
}
