package message_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
)

// forbiddenExtensions are the 21 extensions of R22 (seed 003), copied from
// the SPEC on purpose: the test must not read the list it checks.
var forbiddenExtensions = []string{".exe", ".com", ".cmd", ".cpl", ".hta", ".scf", ".sct", ".lnk", ".bat", ".js", ".jse",
	".wsh", ".ws", ".wsf", ".wsc", ".vbe", ".vb", ".vbs", ".shs", ".pif", ".scr"}

// draft is a valid message; mods change it.
func draft(mods ...func(*message.Draft)) message.Draft {
	d := message.Draft{From: "info@celanio.com", To: []string{"kunde@example.com"}, Subject: "Angebot", Text: "Guten Tag"}
	for _, m := range mods {
		m(&d)
	}
	return d
}

// validate runs the checks in the order the command runs them: the
// senders' syntax, then R22 and R5 field by field.
func validate(d message.Draft, smtpUTF8 bool) (message.Parsed, error) {
	p, err := message.ParseSenders(d)
	if err != nil {
		return message.Parsed{}, err
	}
	return message.Validate(p, d, smtpUTF8)
}

// wantError fails unless err matches want (errors.Is) and, when field is
// not empty, names that field.
func wantError(t *testing.T, err error, want error, field string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %T, want *domain.Error", err)
	}
	if field != "" && de.Field != field {
		t.Fatalf("got field %q (%v), want %q", de.Field, err, field)
	}
}

func addresses(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func count(p message.Parsed) (to, cc, bcc int) { return len(p.To), len(p.Cc), len(p.Bcc) }

func TestR22_Recipients(t *testing.T) {
	tests := []struct {
		name         string
		to, cc, bcc  []string
		want         [3]int // to, cc, bcc after removing duplicates
		wantErr      error
		wantErrField string
	}{
		{name: "one To", to: []string{"a@example.com"}, want: [3]int{1, 0, 0}},
		{name: "To empty with Cc", cc: []string{"a@example.com"}, want: [3]int{0, 1, 0}},
		{name: "To empty with Bcc", bcc: []string{"a@example.com"}, want: [3]int{0, 0, 1}},
		{name: "none", wantErr: domain.ErrInvalidInput, wantErrField: "to"},
		{name: "empty lists", to: []string{}, cc: []string{}, bcc: []string{}, wantErr: domain.ErrInvalidInput, wantErrField: "to"},
		{name: "100 distinct", to: addresses(100, "r%d@example.com"), want: [3]int{100, 0, 0}},
		{name: "100 across to, cc and bcc", to: addresses(40, "to%d@example.com"), cc: addresses(30, "cc%d@example.com"),
			bcc: addresses(30, "bcc%d@example.com"), want: [3]int{40, 30, 30}},
		{name: "101 distinct is INVALID_INPUT", to: addresses(101, "r%d@example.com"), wantErr: domain.ErrInvalidInput, wantErrField: "to"},
		{name: "101 across to, cc and bcc is INVALID_INPUT", to: addresses(50, "to%d@example.com"), cc: addresses(50, "cc%d@example.com"),
			bcc: []string{"bcc@example.com"}, wantErr: domain.ErrInvalidInput},
		{name: "101 with one duplicate in another case is 100", to: addresses(100, "r%d@example.com"), cc: []string{"R7@EXAMPLE.com"},
			want: [3]int{100, 0, 0}},
		{name: "duplicates within To", to: []string{"a@example.com", "a@example.com", "A@Example.com"}, want: [3]int{1, 0, 0}},
		{name: "A@Example.com and a@example.com are one, across to, cc and bcc", to: []string{"A@Example.com"},
			cc: []string{"a@example.com"}, bcc: []string{"a@EXAMPLE.COM"}, want: [3]int{1, 0, 0}},
		{name: "IDNA: Unicode and punycode domain are one", to: []string{"info@bücher.example"},
			cc: []string{"info@xn--bcher-kva.example", "INFO@BÜCHER.example"}, want: [3]int{1, 0, 0}},
		{name: "only duplicates in Cc of an empty To count once", cc: []string{"a@example.com"}, bcc: []string{"A@example.com"},
			want: [3]int{0, 1, 0}},
		{name: "invalid To", to: []string{"not an address"}, wantErr: domain.ErrInvalidInput, wantErrField: "to"},
		{name: "invalid Cc", to: []string{"a@example.com"}, cc: []string{"b@"}, wantErr: domain.ErrInvalidInput, wantErrField: "cc"},
		{name: "invalid Bcc", to: []string{"a@example.com"}, bcc: []string{"@example.com"}, wantErr: domain.ErrInvalidInput, wantErrField: "bcc"},
		{name: "named recipient", to: []string{"Erika Musterfrau <erika@example.com>"}, want: [3]int{1, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := validate(draft(func(d *message.Draft) { d.To, d.Cc, d.Bcc = tc.to, tc.cc, tc.bcc }), false)
			if tc.wantErr != nil {
				wantError(t, err, tc.wantErr, tc.wantErrField)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if to, cc, bcc := count(p); [3]int{to, cc, bcc} != tc.want {
				t.Fatalf("got to/cc/bcc %d/%d/%d, want %v", to, cc, bcc, tc.want)
			}
		})
	}
}

// TestR22_DuplicatesKeepTheFirst: the first occurrence of an address wins,
// in the order to, cc, bcc, with its display name and spelling.
func TestR22_DuplicatesKeepTheFirst(t *testing.T) {
	p, err := validate(draft(func(d *message.Draft) {
		d.To = []string{"Erika <Erika@Example.com>"}
		d.Cc = []string{"erika@example.com", "max@example.com"}
		d.Bcc = []string{"MAX@example.com", "geheim@example.com"}
	}), false)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := message.Parsed{
		To:  []message.Mailbox{{Name: "Erika", Address: "Erika@example.com"}},
		Cc:  []message.Mailbox{{Address: "max@example.com"}},
		Bcc: []message.Mailbox{{Address: "geheim@example.com"}},
	}
	if fmt.Sprint(p.To, p.Cc, p.Bcc) != fmt.Sprint(want.To, want.Cc, want.Bcc) {
		t.Fatalf("got to %v cc %v bcc %v, want %v %v %v", p.To, p.Cc, p.Bcc, want.To, want.Cc, want.Bcc)
	}
}

func TestR22_HeaderInjectionRefused(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*message.Draft)
		field string
	}{
		{"subject CR LF", func(d *message.Draft) { d.Subject = "Hallo\r\nBcc: opfer@example.com" }, "subject"},
		{"subject LF", func(d *message.Draft) { d.Subject = "Hallo\nBcc: opfer@example.com" }, "subject"},
		{"subject CR", func(d *message.Draft) { d.Subject = "Hallo\rBcc: opfer@example.com" }, "subject"},
		{"subject trailing LF", func(d *message.Draft) { d.Subject = "Hallo\n" }, "subject"},
		{"from display name", func(d *message.Draft) { d.From = "Info\r\nBcc: opfer@example.com <info@celanio.com>" }, "from"},
		{"from quoted display name", func(d *message.Draft) { d.From = "\"Info\nBcc: opfer@example.com\" <info@celanio.com>" }, "from"},
		{"from address with a header after it", func(d *message.Draft) { d.From = "info@celanio.com\r\nBcc: opfer@example.com" }, "from"},
		{"replyTo display name", func(d *message.Draft) { d.ReplyTo = "Support\r\nX: y <support@celanio.com>" }, "replyTo"},
		{"to display name", func(d *message.Draft) { d.To = []string{"Kunde\n <kunde@example.com>"} }, "to"},
		{"cc display name", func(d *message.Draft) { d.Cc = []string{"Kopie\r <kopie@example.com>"} }, "cc"},
		{"bcc display name", func(d *message.Draft) { d.Bcc = []string{"\"Blind\r\nX: y\" <blind@example.com>"} }, "bcc"},
		{"to address with a header after it", func(d *message.Draft) { d.To = []string{"kunde@example.com\nBcc: opfer@example.com"} }, "to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(draft(tc.mod), true)
			wantError(t, err, domain.ErrInvalidInput, tc.field)
		})
	}
}

// TestR22_HeaderValuesKeptAsGiven: valid subjects and names are not
// altered (nothing is stripped).
func TestR22_HeaderValuesKeptAsGiven(t *testing.T) {
	p, err := validate(draft(func(d *message.Draft) {
		d.Subject = "Grüße: Angebot\t2025 — „Sonder“"
		d.To = []string{"\"Musterfrau, Erika\" <erika@example.com>"}
	}), false)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if p.Subject != "Grüße: Angebot\t2025 — „Sonder“" {
		t.Errorf("got subject %q, want it unchanged", p.Subject)
	}
	if p.To[0].Name != "Musterfrau, Erika" {
		t.Errorf("got name %q, want %q", p.To[0].Name, "Musterfrau, Erika")
	}
}

func attachment(name string, data []byte) message.AttachmentDraft {
	return message.AttachmentDraft{Filename: name, ContentType: "application/octet-stream", ContentBase64: base64.StdEncoding.EncodeToString(data)}
}

func TestR22_TotalSize(t *testing.T) {
	const subject, text = "Angebot", "Guten Tag"
	room := message.MaxSize - len(subject) - len(text) // bytes left for attachments
	withAttachments := func(sizes ...int) func(*message.Draft) {
		return func(d *message.Draft) {
			d.Subject, d.Text = subject, text
			for i, n := range sizes {
				d.Attachments = append(d.Attachments, attachment(fmt.Sprintf("teil%d.bin", i), make([]byte, n)))
			}
		}
	}
	tests := []struct {
		name    string
		mod     func(*message.Draft)
		wantErr bool
		field   string
	}{
		{"exactly 25 MiB", withAttachments(room), false, ""},
		{"one byte under 25 MiB", withAttachments(room - 1), false, ""},
		{"one byte over 25 MiB", withAttachments(room + 1), true, "attachments"},
		{"exactly 25 MiB in two attachments", withAttachments(room/2, room-room/2), false, ""},
		{"one byte over in the second attachment", withAttachments(room/2, room-room/2+1), true, "attachments"},
		{"exactly 25 MiB of text, html and an attachment", func(d *message.Draft) {
			withAttachments(message.MaxSize - 2*domain.MaxBody)(d)
			d.Subject, d.Text, d.HTML = "", strings.Repeat("a", domain.MaxBody), strings.Repeat("b", domain.MaxBody)
		}, false, ""},
		// R22: each body at most 5 MiB.
		{"text one byte over 5 MiB", func(d *message.Draft) { d.Subject, d.Text = "", strings.Repeat("a", domain.MaxBody+1) }, true, "text"},
		{"html one byte over 5 MiB", func(d *message.Draft) { d.Subject, d.HTML = "", strings.Repeat("a", domain.MaxBody+1) }, true, "html"},
		{"text one byte over 25 MiB", func(d *message.Draft) { d.Subject, d.Text = "", strings.Repeat("a", message.MaxSize+1) }, true, ""},
		{"subject counts", func(d *message.Draft) { d.Subject, d.Text = "x", strings.Repeat("a", message.MaxSize) }, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := validate(draft(tc.mod), false)
			if tc.wantErr {
				wantError(t, err, domain.ErrInvalidInput, tc.field)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if p.Size > message.MaxSize {
				t.Fatalf("got size %d, want at most %d", p.Size, message.MaxSize)
			}
		})
	}
}

func TestR22_SizeAndContent(t *testing.T) {
	pdf := []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n")
	p, err := validate(draft(func(d *message.Draft) {
		d.Subject, d.Text, d.HTML = "Rechnung", "Anbei", "<p>Anbei</p>"
		d.Attachments = []message.AttachmentDraft{{Filename: "rechnung.pdf", ContentType: "application/pdf",
			ContentBase64: base64.StdEncoding.EncodeToString(pdf)}}
	}), false)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if want := len("Rechnung") + len("Anbei") + len("<p>Anbei</p>") + len(pdf); p.Size != want {
		t.Errorf("got size %d, want %d", p.Size, want)
	}
	want := message.Content{Text: "Anbei", HTML: "<p>Anbei</p>",
		Attachments: []message.Attachment{{Filename: "rechnung.pdf", ContentType: "application/pdf", Data: pdf}}}
	if p.Content.Text != want.Text || p.Content.HTML != want.HTML || len(p.Content.Attachments) != 1 ||
		p.Content.Attachments[0].Filename != "rechnung.pdf" || p.Content.Attachments[0].ContentType != "application/pdf" ||
		!bytes.Equal(p.Content.Attachments[0].Data, pdf) {
		t.Errorf("got content %+v, want %+v", p.Content, want)
	}
}

// zipEntry is one file of a ZIP archive built by zipOf.
type zipEntry struct {
	name string
	data []byte
}

func zipOf(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestR22_ForbiddenExtensions(t *testing.T) {
	if len(forbiddenExtensions) != 21 {
		t.Fatalf("got %d extensions in the test's list, want the SPEC's 21", len(forbiddenExtensions))
	}
	payload := []byte("MZ\x90\x00 not really a program")
	for _, ext := range forbiddenExtensions {
		cases := map[string]func(t *testing.T) message.AttachmentDraft{
			"plain":      func(*testing.T) message.AttachmentDraft { return attachment("datei"+ext, payload) },
			"upper case": func(*testing.T) message.AttachmentDraft { return attachment("DATEI"+strings.ToUpper(ext), payload) },
			"mixed case": func(*testing.T) message.AttachmentDraft {
				return attachment("Datei"+strings.ToUpper(ext[:2])+ext[2:], payload)
			},
			"trailing dot":       func(*testing.T) message.AttachmentDraft { return attachment("datei"+ext+".", payload) },
			"trailing dots":      func(*testing.T) message.AttachmentDraft { return attachment("datei"+ext+"..", payload) },
			"trailing space":     func(*testing.T) message.AttachmentDraft { return attachment("datei"+ext+" .", payload) },
			"double extension":   func(*testing.T) message.AttachmentDraft { return attachment("rechnung.pdf"+ext, payload) },
			"windows path":       func(*testing.T) message.AttachmentDraft { return attachment(`C:\Temp\datei`+ext, payload) },
			"only the extension": func(*testing.T) message.AttachmentDraft { return attachment(ext, payload) },
			"inside a zip": func(t *testing.T) message.AttachmentDraft {
				return attachment("archiv.zip", zipOf(t, zipEntry{"liesmich.txt", []byte("hallo")}, zipEntry{"ordner/datei" + ext, payload}))
			},
			"inside a zip, upper case with trailing dot": func(t *testing.T) message.AttachmentDraft {
				return attachment("ARCHIV.ZIP", zipOf(t, zipEntry{"DATEI" + strings.ToUpper(ext) + ".", payload}))
			},
			"inside a zip in a zip": func(t *testing.T) message.AttachmentDraft {
				inner := zipOf(t, zipEntry{"datei" + ext, payload})
				return attachment("aussen.zip", zipOf(t, zipEntry{"liesmich.txt", []byte("hallo")}, zipEntry{"innen.zip", inner}))
			},
			"inside a zip in a zip in a zip": func(t *testing.T) message.AttachmentDraft {
				inner := zipOf(t, zipEntry{"datei" + ext, payload})
				middle := zipOf(t, zipEntry{"mitte.zip", inner})
				return attachment("aussen.zip", zipOf(t, zipEntry{"aussen/mitte.zip", middle}))
			},
			"a zip renamed to .dat": func(t *testing.T) message.AttachmentDraft {
				return attachment("daten.dat", zipOf(t, zipEntry{"datei" + ext, payload}))
			},
			"a zip renamed to .dat inside a zip": func(t *testing.T) message.AttachmentDraft {
				inner := zipOf(t, zipEntry{"datei" + ext, payload})
				return attachment("archiv.zip", zipOf(t, zipEntry{"daten.dat", inner}))
			},
		}
		for name, build := range cases {
			t.Run(ext+" "+name, func(t *testing.T) {
				_, err := validate(draft(func(d *message.Draft) { d.Attachments = []message.AttachmentDraft{build(t)} }), false)
				wantError(t, err, domain.ErrAttachmentForbidden, "attachments")
			})
		}
	}
}

func TestR22_ArchivesThatCannotBeChecked(t *testing.T) {
	valid := zipOf(t, zipEntry{"bericht.pdf", []byte("%PDF-1.7")})
	tests := []struct {
		name string
		att  func(t *testing.T) message.AttachmentDraft
	}{
		{"corrupt .zip", func(*testing.T) message.AttachmentDraft {
			return attachment("archiv.zip", []byte("this is not a zip archive at all"))
		}},
		{"truncated .zip", func(*testing.T) message.AttachmentDraft { return attachment("archiv.zip", valid[:len(valid)/2]) }},
		{"empty .zip file", func(*testing.T) message.AttachmentDraft { return attachment("archiv.zip", nil) }},
		{"corrupt archive with a zip signature named .dat", func(*testing.T) message.AttachmentDraft {
			return attachment("daten.dat", []byte("PK\x03\x04garbage that is no archive"))
		}},
		{"corrupt .zip inside a zip", func(t *testing.T) message.AttachmentDraft {
			return attachment("archiv.zip", zipOf(t, zipEntry{"innen.zip", []byte("kaputt")}))
		}},
		{"tiny corrupt .zip inside a zip", func(t *testing.T) message.AttachmentDraft {
			return attachment("archiv.zip", zipOf(t, zipEntry{"innen.zip", []byte("PK")}))
		}},
		{"nested deeper than can be checked", func(t *testing.T) message.AttachmentDraft {
			z := zipOf(t, zipEntry{"bericht.pdf", []byte("%PDF-1.7")})
			for i := range 10 {
				z = zipOf(t, zipEntry{fmt.Sprintf("ebene%d.zip", i), z})
			}
			return attachment("archiv.zip", z)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(draft(func(d *message.Draft) { d.Attachments = []message.AttachmentDraft{tc.att(t)} }), false)
			wantError(t, err, domain.ErrAttachmentForbidden, "attachments")
		})
	}
}

func TestR22_AllowedAttachments(t *testing.T) {
	pdf := []byte("%PDF-1.7\n")
	tests := []struct {
		name string
		att  func(t *testing.T) message.AttachmentDraft
	}{
		{"pdf", func(*testing.T) message.AttachmentDraft {
			return message.AttachmentDraft{Filename: "rechnung.pdf", ContentType: "application/pdf", ContentBase64: base64.StdEncoding.EncodeToString(pdf)}
		}},
		{"upper-case PDF", func(*testing.T) message.AttachmentDraft { return attachment("RECHNUNG.PDF", pdf) }},
		{"forbidden extension not at the end", func(*testing.T) message.AttachmentDraft { return attachment("setup.exe.pdf", pdf) }},
		{"extension only as a name", func(*testing.T) message.AttachmentDraft { return attachment("exe", pdf) }},
		{"similar extension", func(*testing.T) message.AttachmentDraft { return attachment("tabelle.json", []byte("{}")) }},
		{"content type with parameters", func(*testing.T) message.AttachmentDraft {
			return message.AttachmentDraft{Filename: "notiz.txt", ContentType: "text/plain; charset=utf-8", ContentBase64: base64.StdEncoding.EncodeToString([]byte("hallo"))}
		}},
		{"empty file", func(*testing.T) message.AttachmentDraft { return attachment("leer.txt", nil) }},
		{"zip of allowed files", func(t *testing.T) message.AttachmentDraft {
			return attachment("archiv.zip", zipOf(t, zipEntry{"bericht.pdf", pdf}, zipEntry{"ordner/", nil}, zipEntry{"a.txt", []byte("a")}))
		}},
		{"zip in a zip of allowed files", func(t *testing.T) message.AttachmentDraft {
			return attachment("archiv.zip", zipOf(t, zipEntry{"innen.zip", zipOf(t, zipEntry{"bericht.pdf", pdf})}))
		}},
		{"empty zip", func(t *testing.T) message.AttachmentDraft { return attachment("leer.zip", zipOf(t)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.att(t)
			p, err := validate(draft(func(d *message.Draft) { d.Attachments = []message.AttachmentDraft{a} }), false)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if len(p.Content.Attachments) != 1 {
				t.Fatalf("got %d attachments, want 1", len(p.Content.Attachments))
			}
			want, _ := base64.StdEncoding.DecodeString(a.ContentBase64)
			if got := p.Content.Attachments[0].Data; !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes of data, want the %d decoded", len(got), len(want))
			}
		})
	}
}

func TestR22_InvalidAttachments(t *testing.T) {
	ok := base64.StdEncoding.EncodeToString([]byte("hallo"))
	tests := []struct {
		name string
		att  message.AttachmentDraft
	}{
		{"bad base64", message.AttachmentDraft{Filename: "a.txt", ContentType: "text/plain", ContentBase64: "!!! kein base64 !!!"}},
		{"truncated base64", message.AttachmentDraft{Filename: "a.txt", ContentType: "text/plain", ContentBase64: ok[:len(ok)-1]}},
		{"empty filename", message.AttachmentDraft{Filename: "", ContentType: "text/plain", ContentBase64: ok}},
		{"blank filename", message.AttachmentDraft{Filename: "   ", ContentType: "text/plain", ContentBase64: ok}},
		{"filename with CR LF", message.AttachmentDraft{Filename: "a\r\nContent-Type: text/html.txt", ContentType: "text/plain", ContentBase64: ok}},
		{"empty contentType", message.AttachmentDraft{Filename: "a.txt", ContentType: "", ContentBase64: ok}},
		{"contentType not a media type", message.AttachmentDraft{Filename: "a.txt", ContentType: "kein typ", ContentBase64: ok}},
		{"contentType without subtype", message.AttachmentDraft{Filename: "a.txt", ContentType: "text/", ContentBase64: ok}},
		{"contentType with CR LF", message.AttachmentDraft{Filename: "a.txt", ContentType: "text/plain\r\nBcc: opfer@example.com", ContentBase64: ok}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(draft(func(d *message.Draft) { d.Attachments = []message.AttachmentDraft{tc.att} }), false)
			wantError(t, err, domain.ErrInvalidInput, "attachments")
		})
	}
}

func TestR5_InternationalisedLocalPart(t *testing.T) {
	const intl, intlDomain = "山田太郎@株式.会社", "info@株式.会社"
	tests := []struct {
		name     string
		mod      func(*message.Draft)
		smtpUTF8 bool
		field    string // "" = accepted
	}{
		{"from without smtpUtf8", func(d *message.Draft) { d.From = intl }, false, "from"},
		{"from with smtpUtf8", func(d *message.Draft) { d.From = intl }, true, ""},
		{"named from without smtpUtf8", func(d *message.Draft) { d.From = "山田 <" + intl + ">" }, false, "from"},
		{"replyTo without smtpUtf8", func(d *message.Draft) { d.ReplyTo = intl }, false, "replyTo"},
		{"replyTo with smtpUtf8", func(d *message.Draft) { d.ReplyTo = intl }, true, ""},
		{"to without smtpUtf8", func(d *message.Draft) { d.To = []string{intl} }, false, "to"},
		{"to with smtpUtf8", func(d *message.Draft) { d.To = []string{intl} }, true, ""},
		{"cc without smtpUtf8", func(d *message.Draft) { d.Cc = []string{intl} }, false, "cc"},
		{"bcc without smtpUtf8", func(d *message.Draft) { d.Bcc = []string{intl} }, false, "bcc"},
		{"bcc with smtpUtf8", func(d *message.Draft) { d.Bcc = []string{intl} }, true, ""},
		{"accented local part without smtpUtf8", func(d *message.Draft) { d.To = []string{"jürgen@example.com"} }, false, "to"},
		{"non-ASCII domain in from without smtpUtf8", func(d *message.Draft) { d.From = intlDomain }, false, ""},
		{"non-ASCII domain in to without smtpUtf8", func(d *message.Draft) { d.To = []string{intlDomain, "info@bücher.example"} }, false, ""},
		{"non-ASCII domain in replyTo and cc without smtpUtf8", func(d *message.Draft) {
			d.ReplyTo, d.Cc = intlDomain, []string{"post@müller.example"}
		}, false, ""},
		{"non-ASCII domain with smtpUtf8", func(d *message.Draft) { d.To = []string{intlDomain} }, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(draft(tc.mod), tc.smtpUTF8)
			if tc.field != "" {
				wantError(t, err, domain.ErrInvalidInput, tc.field)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
		})
	}
}

// TestR19_ValidationErrorPrecedence: with several bad fields, the first in
// schema order (from, replyTo, to, cc, bcc, subject, text, html,
// attachments) is reported.
func TestR19_ValidationErrorPrecedence(t *testing.T) {
	const intl = "山田太郎@株式.会社"
	badFrom := func(d *message.Draft) { d.From = "kein absender" }
	intlFrom := func(d *message.Draft) { d.From = intl }
	badReplyTo := func(d *message.Draft) { d.ReplyTo = "Antwort\r\n <a@example.com>" }
	intlReplyTo := func(d *message.Draft) { d.ReplyTo = intl }
	badTo := func(d *message.Draft) { d.To = []string{"ok@example.com", "kaputt@"} }
	noRecipients := func(d *message.Draft) { d.To, d.Cc, d.Bcc = nil, nil, nil }
	badCc := func(d *message.Draft) { d.Cc = []string{intl} }
	badBcc := func(d *message.Draft) { d.Bcc = []string{"<>"} }
	badSubject := func(d *message.Draft) { d.Subject = "a\nb" }
	tooLarge := func(d *message.Draft) { d.Text = strings.Repeat("x", message.MaxSize+1) }
	forbidden := func(d *message.Draft) {
		d.Attachments = []message.AttachmentDraft{attachment("virus.exe", []byte("MZ"))}
	}
	badBase64 := func(d *message.Draft) {
		d.Attachments = []message.AttachmentDraft{{Filename: "a.txt", ContentType: "text/plain", ContentBase64: "%%%"}}
	}
	all := func(mods ...func(*message.Draft)) func(*message.Draft) {
		return func(d *message.Draft) {
			for _, m := range mods {
				m(d)
			}
		}
	}
	tests := []struct {
		name  string
		mod   func(*message.Draft)
		want  error
		field string
	}{
		{"from before everything", all(badFrom, badReplyTo, badTo, badCc, badBcc, badSubject, forbidden), domain.ErrInvalidInput, "from"},
		{"from (R5) before replyTo (R5)", all(intlFrom, intlReplyTo, badTo), domain.ErrInvalidInput, "from"},
		// R17's order: the senders' step (From, then Reply-To) comes before
		// R22 and R5, so a malformed Reply-To is reported before From's R5.
		{"R17 replyTo syntax before from (R5)", all(intlFrom, badReplyTo), domain.ErrInvalidInput, "replyTo"},
		{"from (R5) before recipients", all(intlFrom, noRecipients), domain.ErrInvalidInput, "from"},
		{"replyTo before to", all(badReplyTo, badTo, badSubject), domain.ErrInvalidInput, "replyTo"},
		{"replyTo (R5) before to", all(intlReplyTo, badTo), domain.ErrInvalidInput, "replyTo"},
		{"to before cc", all(badTo, badCc, badBcc, badSubject, forbidden), domain.ErrInvalidInput, "to"},
		{"cc before bcc", all(badCc, badBcc, badSubject, forbidden), domain.ErrInvalidInput, "cc"},
		{"bcc before subject", all(badBcc, badSubject, forbidden), domain.ErrInvalidInput, "bcc"},
		{"recipient count before subject", all(noRecipients, badSubject), domain.ErrInvalidInput, "to"},
		{"subject before attachments", all(badSubject, forbidden, badBase64), domain.ErrInvalidInput, "subject"},
		{"subject before size", all(badSubject, tooLarge), domain.ErrInvalidInput, "subject"},
		{"forbidden attachment", all(forbidden), domain.ErrAttachmentForbidden, "attachments"},
		{"first attachment first: forbidden before bad base64", func(d *message.Draft) {
			forbidden(d)
			ok := d.Attachments
			badBase64(d)
			d.Attachments = append(ok, d.Attachments...)
		}, domain.ErrAttachmentForbidden, "attachments"},
		{"first attachment first: bad base64 before forbidden", func(d *message.Draft) {
			badBase64(d)
			bad := d.Attachments
			forbidden(d)
			d.Attachments = append(bad, d.Attachments...)
		}, domain.ErrInvalidInput, "attachments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(draft(tc.mod), false)
			wantError(t, err, tc.want, tc.field)
		})
	}
}

func TestParseMailbox(t *testing.T) {
	tests := []struct {
		in        string
		want      message.Mailbox
		wantNamed bool
		wantErr   bool
	}{
		{in: "Erika Musterfrau <erika@b.example>", want: message.Mailbox{Name: "Erika Musterfrau", Address: "erika@b.example"}, wantNamed: true},
		{in: "Erika<erika@b.example>", want: message.Mailbox{Name: "Erika", Address: "erika@b.example"}, wantNamed: true},
		{in: "  Erika   <erika@b.example>  ", want: message.Mailbox{Name: "Erika", Address: "erika@b.example"}, wantNamed: true},
		{in: `"Musterfrau, Erika" <erika@b.example>`, want: message.Mailbox{Name: "Musterfrau, Erika", Address: "erika@b.example"}, wantNamed: true},
		{in: `"Erika \"die Große\"" <erika@b.example>`, want: message.Mailbox{Name: `Erika "die Große"`, Address: "erika@b.example"}, wantNamed: true},
		{in: `"a <b>" <x@b.example>`, want: message.Mailbox{Name: "a <b>", Address: "x@b.example"}, wantNamed: true},
		{in: "山田 太郎 <taro@b.example>", want: message.Mailbox{Name: "山田 太郎", Address: "taro@b.example"}, wantNamed: true},
		{in: "a@b.example", want: message.Mailbox{Address: "a@b.example"}},
		{in: "  a@b.example\t", want: message.Mailbox{Address: "a@b.example"}},
		{in: "<a@b.example>", want: message.Mailbox{Address: "a@b.example"}},
		{in: `"" <a@b.example>`, want: message.Mailbox{Address: "a@b.example"}},
		{in: "Erika@Example.COM", want: message.Mailbox{Address: "Erika@example.com"}},
		{in: "info@BÜCHER.example", want: message.Mailbox{Address: "info@bücher.example"}},
		{in: "info@xn--bcher-kva.example", want: message.Mailbox{Address: "info@bücher.example"}},
		{in: "山田太郎@株式.会社", want: message.Mailbox{Address: "山田太郎@株式.会社"}},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "garbage", wantErr: true},
		{in: "not an address", wantErr: true},
		{in: "a@b", wantErr: true},
		{in: "@b.example", wantErr: true},
		{in: "a@", wantErr: true},
		{in: "a@@b.example", wantErr: true},
		{in: "a b@c.example", wantErr: true},
		{in: "<>", wantErr: true},
		{in: "Name <>", wantErr: true},
		{in: "Name <a@b.example", wantErr: true},
		{in: "Name a@b.example>", wantErr: true},
		{in: "Name <a@b.example> trailing", wantErr: true},
		{in: "Name <not an address>", wantErr: true},
		{in: "Name\r\n <a@b.example>", wantErr: true},
		{in: "Name\x00 <a@b.example>", wantErr: true},
		// R22 allows TAB in a display name (no control character "other than TAB").
		{in: "Tab\tName <a@b.example>", want: message.Mailbox{Name: "Tab\tName", Address: "a@b.example"}, wantNamed: true},
		{in: "C1\u0085Name <a@b.example>", wantErr: true},
		{in: "Bad\xffUTF8 <a@b.example>", wantErr: true},
		{in: "=?utf-8?b?QQ0KQmNjOiB4QHkuZXhhbXBsZQ==?= <a@b.example>", wantErr: true}, // encoded CR LF
		{in: "a@b.example\n", wantErr: true},                                          // refused, not trimmed
		{in: "a@b.example\r\nBcc: c@d.example", wantErr: true},
		{in: "a@[127.0.0.1]", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, named, err := message.ParseMailbox("replyTo", tc.in)
			if tc.wantErr {
				wantError(t, err, domain.ErrInvalidInput, "replyTo")
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %+v", err, tc.want)
			}
			if got != tc.want || named != tc.wantNamed {
				t.Fatalf("got %+v named %v, want %+v named %v", got, named, tc.want, tc.wantNamed)
			}
		})
	}
}

func TestForbiddenName(t *testing.T) {
	for _, ext := range forbiddenExtensions {
		for _, name := range []string{"x" + ext, "X" + strings.ToUpper(ext), "x" + ext + ".", "dir/x" + ext, `dir\x` + ext} {
			if !message.ForbiddenName(name) {
				t.Errorf("ForbiddenName(%q): got false, want true (R22)", name)
			}
		}
	}
	for _, name := range []string{"x.pdf", "x.exe.pdf", "x.zip", "x.docx", "x.jsx", "x.json", "x.vbx", "x.scrap", "exe", "x.", ""} {
		if message.ForbiddenName(name) {
			t.Errorf("ForbiddenName(%q): got true, want false", name)
		}
	}
}

// TestR34_MessageText: every text of a message is checked before it is
// queued — a NUL in a subject or body once stopped every read model — and
// the error names the field (R22, R34).
func TestR34_MessageText(t *testing.T) {
	many := make([]string, 100000)
	for i := range many {
		many[i] = fmt.Sprintf("r%d@example.com", i)
	}
	tests := []struct {
		name  string
		mod   func(*message.Draft)
		field string
	}{
		{"NUL in subject", func(d *message.Draft) { d.Subject = "Angebot\x00" }, "subject"},
		{"C1 in subject", func(d *message.Draft) { d.Subject = "Angebot\u009b" }, "subject"},
		{"invalid UTF-8 in subject", func(d *message.Draft) { d.Subject = "Angebot\xc3" }, "subject"},
		{"encoded-word CR LF in subject", func(d *message.Draft) { d.Subject = "=?utf-8?b?SGFsbG8NCkJjYzogZXZpbEBleGFtcGxlLmNvbQ==?=" }, "subject"},
		{"999 characters of subject", func(d *message.Draft) { d.Subject = strings.Repeat("ä", 999) }, "subject"},
		{"NUL in text", func(d *message.Draft) { d.Text = "Guten\x00Tag" }, "text"},
		{"ESC in text", func(d *message.Draft) { d.Text = "\x1b[31mrot" }, "text"},
		{"invalid UTF-8 in html", func(d *message.Draft) { d.HTML = "<p>\xff</p>" }, "html"},
		{"NUL in from", func(d *message.Draft) { d.From = "info@celanio.com\x00" }, "from"},
		{"C1 in reply-to name", func(d *message.Draft) { d.ReplyTo = "Sup\u0085port <info@celanio.com>" }, "replyTo"},
		{"LF after a recipient", func(d *message.Draft) { d.To = []string{"kunde@example.com\n"} }, "to"},
		{"100,000 recipients stop at the 101st", func(d *message.Draft) { d.To = many }, "to"},
		{"NUL in file name", func(d *message.Draft) {
			d.Attachments = []message.AttachmentDraft{attachment("a\x00.pdf", []byte("x"))}
		}, "attachments"},
		{"101 attachments", func(d *message.Draft) {
			for i := range message.MaxAttachments + 1 {
				d.Attachments = append(d.Attachments, attachment(fmt.Sprintf("a%d.txt", i), nil))
			}
		}, "attachments"},
		{"NUL in content type", func(d *message.Draft) {
			a := attachment("a.pdf", []byte("x"))
			a.ContentType = "application/pdf; name=\"\x00\""
			d.Attachments = []message.AttachmentDraft{a}
		}, "attachments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(draft(tc.mod), true)
			wantError(t, err, domain.ErrInvalidInput, tc.field)
		})
	}
	if _, err := validate(draft(func(d *message.Draft) { d.Subject = strings.Repeat("ä", 998) + "" }), true); err != nil {
		t.Fatalf("998 characters of subject: got %v, want none", err)
	}
}
