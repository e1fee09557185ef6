package account

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/absender/absender/domain"
)

// Bounds of an auto-reply (R29, R34).
const (
	MaxAutoReplies = 50  // per account
	MaxExclusions  = 100 // per auto-reply
	maxTimeZone    = 64  // octets of an IANA zone name
)

// AutoReplyInput mirrors the contract's AutoReplyInput.
type AutoReplyInput struct {
	Name            string
	Subject         string
	Body            string
	StartsAt        *time.Time
	EndsAt          *time.Time
	Weekdays        []int
	TimeZone        string // "" is UTC
	Exclusions      []string
	AlternateSender string
}

// AutoReply is a validated auto-reply of R29. Build it with NewAutoReply;
// an account's are rebuilt from its events.
type AutoReply struct {
	id              string
	name, subject   string
	body            string
	startsAt        *time.Time
	endsAt          *time.Time
	weekdays        []int // sorted, 1 (Monday) to 7 (Sunday)
	timeZone        string
	location        *time.Location
	exclusions      []string // address keys and "@" + lower-case punycode domains
	alternateSender string
	active          bool
}

// NewAutoReply validates in (R29, R34), INVALID_INPUT naming the field:
// name (at most 200 characters) and subject (at most 998) one-line texts
// without control characters or encoded CR/LF, body a multi-line text
// (required), endsAt after startsAt, weekdays 1–7 (duplicates removed),
// timeZone an IANA zone (default UTC), at most 100 exclusions each an
// address or "@domain", alternateSender an address (that it is one of the
// tenant's is the caller's check).
func NewAutoReply(id string, in AutoReplyInput) (AutoReply, error) {
	r := AutoReply{id: id}
	var err error
	if r.name, err = domain.NewName("name", in.Name); err != nil {
		return AutoReply{}, err
	}
	if r.subject, err = domain.NewSubject("subject", in.Subject); err != nil {
		return AutoReply{}, err
	}
	if err := domain.CheckBody("body", in.Body); err != nil {
		return AutoReply{}, err
	}
	if strings.TrimSpace(in.Body) == "" {
		return AutoReply{}, domain.InvalidInput("body", "is required")
	}
	r.body = in.Body
	if in.StartsAt != nil && in.EndsAt != nil && !in.EndsAt.After(*in.StartsAt) {
		return AutoReply{}, domain.InvalidInput("endsAt", "must be after startsAt")
	}
	r.startsAt, r.endsAt = utcPtr(in.StartsAt), utcPtr(in.EndsAt)
	for _, d := range in.Weekdays {
		if d < 1 || d > 7 {
			return AutoReply{}, domain.InvalidInput("weekdays", "must be ISO weekdays 1 (Monday) to 7 (Sunday)")
		}
		if !slices.Contains(r.weekdays, d) {
			r.weekdays = append(r.weekdays, d)
		}
	}
	slices.Sort(r.weekdays)
	if r.timeZone, r.location, err = timeZone(in.TimeZone); err != nil {
		return AutoReply{}, err
	}
	if len(in.Exclusions) > MaxExclusions {
		return AutoReply{}, domain.InvalidInput("exclusions", fmt.Sprintf("at most %d", MaxExclusions))
	}
	for _, x := range in.Exclusions {
		key, err := exclusionKey(x)
		if err != nil {
			return AutoReply{}, err
		}
		if !slices.Contains(r.exclusions, key) {
			r.exclusions = append(r.exclusions, key)
		}
	}
	if in.AlternateSender != "" {
		a, err := domain.NormalizeAddress(in.AlternateSender)
		if err != nil {
			return AutoReply{}, domain.WithField(err, "alternateSender")
		}
		r.alternateSender = a.String()
	}
	return r, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func timeZone(name string) (string, *time.Location, error) {
	if name == "" {
		return "UTC", time.UTC, nil
	}
	if err := domain.CheckLine("timeZone", name, maxTimeZone); err != nil {
		return "", nil, err
	}
	// time.LoadLocation also opens files by name: only IANA-looking names get there.
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_-+", c)) {
			return "", nil, domain.InvalidInput("timeZone", "is not an IANA time zone")
		}
	}
	if strings.Contains(name, "..") || strings.HasPrefix(name, "/") || name == "Local" {
		return "", nil, domain.InvalidInput("timeZone", "is not an IANA time zone")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return "", nil, domain.InvalidInput("timeZone", "is not an IANA time zone")
	}
	return name, loc, nil
}

// exclusionKey is an address's key, or "@" and a domain in lower-case
// punycode (R29).
func exclusionKey(x string) (string, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(x), "@"); ok {
		ascii, _, err := domain.NormalizeDomain("exclusions", rest)
		if err != nil {
			return "", err
		}
		return "@" + ascii, nil
	}
	a, err := domain.NormalizeAddress(x)
	if err != nil {
		return "", domain.WithField(err, "exclusions")
	}
	return a.Key(), nil
}

func (r AutoReply) saved(accountID, tenantID string) AutoReplySaved {
	return AutoReplySaved{AccountID: accountID, TenantID: tenantID, AutoReplyID: r.id, Name: r.name, Subject: r.subject,
		Body: r.body, StartsAt: r.startsAt, EndsAt: r.endsAt, Weekdays: slices.Clone(r.weekdays), TimeZone: r.timeZone,
		Exclusions: slices.Clone(r.exclusions), AlternateSender: r.alternateSender}
}

// fromSaved rebuilds an auto-reply from its event; a zone this machine
// does not know (no tzdata) falls back to UTC rather than lose the reply.
func fromSaved(e AutoReplySaved, active bool) AutoReply {
	loc, err := time.LoadLocation(e.TimeZone)
	if err != nil || e.TimeZone == "" {
		loc = time.UTC
	}
	return AutoReply{id: e.AutoReplyID, name: e.Name, subject: e.Subject, body: e.Body, startsAt: e.StartsAt,
		endsAt: e.EndsAt, weekdays: e.Weekdays, timeZone: e.TimeZone, location: loc, exclusions: e.Exclusions,
		alternateSender: e.AlternateSender, active: active}
}

// ID is the auto-reply's id.
func (r AutoReply) ID() string { return r.id }

// Name is the auto-reply's name.
func (r AutoReply) Name() string { return r.name }

// Subject is the reply's subject.
func (r AutoReply) Subject() string { return r.subject }

// Body is the reply's text.
func (r AutoReply) Body() string { return r.body }

// Active reports whether this is the account's active auto-reply.
func (r AutoReply) Active() bool { return r.active }

// AlternateSender is the address replies come from instead of the account's, "" when none.
func (r AutoReply) AlternateSender() string { return r.alternateSender }

// TimeZone is the IANA zone of the schedule.
func (r AutoReply) TimeZone() string { return r.timeZone }
