package account

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/absender/absender/domain"
	"golang.org/x/text/cases"
)

// Bounds of a password (R27, R34).
const (
	MinPassword = 10  // code points
	MaxPassword = 200 // code points; argon2id's work does not depend on it, the bound keeps input small
)

// commonPasswords is SecLists' Passwords/Common-Credentials/10k-most-common.txt
// (github.com/danielmiessler/SecLists, commit 4f84b3c29b5f2192cc82ccdeaf655f0c5f0ab547,
// MIT licence), 10,000 lines, line endings normalised to LF.
//
//go:embed common_passwords.txt
var commonPasswordsFile string

var commonPasswords = func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for _, line := range strings.Split(commonPasswordsFile, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			set[strings.ToLower(line)] = struct{}{}
		}
	}
	return set
}()

var fold = cases.Fold()

// Password is a new password that satisfies R27. It exists only between
// the API and the hasher: it never enters an event, and it prints as
// "[redacted]".
type Password struct{ secret string }

// NewPassword checks a new password for the account with localPart (R27):
// at least 10 characters, at least three of the classes lower case, upper
// case, digit and symbol (every other character), not containing the
// local part (case-insensitive), not on the bundled list of the 10,000
// most common passwords. Checked as received (R34): a one-line text of at
// most 200 characters, no control character, not trimmed. Errors are
// INVALID_INPUT with field "password".
//
// Decision where the SPEC is silent: the list is compared without case,
// and also with leading and trailing digits and symbols removed
// ("Password123!" is "password" with decoration). Compared exactly, the
// list could never refuse a password the other rules let through: only 51
// of its entries have 10 characters, and none of those has three classes.
func NewPassword(password, localPart string) (Password, error) {
	const field = "password"
	if err := domain.CheckLine(field, password, MaxPassword); err != nil {
		return Password{}, err
	}
	if utf8.RuneCountInString(password) < MinPassword {
		return Password{}, domain.InvalidInput(field, fmt.Sprintf("must have at least %d characters", MinPassword))
	}
	if classes(password) < 3 {
		return Password{}, domain.InvalidInput(field, "must mix at least three of lower case, upper case, digits and symbols")
	}
	if localPart != "" && strings.Contains(fold.String(password), fold.String(localPart)) {
		return Password{}, domain.InvalidInput(field, "must not contain the account's local part")
	}
	if isCommon(password) {
		return Password{}, domain.InvalidInput(field, "is one of the most common passwords")
	}
	return Password{secret: password}, nil
}

// classes counts the character classes of R27 in s.
func classes(s string) int {
	var lower, upper, digit, symbol int
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			symbol = 1
		}
	}
	return lower + upper + digit + symbol
}

// isCommon reports whether s, without case and with or without its
// leading and trailing digits and symbols (a rest of at least four
// letters), is on the bundled list.
func isCommon(s string) bool {
	lower := strings.ToLower(s)
	if _, ok := commonPasswords[lower]; ok {
		return true
	}
	base := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if utf8.RuneCountInString(base) < 4 {
		return false // "ab" or "x" alone is not a word of the list worth refusing
	}
	_, ok := commonPasswords[base]
	return ok
}

// String hides the password from logs and %v.
func (Password) String() string { return "[redacted]" }

// GoString hides the password from %#v.
func (Password) GoString() string { return "account.Password{[redacted]}" }

// IsZero reports whether p is the zero Password (no password).
func (p Password) IsZero() bool { return p.secret == "" }
