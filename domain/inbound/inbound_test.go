package inbound_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/inbound"
)

func facts(t *testing.T, domains []inbound.Domain, accounts []inbound.Account) *inbound.Facts {
	t.Helper()
	f, err := inbound.NewFacts(domains, accounts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	celanio  = inbound.Domain{Name: "Celanio.com", Verified: true}
	bucher   = inbound.Domain{Name: "bücher.example", Verified: true, Maintenance: true, CatchAll: "info@bücher.example"}
	pending  = inbound.Domain{Name: "pending.example"}
	external = inbound.Domain{Name: "external-catchall.example", Verified: true, CatchAll: "Sammel@Other.example"}
	accounts = []inbound.Account{
		{Address: "max@celanio.com", KeepCopy: true},
		{Address: "eva@celanio.com", ForwardTo: []string{"eva@gmail.example", "max@celanio.com"}, KeepCopy: false},
		{Address: "info@bücher.example", KeepCopy: true},
	}
)

func TestR30_Decide(t *testing.T) {
	f := facts(t, []inbound.Domain{celanio, bucher, pending, external}, accounts)
	for _, tc := range []struct {
		rule, recipient, sender string
		want                    inbound.Decision
	}{
		{"R30 an account receives", "Max@CELANIO.com", "a@x.example",
			inbound.Decision{Action: inbound.Deliver, Account: "max@celanio.com", KeepCopy: true, SMTPCode: 250, Status: "2.1.5", Reason: "delivered to the account max@celanio.com"}},
		{"R30 an account forwards, SRS in its domain, no copy", "eva@celanio.com", "a@x.example",
			inbound.Decision{Action: inbound.Forward, Account: "eva@celanio.com", ForwardTo: []string{"eva@gmail.example", "max@celanio.com"},
				ForwardDomain: "celanio.com", SMTPCode: 250, Status: "2.1.5", Reason: "forwarded to eva@gmail.example, max@celanio.com"}},
		{"R30 unknown local part goes to the catch-all (R32: also in maintenance)", "wer@BÜCHER.example", "",
			inbound.Decision{Action: inbound.CatchAll, Account: "info@bücher.example", ForwardTo: []string{"info@bücher.example"}, SMTPCode: 250, Status: "2.1.5",
				Reason: "unknown local part, delivered to the catch-all info@bücher.example"}},
		{"R30 an external catch-all leaves with SRS in the recipient's domain", "x@external-catchall.example", "<>",
			inbound.Decision{Action: inbound.CatchAll, ForwardTo: []string{"Sammel@other.example"}, ForwardDomain: "external-catchall.example", SMTPCode: 250, Status: "2.1.5",
				Reason: "unknown local part, delivered to the catch-all Sammel@other.example"}},
		{"R30 unknown local part without catch-all: 550 5.1.1", "nobody@celanio.com", "a@x.example",
			inbound.Decision{Action: inbound.Reject, SMTPCode: 550, Status: "5.1.1", Reason: "no account nobody@celanio.com"}},
		{"R26 R30 unverified domain: 450 4.7.1", "max@pending.example", "a@x.example",
			inbound.Decision{Action: inbound.Reject, SMTPCode: 450, Status: "4.7.1", Reason: "pending.example is not verified yet"}},
		{"R30 a domain Absender does not host: 550 5.1.1", "max@elsewhere.example", "a@x.example",
			inbound.Decision{Action: inbound.Reject, SMTPCode: 550, Status: "5.1.1", Reason: "elsewhere.example is not a mail domain of Absender"}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, err := inbound.Decide(f, tc.recipient, tc.sender)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestR34_DecideChecksItsInput(t *testing.T) {
	f := facts(t, []inbound.Domain{celanio}, accounts)
	for _, tc := range []struct{ recipient, sender, field string }{
		{"max", "a@x.example", "recipient"},
		{"max@celanio.com\r\nRCPT TO:<x@y>", "a@x.example", "recipient"},
		{"max@celanio.com", "a\x00@x.example", "sender"},
		{"max@celanio.com", "not an address", "sender"},
	} {
		if _, err := inbound.Decide(f, tc.recipient, tc.sender); !errors.Is(err, domain.InvalidInput(tc.field, "")) {
			t.Errorf("Decide(%q, %q): got %v, want INVALID_INPUT naming %s", tc.recipient, tc.sender, err, tc.field)
		}
	}
}

func TestR28_Loops(t *testing.T) {
	a := func(addr string, to ...string) inbound.Account {
		return inbound.Account{Address: addr, ForwardTo: to, KeepCopy: true}
	}
	for _, tc := range []struct {
		rule     string
		domains  []inbound.Domain
		accounts []inbound.Account
		want     []string
	}{
		{"R28 no loop: forwards end outside or in an account", []inbound.Domain{celanio, bucher}, accounts, nil},
		{"R28 two accounts forward to each other", []inbound.Domain{celanio},
			[]inbound.Account{a("a@celanio.com", "B@celanio.com"), a("b@celanio.com", "a@celanio.com")},
			[]string{"a@celanio.com", "b@celanio.com", "a@celanio.com"}},
		{"R28 a longer cycle across domains", []inbound.Domain{celanio, {Name: "other.example", Verified: true}},
			[]inbound.Account{a("a@celanio.com", "x@gmail.example", "b@other.example"), a("b@other.example", "c@celanio.com"), a("c@celanio.com", "a@celanio.com")},
			[]string{"a@celanio.com", "b@other.example", "c@celanio.com", "a@celanio.com"}},
		{"R28 forward to an unknown local part whose catch-all comes back", []inbound.Domain{{Name: "celanio.com", Verified: true, CatchAll: "a@celanio.com"}},
			[]inbound.Account{a("a@celanio.com", "nobody@celanio.com")},
			[]string{"a@celanio.com", "nobody@celanio.com", "a@celanio.com"}},
		{"R28 a catch-all to an unknown address of its own domain", []inbound.Domain{{Name: "celanio.com", CatchAll: "sammel@celanio.com"}}, nil,
			[]string{"sammel@celanio.com", "sammel@celanio.com"}},
		{"R28 catch-alls of two domains pointing at each other", []inbound.Domain{{Name: "a.example", CatchAll: "x@b.example"}, {Name: "b.example", CatchAll: "y@a.example"}}, nil,
			[]string{"x@b.example", "y@a.example", "x@b.example"}},
		{"R28 keeping a copy does not break a loop", []inbound.Domain{celanio},
			[]inbound.Account{a("a@celanio.com", "a@celanio.com")}, []string{"a@celanio.com", "a@celanio.com"}},
		{"R28 external addresses end the walk", []inbound.Domain{celanio},
			[]inbound.Account{a("a@celanio.com", "a@gmail.example")}, nil},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			f := facts(t, tc.domains, tc.accounts)
			if got := inbound.Loops(f); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			err := inbound.CheckNoLoop(f, "to")
			if (err != nil) != (tc.want != nil) || err != nil && !errors.Is(err, domain.InvalidInput("to", "")) {
				t.Fatalf("CheckNoLoop: got %v, want INVALID_INPUT naming to exactly when there is a loop", err)
			}
		})
	}
}

func TestNewFactsRefusesInvalidFacts(t *testing.T) {
	for name, tc := range map[string]struct {
		d []inbound.Domain
		a []inbound.Account
	}{
		"domain":   {[]inbound.Domain{{Name: "x"}}, nil},
		"catchAll": {[]inbound.Domain{{Name: "x.example", CatchAll: "nope"}}, nil},
		"account":  {nil, []inbound.Account{{Address: "nope"}}},
		"forward":  {nil, []inbound.Account{{Address: "a@x.example", ForwardTo: []string{"nope"}}}},
	} {
		if _, err := inbound.NewFacts(tc.d, tc.a); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
	}
}
