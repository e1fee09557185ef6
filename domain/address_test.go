package domain_test

import (
	"errors"
	"testing"

	"github.com/absender/absender/domain"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		in, display, key string
		intl             bool
	}{
		{"welcome@celanio.com", "welcome@celanio.com", "welcome@celanio.com", false},
		{"  Welcome@Celanio.COM ", "Welcome@celanio.com", "welcome@celanio.com", false},
		{"first.last+tag@sub.example.org", "first.last+tag@sub.example.org", "first.last+tag@sub.example.org", false},
		{"info@Bücher.de", "info@bücher.de", "info@xn--bcher-kva.de", false},
		{"info@xn--bcher-kva.de", "info@bücher.de", "info@xn--bcher-kva.de", false},
		{"山田太郎@株式.会社", "山田太郎@株式.会社", "山田太郎@xn--w0tp6r.xn--6oq404h", true},
		{"STRASSE@example.com", "STRASSE@example.com", "strasse@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := domain.NormalizeAddress(tt.in)
			if err != nil {
				t.Fatalf("NormalizeAddress(%q) error %v", tt.in, err)
			}
			if a.String() != tt.display || a.Key() != tt.key || a.IsInternationalLocalPart() != tt.intl {
				t.Fatalf("got %q key %q intl %v, want %q key %q intl %v", a.String(), a.Key(), a.IsInternationalLocalPart(), tt.display, tt.key, tt.intl)
			}
		})
	}
	for _, in := range []string{"", "plain", "@example.com", "a@", "a b@example.com", "a..b@example.com", ".a@example.com",
		"a@example", "a@-example.com", "a@exa_mple.com", "a@1.2.3.4", "\"quoted\"@example.com", "a@example.com.", "a\n@example.com",
		"a@b@example.com"} {
		t.Run("invalid "+in, func(t *testing.T) {
			if _, err := domain.NormalizeAddress(in); !errors.Is(err, domain.ErrInvalidInput) {
				t.Fatalf("NormalizeAddress(%q) error = %v, want INVALID_INPUT", in, err)
			}
		})
	}
}

func TestValidHost(t *testing.T) {
	for host, want := range map[string]bool{
		"smtp.example.com": true, "localhost": true, "mail.bücher.de": true, "192.0.2.1": true,
		"2001:db8::1": true, "[2001:db8::1]": true, "": false, "smtp example.com": false,
		"-smtp.example.com": false, "smtp.example.com:25": false, " smtp.example.com": false, "999.1.1.1": false,
	} {
		if got := domain.ValidHost(host); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", host, got, want)
		}
	}
}
