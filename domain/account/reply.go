package account

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/absender/absender/domain"
)

// Memory is how long a sender gets no second reply (R29).
const Memory = 7 * 24 * time.Hour

// Due reports whether the reply's schedule covers now (R29): not before
// startsAt, before endsAt, and, when weekdays are set, on one of them —
// ISO weekdays (1 Monday … 7 Sunday) in the reply's IANA time zone.
// Whether the reply is active is not Due's question (see ReplyFor).
func Due(r AutoReply, now time.Time) bool {
	if r.startsAt != nil && now.Before(*r.startsAt) {
		return false
	}
	if r.endsAt != nil && !now.Before(*r.endsAt) {
		return false
	}
	if len(r.weekdays) == 0 {
		return true
	}
	loc := r.location
	if loc == nil {
		loc = time.UTC
	}
	day := int(now.In(loc).Weekday())
	if day == 0 {
		day = 7 // Sunday is ISO weekday 7
	}
	return slices.Contains(r.weekdays, day)
}

// Excluded reports whether sender is one of the reply's exclusions: its
// address (by key) or "@" and its domain (R29).
func Excluded(r AutoReply, sender domain.Address) bool {
	return slices.Contains(r.exclusions, sender.Key()) || slices.Contains(r.exclusions, "@"+sender.Domain())
}

// Header is a header field of the inbound message (the contract's HeaderInput).
type Header struct {
	Name  string
	Value string
}

// Bounds of the headers the data plane reports (R34).
const (
	MaxHeaders     = 500
	maxHeaderName  = 200
	maxHeaderValue = 1000
)

// CheckHeaders checks reported headers (R34): at most 500, names of
// printable ASCII without ":" (at most 200), values one-line texts of at
// most 1,000 characters. Errors are INVALID_INPUT naming headers.
func CheckHeaders(headers []Header) error {
	if len(headers) > MaxHeaders {
		return domain.InvalidInput("headers", fmt.Sprintf("at most %d headers", MaxHeaders))
	}
	for _, h := range headers {
		if h.Name == "" || len(h.Name) > maxHeaderName {
			return domain.InvalidInput("headers", fmt.Sprintf("a header name has 1 to %d characters", maxHeaderName))
		}
		for i := 0; i < len(h.Name); i++ {
			if c := h.Name[i]; c <= ' ' || c >= 0x7f || c == ':' {
				return domain.InvalidInput("headers", "a header name is printable ASCII without ':'")
			}
		}
		if err := domain.CheckLine("headers", h.Value, maxHeaderValue); err != nil {
			return err
		}
	}
	return nil
}

// Suppressed reports why no auto-reply may answer a message (RFC 3834,
// R29), "" when one may: an Auto-Submitted header other than "no", a
// Precedence of bulk, list or junk, a List-Id header, an empty return path
// ("" or "<>"), or a return path whose local part is MAILER-DAEMON. Header
// names and the values compared are case-insensitive; parameters after
// ";" and comments are ignored.
func Suppressed(headers []Header, returnPath string) string {
	rp := strings.TrimSpace(returnPath)
	if rp == "" || rp == "<>" {
		return "empty return path"
	}
	rp = strings.TrimSuffix(strings.TrimPrefix(rp, "<"), ">")
	if at := strings.LastIndexByte(rp, '@'); at >= 0 && strings.EqualFold(rp[:at], "mailer-daemon") || strings.EqualFold(rp, "mailer-daemon") {
		return "return path is MAILER-DAEMON"
	}
	for _, h := range headers {
		switch strings.ToLower(strings.TrimSpace(h.Name)) {
		case "auto-submitted":
			if headerToken(h.Value) != "no" {
				return "Auto-Submitted: " + headerToken(h.Value)
			}
		case "precedence":
			if v := headerToken(h.Value); v == "bulk" || v == "list" || v == "junk" {
				return "Precedence: " + v
			}
		case "list-id":
			return "List-Id header"
		}
	}
	return ""
}

// headerToken is a header value's first token, lower case, without
// parameters or a comment: "Auto-Replied; x=1 (why)" is "auto-replied".
func headerToken(v string) string {
	v, _, _ = strings.Cut(v, ";")
	v, _, _ = strings.Cut(v, "(")
	return strings.ToLower(strings.TrimSpace(v))
}

// Remembered reports whether the sender (its address key, after SRS
// reversal) got a reply less than 7 days before now (R29); last maps
// sender keys to the last reply since the last reset.
func Remembered(last map[string]time.Time, senderKey string, now time.Time) bool {
	t, ok := last[senderKey]
	return ok && now.Sub(t) < Memory
}

// Inbound is a message the data plane reports for an account (R29, R30).
type Inbound struct {
	// Sender is the envelope sender after SRS reversal (the caller
	// reverses an SRS address of Absender's own with package srs).
	Sender string
	// ReturnPath is the envelope sender as received; "" or "<>" for a bounce.
	ReturnPath string
	Headers    []Header
}

// ReplyDecision says whether the account replies and, if so, with what.
type ReplyDecision struct {
	Due    bool
	Reply  AutoReply     // the active auto-reply, when Due
	Sent   AutoReplySent // the event that remembers the reply, when Due
	Reason string        // why not, when not Due
}

// ReplyFor decides R29 for a message to the account: its active
// auto-reply answers when the message is not suppressed (RFC 3834), the
// sender is a valid address not excluded, the schedule covers now, and
// the sender got no reply in the last 7 days. Sent is recorded with the
// queued reply. Errors are INVALID_INPUT naming headers.
func ReplyFor(s *State, in Inbound, now time.Time) (ReplyDecision, error) {
	if err := CheckHeaders(in.Headers); err != nil {
		return ReplyDecision{}, err
	}
	r, ok := s.ActiveAutoReply()
	if !s.Exists() || !ok {
		return ReplyDecision{Reason: "no active auto-reply"}, nil
	}
	if why := Suppressed(in.Headers, in.ReturnPath); why != "" {
		return ReplyDecision{Reason: why}, nil
	}
	sender, err := domain.NormalizeAddress(in.Sender)
	if err != nil {
		return ReplyDecision{Reason: "the sender is not a valid address"}, nil
	}
	switch {
	case sender.Key() == s.addressKey:
		return ReplyDecision{Reason: "the sender is the account itself"}, nil
	case Excluded(r, sender):
		return ReplyDecision{Reason: "the sender is excluded"}, nil
	case !Due(r, now):
		return ReplyDecision{Reason: "outside the auto-reply's schedule"}, nil
	case Remembered(s.replied, sender.Key(), now):
		return ReplyDecision{Reason: "the sender got a reply in the last 7 days"}, nil
	}
	return ReplyDecision{Due: true, Reply: r, Sent: AutoReplySent{AccountID: s.id, TenantID: s.tenantID,
		AutoReplyID: r.id, SenderKey: sender.Key(), SentAt: now.UTC()}}, nil
}
