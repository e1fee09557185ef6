package domain_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/absender/absender/domain"
)

// The fuzzers run their seed corpus as normal tests; `go test -fuzz
// FuzzX ./domain/` explores further. Each checks: no panic, and every
// accepted value is one a store accepts (R34: valid UTF-8, no NUL, within
// its bound).

// FuzzR34_Text: whatever CheckLine, CheckBody and CheckHeaderText accept
// has only the allowed control characters and keeps its bound.
func FuzzR34_Text(f *testing.F) {
	for _, s := range []string{"", "Celanio GmbH", "a\tb", "a\r\nb", "a\x00b", "\u0085", "\xff", "=?utf-8?b?DQo=?=",
		"=?iso-8859-1?q?=85?=", "=?utf-16?b?AA0=?=", strings.Repeat("山", 201)} {
		f.Add(s, uint16(200))
	}
	f.Fuzz(func(t *testing.T, s string, max uint16) {
		limit := int(max)
		if err := domain.CheckLine("f", s, limit); err == nil {
			if why := storable(s); why != "" {
				t.Fatalf("CheckLine accepted %q: %s", s, why)
			}
			if n := utf8.RuneCountInString(s); n > limit {
				t.Fatalf("CheckLine accepted %d characters, bound %d", n, limit)
			}
			if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
				t.Fatalf("CheckLine accepted a control character in %q", s)
			}
		}
		if err := domain.CheckBody("f", s); err == nil {
			if why := storable(s); why != "" {
				t.Fatalf("CheckBody accepted %q: %s", s, why)
			}
			if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune("\t\r\n", r) }) >= 0 {
				t.Fatalf("CheckBody accepted a control character in %q", s)
			}
		}
		if got, err := domain.NewSubject("subject", s); err == nil {
			if got != s || storable(s) != "" || strings.ContainsAny(s, "\r\n") {
				t.Fatalf("NewSubject accepted %q as %q", s, got)
			}
		}
		if got, err := domain.NewName("name", s); err == nil {
			if storable(got) != "" || got == "" || got != strings.TrimSpace(got) || utf8.RuneCountInString(got) > domain.MaxName {
				t.Fatalf("NewName accepted %q as %q", s, got)
			}
		}
	})
}

// FuzzR34_Address: an accepted address is storable in every form, at most
// 254 octets on the wire, and normalising any of its forms again gives the
// same address (the normalisation round-trips).
func FuzzR34_Address(f *testing.F) {
	for _, s := range []string{"welcome@celanio.com", " Welcome@Celanio.COM ", "info@Bücher.de", "info@xn--bcher-kva.de",
		"山田太郎@株式.会社", "a@b", "a\x00@b.example", "a@b.example\n", "a@[127.0.0.1]", "ǅ@ß.example", "İ@example.com",
		"a@\u00adb.example", "x@xn--.example", "a@b.example."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := domain.NormalizeAddress(s)
		if err != nil {
			return
		}
		for _, form := range []string{a.String(), a.Key(), a.ASCIIDomain(), a.LocalPart(), a.Domain()} {
			if why := storable(form); why != "" || strings.IndexFunc(form, unicode.IsControl) >= 0 {
				t.Fatalf("NormalizeAddress(%q) gave form %q: %s", s, form, why)
			}
		}
		if n := len(a.ASCIIDomain()); n > domain.MaxAddress {
			t.Fatalf("NormalizeAddress(%q) accepted %d octets", s, n)
		}
		for _, form := range []string{a.String(), a.ASCIIDomain()} {
			b, err := domain.NormalizeAddress(form)
			if err != nil {
				t.Fatalf("NormalizeAddress(%q) = %q, which is refused: %v", s, form, err)
			}
			if b.String() != a.String() || b.Key() != a.Key() {
				t.Fatalf("NormalizeAddress(%q) = %q/%q, again %q/%q", s, a.String(), a.Key(), b.String(), b.Key())
			}
		}
		if domain.AddressKey(s) != a.Key() {
			t.Fatalf("AddressKey(%q) = %q, want %q", s, domain.AddressKey(s), a.Key())
		}
	})
}

// FuzzR34_ServerSettings: accepted settings hold only storable text within
// the bounds, and feeding them back in gives the same settings (R4).
func FuzzR34_ServerSettings(f *testing.F) {
	f.Add("smtp.celanio.com", 587, uint8(1), uint8(1), "welcome@celanio.com", "", "", "welcome@celanio.com", "celanio GmbH")
	f.Add("", 0, uint8(2), uint8(2), "", "dir-1", "client-1", "noreply@celanio.com", "")
	f.Add("::1", 25, uint8(0), uint8(0), "", "", "", "a@b.example", "=?utf-8?b?DQo=?=")
	f.Add("[fc00::1]", 70000, uint8(0), uint8(1), "u\x00", "", "", "a@b.example\n", "Name")
	f.Add("smtp.example.com\x00", 465, uint8(2), uint8(1), "user", "", "", "a@b.example", "\u0085")
	f.Fuzz(func(t *testing.T, host string, port int, enc, auth uint8, username, graphTenant, graphClient, sender, senderName string) {
		encs := []domain.Encryption{domain.EncryptionNone, domain.EncryptionSTARTTLS, domain.EncryptionTLS, {}}
		auths := []domain.ServerAuth{domain.AuthNone, domain.AuthPassword, domain.AuthMicrosoftGraph, {}}
		in := domain.ServerSettingsInput{Host: &host, Port: &port, Encryption: encs[int(enc)%len(encs)], Auth: auths[int(auth)%len(auths)],
			Username: &username, Password: ptr(domain.Secret("enc:pw")), GraphTenantID: &graphTenant, GraphClientID: &graphClient,
			GraphClientSecret: ptr(domain.Secret("enc:cs")), SenderAddress: sender, SenderName: &senderName}
		s, err := domain.NewServerSettings(in, nil)
		if err != nil {
			return
		}
		for _, v := range []string{s.Host, s.Username, s.GraphTenantID, s.GraphClientID, s.SenderAddress, s.SenderName} {
			if why := storable(v); why != "" || strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 ||
				utf8.RuneCountInString(v) > domain.MaxString {
				t.Fatalf("NewServerSettings accepted %q: %s", v, why)
			}
		}
		if domain.ValidDisplayName(s.SenderName) != "" {
			t.Fatalf("NewServerSettings accepted sender name %q", s.SenderName)
		}
		if s.Auth != domain.AuthMicrosoftGraph && (!domain.ValidHost(s.Host) || s.Port < 1 || s.Port > 65535) {
			t.Fatalf("NewServerSettings accepted host %q port %d", s.Host, s.Port)
		}
		var storedPort *int
		if s.Port != 0 {
			storedPort = &s.Port
		}
		again, err := domain.NewServerSettings(domain.ServerSettingsInput{Host: &s.Host, Port: storedPort, Encryption: s.Encryption, Auth: s.Auth,
			Username: &s.Username, Password: &s.Password, GraphTenantID: &s.GraphTenantID, GraphClientID: &s.GraphClientID,
			GraphClientSecret: &s.GraphClientSecret, SenderAddress: s.SenderAddress, SenderName: &s.SenderName, SMTPUTF8: &s.SMTPUTF8}, nil)
		if err != nil {
			t.Fatalf("settings %+v are refused when given again: %v", s, err)
		}
		if again != s {
			t.Fatalf("settings %+v given again are %+v", s, again)
		}
	})
}
