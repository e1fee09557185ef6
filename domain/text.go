package domain

import (
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// Bounds of R34 (and R22 for subjects and bodies). Lengths of one-line
// texts are in code points, of bodies in octets, of addresses in octets
// of the wire form (NormalizeAddress).
const (
	MaxName    = 200     // names: tenant, group, token, login, display and file names
	MaxSubject = 998     // a subject (R22)
	MaxString  = 1000    // every other one-line string
	MaxAddress = 254     // an address in wire form, in octets
	MaxBody    = 5 << 20 // a text or HTML body, or a support request's body, in octets (R22)
)

// CheckLine checks a one-line text field (R34): valid UTF-8, no control
// character (Unicode Cc: C0, DEL and C1) other than TAB, at most max code
// points. It checks the text as received, before any trimming: a control
// character is refused, never stripped (R22). Errors are INVALID_INPUT
// naming field.
func CheckLine(field, s string, max int) error {
	return checkText(field, s, max, false)
}

// CheckBody checks a multi-line text (R34: message and support bodies):
// valid UTF-8, no control character other than TAB, CR and LF, at most
// MaxBody octets (R22). Errors are INVALID_INPUT naming field.
func CheckBody(field, s string) error {
	if len(s) > MaxBody {
		return InvalidInput(field, fmt.Sprintf("must be at most %d MiB", MaxBody>>20))
	}
	return checkText(field, s, -1, true)
}

func checkText(field, s string, max int, multiLine bool) error {
	if reason := textProblem(s, max, multiLine); reason != "" {
		return InvalidInput(field, reason)
	}
	return nil
}

// textProblem is the reason s is not a valid text, or "". max < 0: no
// bound in code points.
func textProblem(s string, max int, multiLine bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if max >= 0 && len(s) > max && utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	for _, r := range s {
		switch {
		case r == '\t':
		case multiLine && (r == '\r' || r == '\n'):
		case unicode.IsControl(r):
			if r == '\r' || r == '\n' {
				return "must not contain CR or LF"
			}
			return fmt.Sprintf("must not contain control characters (U+%04X)", r)
		}
	}
	return ""
}

// CheckHeaderText checks a one-line text that goes into a mail header (a
// subject, a display name) like CheckLine, and also what its RFC 2047
// encoded words decode to: an encoded word that hides CR, LF or another
// control character, or that cannot be decoded and so cannot be checked,
// is refused (R22: header injection is refused, never stripped).
func CheckHeaderText(field, s string, max int) error {
	if reason := headerTextProblem(s, max); reason != "" {
		return InvalidInput(field, reason)
	}
	return nil
}

func headerTextProblem(s string, max int) string {
	if reason := textProblem(s, max, false); reason != "" {
		return reason
	}
	if !strings.Contains(s, "=?") {
		return ""
	}
	decoded, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return "contains an RFC 2047 encoded word that cannot be decoded"
	}
	if textProblem(decoded, -1, false) != "" {
		return "contains an RFC 2047 encoded word that decodes to control characters such as CR or LF"
	}
	return ""
}

// wordDecoder decodes RFC 2047 encoded words in every charset a mail
// client might know (the WHATWG encoding names and labels).
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}}

// NewName returns a required name (tenant, group, token, a user's or
// mailbox's display name): checked as received by CheckHeaderText with at
// most MaxName characters, then trimmed; blank is INVALID_INPUT naming
// field.
func NewName(field, s string) (string, error) {
	if err := CheckHeaderText(field, s, MaxName); err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", InvalidInput(field, field+" is required")
	}
	return s, nil
}

// NewSubject returns a subject (message, support request): one line of at
// most MaxSubject characters whose encoded words hide no control character
// (CheckHeaderText, R22). It is kept as given; it may be empty.
func NewSubject(field, s string) (string, error) {
	if err := CheckHeaderText(field, s, MaxSubject); err != nil {
		return "", err
	}
	return s, nil
}

// ValidDisplayName checks a display name used in mail headers: no CR, LF or
// other control characters, also not inside RFC 2047 encoded words (header
// injection is refused, never stripped, R22), valid UTF-8 and at most
// MaxName characters. It returns the reason, or "" when valid.
func ValidDisplayName(s string) string {
	return headerTextProblem(s, MaxName)
}
