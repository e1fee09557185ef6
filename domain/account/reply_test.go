package account_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/account"
	. "github.com/absender/absender/domain/internal/decidertest"
)

func reply(t *testing.T, in account.AutoReplyInput) account.AutoReply {
	t.Helper()
	in.Name, in.Subject, in.Body = "Urlaub", "Abwesend", "Bis Montag."
	r, err := account.NewAutoReply("r1", in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestR29_DueByScheduleInTheRepliesTimeZone(t *testing.T) {
	start := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	end := time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC)
	// Friday 2026-12-25 23:30 UTC is Saturday 00:30 in Berlin.
	fridayNightUTC := time.Date(2026, 12, 25, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		rule string
		in   account.AutoReplyInput
		now  time.Time
		want bool
	}{
		{"R29 no schedule: always", account.AutoReplyInput{}, start, true},
		{"R29 before start", account.AutoReplyInput{StartsAt: &start, EndsAt: &end}, start.Add(-time.Second), false},
		{"R29 at start", account.AutoReplyInput{StartsAt: &start, EndsAt: &end}, start, true},
		{"R29 at end no longer", account.AutoReplyInput{StartsAt: &start, EndsAt: &end}, end, false},
		{"R29 open end", account.AutoReplyInput{StartsAt: &start}, end.AddDate(1, 0, 0), true},
		{"R29 weekday in UTC: Friday", account.AutoReplyInput{Weekdays: []int{5}}, fridayNightUTC, true},
		{"R29 weekday in Berlin: already Saturday", account.AutoReplyInput{Weekdays: []int{5}, TimeZone: "Europe/Berlin"}, fridayNightUTC, false},
		{"R29 Saturday in Berlin", account.AutoReplyInput{Weekdays: []int{6, 7}, TimeZone: "Europe/Berlin"}, fridayNightUTC, true},
		{"R29 Sunday is ISO 7", account.AutoReplyInput{Weekdays: []int{7}}, time.Date(2026, 12, 27, 12, 0, 0, 0, time.UTC), true},
		{"R29 Monday is ISO 1", account.AutoReplyInput{Weekdays: []int{1}}, time.Date(2026, 12, 28, 12, 0, 0, 0, time.UTC), true},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			if got := account.Due(reply(t, tc.in), tc.now); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestR29_Exclusions(t *testing.T) {
	r := reply(t, account.AutoReplyInput{Exclusions: []string{"Chef@Celanio.com", "@Bücher.example"}})
	for _, tc := range []struct {
		sender string
		want   bool
	}{{"chef@celanio.com", true}, {"CHEF@CELANIO.COM", true}, {"wer@xn--bcher-kva.example", true}, {"anna@celanio.com", false}, {"chef@sub.bücher.example", false}} {
		a, err := domain.NormalizeAddress(tc.sender)
		if err != nil {
			t.Fatal(err)
		}
		if got := account.Excluded(r, a); got != tc.want {
			t.Errorf("Excluded(%s): got %v, want %v", tc.sender, got, tc.want)
		}
	}
}

func TestR29_RFC3834Suppression(t *testing.T) {
	h := func(kv ...string) []account.Header {
		var out []account.Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, account.Header{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		rule       string
		headers    []account.Header
		returnPath string
		suppressed bool
	}{
		{"R29 an ordinary message gets a reply", h("Subject", "Hallo"), "anna@x.example", false},
		{"R29 Auto-Submitted: no allows a reply", h("Auto-Submitted", " No "), "anna@x.example", false},
		{"R29 Auto-Submitted: auto-replied", h("auto-submitted", "auto-replied"), "anna@x.example", true},
		{"R29 Auto-Submitted: auto-generated with parameters", h("Auto-Submitted", "auto-generated; owner-email=x@y"), "anna@x.example", true},
		{"R29 Precedence: bulk", h("Precedence", "bulk"), "anna@x.example", true},
		{"R29 Precedence: LIST", h("PRECEDENCE", "LIST"), "anna@x.example", true},
		{"R29 Precedence: junk", h("Precedence", "junk"), "anna@x.example", true},
		{"R29 Precedence: first-class is fine", h("Precedence", "first-class"), "anna@x.example", false},
		{"R29 List-Id", h("List-Id", "<news.x.example>"), "anna@x.example", true},
		{"R29 empty return path", nil, "", true},
		{"R29 null return path", nil, "<>", true},
		{"R29 MAILER-DAEMON", nil, "MAILER-DAEMON@mx.x.example", true},
		{"R29 mailer-daemon in brackets", nil, "<mailer-daemon@mx.x.example>", true},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			if got := account.Suppressed(tc.headers, tc.returnPath); (got != "") != tc.suppressed {
				t.Fatalf("got %q, want suppressed %v", got, tc.suppressed)
			}
		})
	}
}

func TestR34_HeadersBounded(t *testing.T) {
	for name, headers := range map[string][]account.Header{
		"too many":         make([]account.Header, account.MaxHeaders+1),
		"empty name":       {{Name: "", Value: "x"}},
		"name with colon":  {{Name: "List-Id:", Value: "x"}},
		"value with CR LF": {{Name: "Subject", Value: "a\r\nList-Id: x"}},
		"value too long":   {{Name: "Subject", Value: strings.Repeat("x", 1001)}},
	} {
		if err := account.CheckHeaders(headers); !errors.Is(err, domain.InvalidInput("headers", "")) {
			t.Errorf("%s: got %v, want INVALID_INPUT naming headers", name, err)
		}
	}
}

// R29 end to end over the aggregate with an injected clock: one reply per
// sender within 7 days, none to excluded senders, mailing lists or
// auto-submitted mail, one again after the reset and after 7 days.
func TestR29_OneReplyPerSenderIn7Days(t *testing.T) {
	now := time.Date(2026, 12, 21, 9, 0, 0, 0, time.UTC)
	s := Given[account.State](created, account.AutoReplySaved{AccountID: "a1", TenantID: "t1", AutoReplyID: "r1", Name: "Urlaub",
		Subject: "Abwesend", Body: "Bis Montag.", TimeZone: "UTC", Exclusions: []string{"@celanio.com"}},
		account.AutoReplyActiveSet{AccountID: "a1", AutoReplyID: "r1", Active: true})
	anna := account.Inbound{Sender: "Anna@x.example", ReturnPath: "SRS0=abcd=AA=x.example=Anna@fwd.example"}
	step := func(rule string, in account.Inbound, want bool) {
		t.Helper()
		d, err := account.ReplyFor(s, in, now)
		if err != nil {
			t.Fatal(err)
		}
		if d.Due != want {
			t.Fatalf("%s: got due %v (%s), want %v", rule, d.Due, d.Reason, want)
		}
		if d.Due {
			if d.Sent.SenderKey != "anna@x.example" || !d.Sent.SentAt.Equal(now) || d.Reply.ID() != "r1" {
				t.Fatalf("%s: got %+v, want r1 remembered for anna@x.example at %v", rule, d.Sent, now)
			}
			Apply(s, d.Sent)
		}
	}
	step("R29 first message: a reply", anna, true)
	now = now.Add(time.Hour)
	step("R29 second message within 7 days: none", anna, false)
	step("R29 excluded domain: none", account.Inbound{Sender: "chef@celanio.com", ReturnPath: "chef@celanio.com"}, false)
	step("R29 mailing list: none", account.Inbound{Sender: "list@y.example", ReturnPath: "bounces@y.example", Headers: []account.Header{{Name: "List-Id", Value: "<l.y.example>"}}}, false)
	step("R29 auto-submitted: none", account.Inbound{Sender: "bot@y.example", ReturnPath: "bot@y.example", Headers: []account.Header{{Name: "Auto-Submitted", Value: "auto-generated"}}}, false)
	Apply(s, account.AutoReplyMemoryReset{AccountID: "a1"})
	step("R29 after the reset: a reply again", anna, true)
	now = now.Add(7*24*time.Hour - time.Second)
	step("R29 just under 7 days: none", anna, false)
	now = now.Add(time.Second)
	step("R29 after 7 days: a reply again", anna, true)
	Apply(s, account.AutoReplyActiveSet{AccountID: "a1", AutoReplyID: "r1", Active: false})
	now = now.AddDate(0, 1, 0)
	step("R29 no active auto-reply: none", anna, false)
}
