package domain_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/absender/absender/domain"
)

// wantInvalid fails unless err is INVALID_INPUT naming field (nil err with
// field "" means: want no error).
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if !errors.Is(err, domain.InvalidInput(field, "")) {
		t.Fatalf("got error %v, want INVALID_INPUT naming %s", err, field)
	}
}

// TestR34_CheckLine: one-line texts are valid UTF-8 without NUL or any
// other Cc character (C0, DEL, C1) except TAB, within their bound in code
// points; the check sees the text as received, so nothing is trimmed away.
func TestR34_CheckLine(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		ok       bool
	}{
		{"plain", "Celanio GmbH", 200, true},
		{"TAB allowed in one line (R34)", "a\tb", 200, true},
		{"empty", "", 200, true},
		{"non-ASCII", "Bücher & 山田", 200, true},
		{"U+FFFD itself is valid", "\uFFFD", 200, true},
		{"exactly the bound in code points", strings.Repeat("ü", 200), 200, true},
		{"one over the bound", strings.Repeat("ü", 201), 200, false},
		{"bound counts code points, not octets", strings.Repeat("山", 200), 200, true},
		{"NUL", "a\x00b", 200, false},
		{"CR", "a\rb", 200, false},
		{"LF", "a\nb", 200, false},
		{"trailing LF is refused, not trimmed", "abc\n", 200, false},
		{"ESC", "a\x1bb", 200, false},
		{"DEL", "a\x7fb", 200, false},
		{"C1 NEL", "a\u0085b", 200, false},
		{"C1 CSI", "a\u009bb", 200, false},
		{"invalid UTF-8", "a\xffb", 200, false},
		{"truncated UTF-8", "a\xe5\xb1", 200, false},
		{"overlong NUL encoding", "a\xc0\x80b", 200, false},
		{"encoded surrogate", "a\xed\xa0\x80b", 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			field := "name"
			if tc.ok {
				field = ""
			}
			wantInvalid(t, domain.CheckLine("name", tc.in, tc.max), field)
		})
	}
}

// TestR34_CheckBody: bodies may hold TAB, CR and LF but no other control
// character, and at most 5 MiB (R22).
func TestR34_CheckBody(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"lines", "Guten Tag,\r\n\tzweite Zeile\n", true},
		{"exactly 5 MiB", strings.Repeat("a", domain.MaxBody), true},
		{"one octet over 5 MiB", strings.Repeat("a", domain.MaxBody+1), false},
		{"NUL", "Guten\x00Tag", false},
		{"form feed", "a\fb", false},
		{"C1", "a\u0080b", false},
		{"invalid UTF-8", "a\xc3", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			field := "body"
			if tc.ok {
				field = ""
			}
			wantInvalid(t, domain.CheckBody("body", tc.in), field)
		})
	}
}

// TestR22_HeaderTextEncodedWords: a subject or display name whose RFC 2047
// encoded words decode to CR, LF or another control character is refused
// (header injection through encoding), as is one that cannot be decoded.
func TestR22_HeaderTextEncodedWords(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain text with =?", "1+1=?", true},
		{"harmless encoded word", "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", true},
		{"harmless latin-1 word", "=?iso-8859-1?q?Gr=FC=DFe?=", true},
		{"base64 CR LF", "=?utf-8?b?SGFsbG8NCkJjYzogZXZpbEBleGFtcGxlLmNvbQ==?=", false},
		{"q-encoded LF", "Hallo =?UTF-8?Q?=0ABcc:_evil@example.com?=", false},
		{"q-encoded NUL", "=?utf-8?q?a=00b?=", false},
		{"latin-1 C1", "=?iso-8859-1?q?a=85b?=", false},
		{"utf-16 CR LF", "=?utf-16be?b?AA0ACg==?=", false},
		{"unknown charset cannot be checked", "=?x-unknown?q?abc?=", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			field := "subject"
			if tc.ok {
				field = ""
			}
			_, err := domain.NewSubject("subject", tc.in)
			wantInvalid(t, err, field)
			if got := domain.ValidDisplayName(tc.in) == ""; got != tc.ok {
				t.Fatalf("ValidDisplayName(%q) valid %v, want %v", tc.in, got, tc.ok)
			}
		})
	}
}

// TestR34_NewName: required, checked as received, then trimmed.
func TestR34_NewName(t *testing.T) {
	if got, err := domain.NewName("name", "  Celanio\tGmbH "); err != nil || got != "Celanio\tGmbH" {
		t.Fatalf("got %q, %v; want %q", got, err, "Celanio\tGmbH")
	}
	for _, in := range []string{"", "  ", "Celanio\n", "Cel\x00anio", strings.Repeat("x", domain.MaxName+1), "\x85Celanio"} {
		_, err := domain.NewName("name", in)
		wantInvalid(t, err, "name")
	}
	if _, err := domain.NewSubject("subject", strings.Repeat("ü", domain.MaxSubject)); err != nil {
		t.Fatalf("998 characters: got %v, want none", err)
	}
	_, err := domain.NewSubject("subject", strings.Repeat("ü", domain.MaxSubject+1))
	wantInvalid(t, err, "subject")
}

// TestR34_AddressAsReceived: an address with a control character anywhere,
// also where trimming would have removed it, or invalid UTF-8, or longer
// than the bounds, is INVALID_INPUT.
func TestR34_AddressAsReceived(t *testing.T) {
	for _, in := range []string{
		"a@b.example\n", "\ra@b.example", "a\x00@b.example", "a@b.example\x00", "a\u0085@b.example",
		"a@b\u0085.example", "a\xff@b.example", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".example",
		"a@" + strings.Repeat("\u00ad", 2000) + "b.example",
	} {
		_, err := domain.NormalizeAddress(in)
		wantInvalid(t, err, "address")
	}
}

// TestR34_ServerSettingsText: every text field of the settings, the
// secrets in plain text too, is checked in schema order.
func TestR34_ServerSettingsText(t *testing.T) {
	long := strings.Repeat("x", domain.MaxString+1)
	tests := []struct {
		field            string
		mod              func(*domain.ServerSettingsInput)
		password, secret *string
	}{
		{"host", func(in *domain.ServerSettingsInput) { in.Host = ptr("smtp.example.com\x00") }, nil, nil},
		{"host", func(in *domain.ServerSettingsInput) { in.Host = ptr(long); in.Username = ptr("\x00") }, nil, nil},
		{"username", func(in *domain.ServerSettingsInput) { in.Username = ptr("user\u0085") }, ptr("\x00"), nil},
		{"password", func(in *domain.ServerSettingsInput) {}, ptr("pw\x00"), nil},
		{"password", func(in *domain.ServerSettingsInput) {}, ptr(long), nil},
		{"graphTenantId", func(in *domain.ServerSettingsInput) { in.GraphTenantID = ptr("a\nb") }, nil, nil},
		{"graphClientId", func(in *domain.ServerSettingsInput) { in.GraphClientID = ptr("\xff") }, nil, nil},
		{"graphClientSecret", func(in *domain.ServerSettingsInput) {}, nil, ptr("s\x1b")},
		{"senderAddress", func(in *domain.ServerSettingsInput) { in.SenderAddress = "a@b.example\r\n" }, nil, nil},
		{"senderName", func(in *domain.ServerSettingsInput) { in.SenderName = ptr("Name\n") }, nil, nil},
		{"senderName", func(in *domain.ServerSettingsInput) { in.SenderName = ptr("=?utf-8?q?a=0D=0Ab?=") }, nil, nil},
		{"senderName", func(in *domain.ServerSettingsInput) { in.SenderName = ptr(strings.Repeat("n", domain.MaxName+1)) }, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			in := smtpInput()
			tc.mod(&in)
			wantInvalid(t, domain.CheckServerSettingsText(in, tc.password, tc.secret), tc.field)
			if tc.password == nil && tc.secret == nil {
				_, err := domain.NewServerSettings(in, nil)
				wantInvalid(t, err, tc.field)
			}
		})
	}
}

// storable reports why a store could refuse s (PostgreSQL text: valid
// UTF-8 without NUL), or "".
func storable(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case strings.ContainsRune(s, 0):
		return "NUL"
	}
	return ""
}
