package domain

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Address is a validated e-mail address (addr-spec). Build it with
// NormalizeAddress; the zero Address is "no address".
//
// Addresses compare by Key: the local part case-folded, the domain
// IDNA-normalised (NFC, then punycode) and lower-cased (SPEC §1).
type Address struct {
	local   string // as entered, NFC
	unicode string // domain, lower-case Unicode form
	ascii   string // domain, lower-case punycode (A-labels)
}

// idnaProfile maps (NFC, lower case) and validates a domain for lookup,
// with STD3 host-name rules and DNS length limits.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
	idna.ValidateLabels(true),
)

var foldCase = cases.Fold()

// NormalizeAddress trims s and validates it as a pragmatic RFC 5322 / RFC
// 6531 addr-spec: a dot-atom local part (atext, plus any non-ASCII UTF-8
// character) of at most 64 octets — quoted local parts are not accepted —,
// "@", and a host name with at least two labels (IDNA, NFC, punycode). IP
// address literals are not accepted. The input must be a one-line text
// (CheckLine, R34) before it is trimmed. Errors are INVALID_INPUT with field
// "address"; callers rename the field with WithField.
func NormalizeAddress(s string) (Address, error) {
	// R34 on the address as received: a control character is refused,
	// not trimmed away; the bound keeps IDNA's work small.
	if err := CheckLine("address", s, MaxString); err != nil {
		return Address{}, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, InvalidInput("address", "address is required")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, InvalidInput("address", "address must look like local@domain")
	}
	local, host := norm.NFC.String(s[:at]), s[at+1:]
	if err := validLocalPart(local); err != "" {
		return Address{}, InvalidInput("address", err)
	}
	ascii, uni, ok := normalizeHost(host)
	if !ok || !strings.Contains(ascii, ".") {
		return Address{}, InvalidInput("address", "domain of the address is not a valid host name")
	}
	if len(local)+1+len(ascii) > MaxAddress {
		return Address{}, InvalidInput("address", fmt.Sprintf("address is longer than %d octets", MaxAddress))
	}
	return Address{local: local, unicode: uni, ascii: ascii}, nil
}

// WithField returns err with its field renamed when it is a *Error; it is
// used to report address errors under the caller's input field name.
func WithField(err error, field string) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

func validLocalPart(local string) string {
	if len(local) > 64 {
		return "local part is longer than 64 octets"
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "local part has a misplaced dot"
	}
	for _, r := range local {
		switch {
		case r == '.':
		case r >= utf8.RuneSelf:
			if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
				return "local part contains a control or space character"
			}
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r):
		default:
			return "local part contains a character that needs quoting"
		}
	}
	return ""
}

// normalizeHost returns the lower-case punycode and Unicode forms of a host name.
func normalizeHost(host string) (ascii, uni string, ok bool) {
	if host == "" || strings.HasSuffix(host, ".") {
		return "", "", false
	}
	ascii, err := idnaProfile.ToASCII(host)
	if err != nil || ascii == "" {
		return "", "", false
	}
	labels := strings.Split(ascii, ".")
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", "", false // an all-numeric last label is an IP address, not a host name
	}
	uni, err = idnaProfile.ToUnicode(ascii)
	if err != nil {
		return "", "", false
	}
	return ascii, uni, true
}

// ValidHost reports whether s is a valid host name (IDNA allowed) or an IP
// address (IPv6 optionally in brackets).
func ValidHost(s string) bool {
	if s == "" || strings.TrimSpace(s) != s {
		return false
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		return err == nil && a.Is6() && a.Zone() == ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, _, ok := normalizeHost(s)
	return ok
}

// String is the display form: the local part as entered, "@", the domain
// in lower-case Unicode.
func (a Address) String() string {
	if a.IsZero() {
		return ""
	}
	return a.local + "@" + a.unicode
}

// ASCIIDomain is the form for the wire: local part as entered, domain in
// punycode (R5: a non-ASCII domain is always IDNA-encoded on the wire).
func (a Address) ASCIIDomain() string {
	if a.IsZero() {
		return ""
	}
	return a.local + "@" + a.ascii
}

// Key is the canonical comparison key: case-folded local part, "@",
// lower-case punycode domain.
func (a Address) Key() string {
	if a.IsZero() {
		return ""
	}
	return norm.NFC.String(foldCase.String(a.local)) + "@" + a.ascii
}

// LocalPart is the local part as entered.
func (a Address) LocalPart() string { return a.local }

// Domain is the lower-case punycode domain.
func (a Address) Domain() string { return a.ascii }

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a.local == "" }

// Equal reports whether a and b have the same Key.
func (a Address) Equal(b Address) bool { return a.Key() == b.Key() }

// IsInternationalLocalPart reports whether the local part has non-ASCII
// characters, which need a transport with smtpUtf8 (R5).
func (a Address) IsInternationalLocalPart() bool {
	for i := 0; i < len(a.local); i++ {
		if a.local[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// AddressKey returns the Key of s, or s lower-cased and trimmed when s is
// not a valid address. It lets read models compare stored strings.
func AddressKey(s string) string {
	if a, err := NormalizeAddress(s); err == nil {
		return a.Key()
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// NormalizeDomain checks a mail domain name as received (CheckLine, R34)
// and returns its lower-case punycode and Unicode forms (IDNA, NFC): a
// host name of at least two labels, as the domain of an address
// (NormalizeAddress). Errors are INVALID_INPUT naming field.
func NormalizeDomain(field, s string) (ascii, uni string, err error) {
	if err := CheckLine(field, s, MaxString); err != nil {
		return "", "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", InvalidInput(field, "domain is required")
	}
	ascii, uni, ok := normalizeHost(s)
	if !ok || !strings.Contains(ascii, ".") {
		return "", "", InvalidInput(field, "is not a valid domain name")
	}
	return ascii, uni, nil
}
