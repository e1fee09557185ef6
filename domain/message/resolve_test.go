package message_test

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/domain/options"
	"github.com/absender/absender/domain/system"
	"github.com/absender/absender/domain/tenant"
)

// The seed 001 world: tenant celanio with user Mustermann, the system
// server and, depending on the case, a tenant server and mailboxes.
const celanioID = "t-celanio"

var (
	systemSettings = domain.ServerSettings{Host: "smtp.absender.example", Port: 587, Encryption: domain.EncryptionSTARTTLS,
		Auth: domain.AuthNone, SenderAddress: "noreply@absender.example", SenderName: "Absender"}
	tenantSettings = domain.ServerSettings{Host: "smtp.celanio.com", Port: 587, Encryption: domain.EncryptionSTARTTLS,
		Auth: domain.AuthNone, SenderAddress: "system@celanio.com", SenderName: "celanio System", SMTPUTF8: true}
	welcomeSettings = domain.ServerSettings{Host: "mail.celanio.com", Port: 465, Encryption: domain.EncryptionTLS,
		Auth: domain.AuthPassword, Username: "welcome@celanio.com", Password: "enc:x", SenderAddress: "welcome@celanio.com", SMTPUTF8: true}

	mustermann = options.Viewer{UserID: "u-mustermann", TenantID: celanioID, DisplayName: "Max Mustermann",
		Email: "max@celanio.com", Role: domain.RoleEmployee, Active: true}

	// welcomeMailbox is authenticated and restricted: only its grantees may use it.
	welcomeMailbox = options.Candidate{MailboxID: "mb-welcome", TenantID: celanioID, Address: "welcome@celanio.com",
		DisplayName: "celanio GmbH", Sender: true, ReplyTo: true, Authenticated: true, Restricted: true, Seq: 10}
	// infoMailbox is open to the tenant and has no own settings.
	infoMailbox = options.Candidate{MailboxID: "mb-info", TenantID: celanioID, Address: "info@celanio.com",
		DisplayName: "celanio Info", Sender: true, ReplyTo: true, Seq: 11}
	// supportMailbox is a Reply-To option only.
	supportMailbox = options.Candidate{MailboxID: "mb-support", TenantID: celanioID, Address: "support@celanio.com",
		DisplayName: "celanio Support", ReplyTo: true, Seq: 12}
)

// world describes the configuration a case resolves against.
type world struct {
	system       system.Facts
	policy       tenant.Policy
	tenantServer bool
	viewer       options.Viewer
	candidates   []options.Candidate
	grants       map[string]message.Grant
}

func defaultWorld() world {
	return world{system: system.Facts{Configured: true, Enabled: true}, policy: tenant.DefaultPolicy(), viewer: mustermann,
		candidates: []options.Candidate{infoMailbox, supportMailbox}}
}

// facts builds message.Facts as the command layer would: the tenant's
// transport resolved by tenant.ResolveTransport (R1–R3) and its system
// mailbox from the server it resolves to (R8).
func (w world) facts() message.Facts {
	f := message.Facts{System: w.system, Viewer: w.viewer, Candidates: w.candidates, Grants: w.grants,
		MailboxSettings: map[string]domain.ServerSettings{welcomeMailbox.MailboxID: welcomeSettings},
		MailboxNames:    map[string]string{},
		Versions:        map[string]int64{"system": 2, "tenant-" + celanioID: 5, "user-u-mustermann": 1}}
	if w.system.Configured {
		s := systemSettings
		f.SystemSettings = &s
	}
	if w.tenantServer {
		s := tenantSettings
		f.TenantSettings = &s
	}
	for _, c := range w.candidates {
		f.MailboxNames[c.MailboxID] = c.Address
	}
	transport := tenant.ResolveTransport(w.system, w.tenantServer, w.policy)
	f.Tenant = options.Tenant{ID: celanioID, Policy: w.policy, Transport: transport}
	switch transport {
	case domain.TransportSystemServer:
		f.Tenant.SystemMailboxAddress, f.Tenant.SystemMailboxName = systemSettings.SenderAddress, systemSettings.SenderName
	case domain.TransportTenantServer:
		f.Tenant.SystemMailboxAddress, f.Tenant.SystemMailboxName = tenantSettings.SenderAddress, tenantSettings.SenderName
	}
	return f
}

func from(address string) message.Request {
	return message.Request{Kind: message.KindMessage, From: message.Mailbox{Address: address}}
}

// code is the code of a *domain.Error in err's chain, "" for nil; any
// other error fails the test.
func code(t *testing.T, err error) domain.Code {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want a *domain.Error", err, err)
	}
	return e.Code
}

// field is the field a *domain.Error in err's chain names.
func field(err error) string {
	var e *domain.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func hasSkip(r message.Resolution, candidate, reasonPart string) bool {
	for _, s := range r.Skipped {
		if s.Candidate == candidate && strings.Contains(s.Reason, reasonPart) {
			return true
		}
	}
	return false
}

// skip names a Skipped entry a case expects: the candidate exactly, the
// reason by a part of it (the rule it cites).
type skip struct{ candidate, reason string }

func TestR16_R2_R3_R1_Resolve(t *testing.T) {
	groupGrant := map[string]message.Grant{welcomeMailbox.MailboxID: {Description: "group grant: Vertrieb (MailboxGroupGranted at mailbox-mb-welcome@v4)"}}
	granted := welcomeMailbox
	granted.Granted = true
	tests := []struct {
		name     string
		world    func(w *world)
		req      message.Request
		code     domain.Code // "" = resolved
		field    string
		rule     string
		tr       domain.TransportKind
		mbox     string
		utf8     bool
		fromName string // FromName
		grant    string // a part of GrantedBy
		skips    []skip
	}{
		{
			name: "R1 system server disabled: SENDING_DISABLED", world: func(w *world) { w.system.Enabled = false },
			req: from("info@celanio.com"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
			skips: []skip{{"system server", "disabled"}},
		},
		{
			name: "R1 system server not configured: SENDING_DISABLED", world: func(w *world) { w.system = system.Facts{} },
			req: from("info@celanio.com"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
			skips: []skip{{"system server", "not configured"}},
		},
		{
			name: "R1 disabled also stops the tenant server", world: func(w *world) { w.system.Enabled = false; w.tenantServer = true },
			req: from("info@celanio.com"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
			skips: []skip{{"system server", "R1"}},
		},
		{
			name: "R1 disabled also stops an authenticated mailbox", world: func(w *world) {
				w.system.Enabled = false
				w.candidates = append(w.candidates, granted)
				w.grants = groupGrant
			},
			req: from("welcome@celanio.com"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
			skips: []skip{{"system server", "R1"}},
		},
		{
			name: "R1 disabled: SENDING_DISABLED before FROM_NOT_ALLOWED", world: func(w *world) { w.system.Enabled = false },
			req: from("fremd@evil.example"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
		},
		{
			name: "R2 system server", req: from("info@celanio.com"),
			rule: message.RuleSystemServer, tr: domain.TransportSystemServer, fromName: "celanio Info", grant: "R11",
			skips: []skip{{"tenant server", "not configured"}},
		},
		{
			name: "R2 tenant server takes precedence", world: func(w *world) { w.tenantServer = true },
			req: from("info@celanio.com"), rule: message.RuleTenantServer, tr: domain.TransportTenantServer, utf8: true,
			fromName: "celanio Info", skips: []skip{{"system server", "R2"}},
		},
		{
			name: "R3 tenant server ignored by policy: system server, with a skipped entry", world: func(w *world) {
				w.tenantServer = true
				w.policy.AllowOwnServer = false
			},
			req: from("info@celanio.com"), rule: message.RuleSystemServer, tr: domain.TransportSystemServer, fromName: "celanio Info",
			skips: []skip{{"tenant server", "R3"}},
		},
		{
			name: "R2 R3 no tenant server and the system server not allowed: SENDING_DISABLED", world: func(w *world) {
				w.policy.AllowSystemServer = false
			},
			req: from("info@celanio.com"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
			skips: []skip{{"tenant server", "not configured"}, {"system server", "R3"}},
		},
		{
			name: "R2 R3 tenant server ignored and the system server not allowed: SENDING_DISABLED", world: func(w *world) {
				w.tenantServer = true
				w.policy.AllowOwnServer, w.policy.AllowSystemServer = false, false
			},
			req: from("info@celanio.com"), code: domain.CodeSendingDisabled, tr: domain.TransportNone,
			skips: []skip{{"tenant server", "R3"}, {"system server", "R3"}},
		},
		{
			name: "R8 system mailbox of the tenant server", world: func(w *world) { w.tenantServer = true },
			req: from("system@celanio.com"), rule: message.RuleTenantServer, tr: domain.TransportTenantServer, utf8: true,
			fromName: "celanio System", grant: "R8",
		},
		{
			name: "R16 authenticated mailbox granted by group", world: func(w *world) {
				w.candidates = append(w.candidates, granted)
				w.grants = groupGrant
			},
			req: from("Welcome@Celanio.com"), rule: message.RuleMailbox, tr: domain.TransportMailbox, mbox: "mb-welcome", utf8: true,
			fromName: "celanio GmbH", grant: "group grant: Vertrieb (MailboxGroupGranted at mailbox-mb-welcome@v4)",
			skips: []skip{{"tenant server", "not configured"}},
		},
		{
			name: "R16 authenticated mailbox beats the tenant server", world: func(w *world) {
				w.tenantServer = true
				w.candidates = append(w.candidates, granted)
				w.grants = groupGrant
			},
			req: from("welcome@celanio.com"), rule: message.RuleMailbox, tr: domain.TransportMailbox, mbox: "mb-welcome", utf8: true,
			fromName: "celanio GmbH", grant: "Vertrieb",
		},
		{
			name: "R16 a second mailbox with the From address is skipped", world: func(w *world) {
				other := options.Candidate{MailboxID: "mb-global", TenantID: "t-other", Address: "welcome@celanio.com",
					DisplayName: "Global", Sender: true, Global: true, Authenticated: true, Seq: 1}
				w.candidates = append(w.candidates, granted, other)
				w.grants = groupGrant
			},
			req: from("welcome@celanio.com"), rule: message.RuleMailbox, tr: domain.TransportMailbox, mbox: "mb-welcome", utf8: true,
			fromName: "celanio GmbH", skips: []skip{{"mailbox welcome@celanio.com (mb-global)", "takes precedence"}},
		},
		{
			name: "R17 R11 restricted mailbox without grant: FROM_NOT_ALLOWED", world: func(w *world) {
				w.candidates = append(w.candidates, welcomeMailbox)
			},
			req: from("welcome@celanio.com"), code: domain.CodeFromNotAllowed, field: "from",
		},
		{
			name: "R17 named From whose name does not match: FROM_NOT_ALLOWED",
			req:  message.Request{Kind: message.KindMessage, From: message.Mailbox{Name: "Der Chef", Address: "info@celanio.com"}, FromNamed: true},
			code: domain.CodeFromNotAllowed, field: "from",
		},
		{
			name: "R17 named From whose name differs in case only: FROM_NOT_ALLOWED",
			req:  message.Request{Kind: message.KindMessage, From: message.Mailbox{Name: "CELANIO INFO", Address: "info@celanio.com"}, FromNamed: true},
			code: domain.CodeFromNotAllowed, field: "from",
		},
		{
			name: "R17 named From whose name matches",
			req:  message.Request{Kind: message.KindMessage, From: message.Mailbox{Name: "celanio Info", Address: "info@celanio.com"}, FromNamed: true},
			rule: message.RuleSystemServer, tr: domain.TransportSystemServer, fromName: "celanio Info",
		},
		{
			name: "R17 an address that is no option: FROM_NOT_ALLOWED",
			req:  from("ceo@celanio.com"), code: domain.CodeFromNotAllowed, field: "from",
		},
		{
			name: "R17 a Reply-To-only mailbox is no From option",
			req:  from("support@celanio.com"), code: domain.CodeFromNotAllowed, field: "from",
		},
		{
			name: "R13 the user's own address is no option without userAddressAsSender",
			req:  from("max@celanio.com"), code: domain.CodeFromNotAllowed, field: "from",
		},
		{
			name: "R13 the user's own address with userAddressAsSender", world: func(w *world) { w.policy.UserAddressAsSender = true },
			req: from("max@celanio.com"), rule: message.RuleSystemServer, tr: domain.TransportSystemServer,
			fromName: "Max Mustermann", grant: "R13",
		},
		{
			name: "R17 Reply-To not an option: REPLY_TO_NOT_ALLOWED",
			req: message.Request{Kind: message.KindMessage, From: message.Mailbox{Address: "info@celanio.com"},
				ReplyTo: &message.Mailbox{Address: "fremd@evil.example"}},
			code: domain.CodeReplyToNotAllowed, field: "replyTo",
		},
		{
			name: "R17 Reply-To with a name that does not match: REPLY_TO_NOT_ALLOWED",
			req: message.Request{Kind: message.KindMessage, From: message.Mailbox{Address: "info@celanio.com"},
				ReplyTo: &message.Mailbox{Name: "Anders", Address: "support@celanio.com"}, ReplyToNamed: true},
			code: domain.CodeReplyToNotAllowed, field: "replyTo",
		},
		{
			name: "R17 Reply-To is an option",
			req: message.Request{Kind: message.KindMessage, From: message.Mailbox{Address: "info@celanio.com"},
				ReplyTo: &message.Mailbox{Address: "SUPPORT@celanio.com"}},
			rule: message.RuleSystemServer, tr: domain.TransportSystemServer, fromName: "celanio Info",
		},
		{
			name: "R7 a support request's Reply-To (the user) is not checked",
			req: message.Request{Kind: message.KindSupport, From: message.Mailbox{Address: "noreply@absender.example"},
				ReplyTo: &message.Mailbox{Address: "max@celanio.com"}},
			rule: message.RuleSystemServer, tr: domain.TransportSystemServer, fromName: "Absender", grant: "R8",
		},
		{
			name: "R20 blocked viewer: FROM_NOT_ALLOWED", world: func(w *world) { w.viewer.Blocked = true },
			req: from("info@celanio.com"), code: domain.CodeFromNotAllowed,
		},
		{
			name: "R20 deleted viewer: FROM_NOT_ALLOWED", world: func(w *world) { w.viewer.Active = false },
			req: from("info@celanio.com"), code: domain.CodeFromNotAllowed,
		},
		{
			name: "R20 blocked viewer with a granted mailbox: FROM_NOT_ALLOWED", world: func(w *world) {
				w.viewer.Blocked = true
				w.candidates = append(w.candidates, granted)
				w.grants = groupGrant
			},
			req: from("welcome@celanio.com"), code: domain.CodeFromNotAllowed,
		},
		{
			name: "R12 global mailbox of another tenant without grants", world: func(w *world) {
				w.candidates = append(w.candidates, options.Candidate{MailboxID: "mb-global", TenantID: "t-other",
					Address: "newsletter@konzern.example", DisplayName: "Konzern", Sender: true, Global: true, Seq: 2})
			},
			req: from("newsletter@konzern.example"), rule: message.RuleSystemServer, tr: domain.TransportSystemServer,
			fromName: "Konzern", grant: "R12",
		},
		{
			name: "R11 external user may not use an open mailbox: FROM_NOT_ALLOWED", world: func(w *world) { w.viewer.Role = domain.RoleExternal },
			req: from("info@celanio.com"), code: domain.CodeFromNotAllowed, field: "from",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := defaultWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			f := w.facts()
			got, rerr := message.Resolve(tc.req, f)
			if code(t, rerr) != tc.code {
				t.Fatalf("got error %v, want code %q", rerr, tc.code)
			}
			if rerr != nil && field(rerr) != tc.field {
				t.Errorf("got field %q, want %q", field(rerr), tc.field)
			}
			if tc.code == "" || tc.code == domain.CodeSendingDisabled {
				if got.Transport != tc.tr {
					t.Errorf("got transport %v, want %v", got.Transport, tc.tr)
				}
			}
			for _, s := range tc.skips {
				if !hasSkip(got, s.candidate, s.reason) {
					t.Errorf("got skipped %+v, want an entry %q with a reason containing %q", got.Skipped, s.candidate, s.reason)
				}
			}
			if tc.code != "" {
				return
			}
			if got.Rule != tc.rule || got.MailboxID != tc.mbox || got.SMTPUTF8 != tc.utf8 || got.FromName != tc.fromName {
				t.Errorf("got rule %q mailbox %q smtpUtf8 %v fromName %q, want %q %q %v %q",
					got.Rule, got.MailboxID, got.SMTPUTF8, got.FromName, tc.rule, tc.mbox, tc.utf8, tc.fromName)
			}
			if !strings.Contains(got.GrantedBy, tc.grant) || got.GrantedBy == "" {
				t.Errorf("got grantedBy %q, want it to contain %q", got.GrantedBy, tc.grant)
			}
			if !reflect.DeepEqual(got.Versions, f.Versions) {
				t.Errorf("got versions %v, want the facts' %v", got.Versions, f.Versions)
			}
			if got.Skipped == nil {
				t.Errorf("got skipped nil, want a list (empty or not)")
			}
		})
	}
}

// TestR16_SkippedMailboxesSayWhy: every mailbox with the From address
// that does not send it is explained.
func TestR16_SkippedMailboxesSayWhy(t *testing.T) {
	w := defaultWorld()
	w.policy.UserAddressAsSender = true
	w.viewer.Email = "welcome@celanio.com"
	foreign := options.Candidate{MailboxID: "mb-foreign", TenantID: "t-other", Address: "welcome@celanio.com", DisplayName: "Fremd",
		Sender: true, Authenticated: true, Seq: 3}
	plain := options.Candidate{MailboxID: "mb-plain", TenantID: celanioID, Address: "welcome@celanio.com", DisplayName: "Ohne Server",
		Sender: true, Seq: 20}
	w.candidates = []options.Candidate{welcomeMailbox, foreign, plain}
	got, rerr := message.Resolve(from("welcome@celanio.com"), w.facts())
	if rerr != nil {
		t.Fatalf("got error %v, want a resolution", rerr)
	}
	if got.Transport != domain.TransportSystemServer || got.MailboxID != "" {
		t.Fatalf("got transport %v mailbox %q, want SYSTEM_SERVER without mailbox", got.Transport, got.MailboxID)
	}
	for _, s := range []skip{
		{"mailbox welcome@celanio.com (mb-welcome)", "R11"},
		{"mailbox welcome@celanio.com (mb-foreign)", "R12"},
		{"mailbox welcome@celanio.com (mb-plain)", "R16"},
	} {
		if !hasSkip(got, s.candidate, s.reason) {
			t.Errorf("got skipped %+v, want an entry %q with a reason containing %q", got.Skipped, s.candidate, s.reason)
		}
	}
}

func TestR6_ResolveTestIgnoresR1ToR3(t *testing.T) {
	tests := []struct {
		name   string
		world  func(w *world)
		target message.Target
		code   domain.Code
		utf8   bool
		from   string
	}{
		{"system server while disabled", func(w *world) { w.system.Enabled = false },
			message.Target{Transport: domain.TransportSystemServer}, "", false, "Absender"},
		{"tenant server ignored by policy", func(w *world) { w.tenantServer = true; w.policy.AllowOwnServer = false },
			message.Target{Transport: domain.TransportTenantServer}, "", true, "celanio System"},
		{"tenant server while the system server is disabled", func(w *world) { w.tenantServer = true; w.system.Enabled = false },
			message.Target{Transport: domain.TransportTenantServer}, "", true, "celanio System"},
		{"authenticated mailbox while sending is unavailable", func(w *world) { w.policy.AllowSystemServer = false; w.system.Enabled = false },
			message.Target{Transport: domain.TransportMailbox, MailboxID: "mb-welcome"}, "", true, ""},
		{"tenant server removed since", nil, message.Target{Transport: domain.TransportTenantServer}, domain.CodeSendingDisabled, false, ""},
		{"mailbox without settings", nil, message.Target{Transport: domain.TransportMailbox, MailboxID: "mb-info"}, domain.CodeSendingDisabled, false, ""},
		{"system server removed", func(w *world) { w.system = system.Facts{} },
			message.Target{Transport: domain.TransportSystemServer}, domain.CodeSendingDisabled, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := defaultWorld()
			if tc.world != nil {
				tc.world(&w)
			}
			f := w.facts()
			got, rerr := message.ResolveTest(tc.target, f)
			if code(t, rerr) != tc.code {
				t.Fatalf("got error %v, want code %q", rerr, tc.code)
			}
			if tc.code != "" {
				return
			}
			if got.Rule != message.RuleTestMail || got.Transport != tc.target.Transport || got.MailboxID != tc.target.MailboxID {
				t.Errorf("got rule %q transport %v mailbox %q, want %q %v %q",
					got.Rule, got.Transport, got.MailboxID, message.RuleTestMail, tc.target.Transport, tc.target.MailboxID)
			}
			if got.SMTPUTF8 != tc.utf8 || got.FromName != tc.from {
				t.Errorf("got smtpUtf8 %v fromName %q, want %v %q", got.SMTPUTF8, got.FromName, tc.utf8, tc.from)
			}
			if !reflect.DeepEqual(got.Versions, f.Versions) {
				t.Errorf("got versions %v, want %v", got.Versions, f.Versions)
			}
		})
	}
}

// TestR23_ResolutionEqual: the saga compares a fresh resolution with the
// recorded one, which went through JSON; equal ones must stay equal, and
// every difference must count.
func TestR23_ResolutionEqual(t *testing.T) {
	w := defaultWorld()
	w.tenantServer, w.policy.AllowOwnServer = true, false
	r, rerr := message.Resolve(from("info@celanio.com"), w.facts())
	if rerr != nil {
		t.Fatal(rerr)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back message.Resolution
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !r.Equal(back) || !back.Equal(r) {
		t.Fatalf("got %+v not equal to its JSON round trip %+v", r, back)
	}
	if empty := (message.Resolution{}); !empty.Equal(message.Resolution{Skipped: []message.Skipped{}, Versions: map[string]int64{}}) {
		t.Errorf("got nil and empty lists unequal, want equal")
	}
	changes := map[string]func(*message.Resolution){
		"rule":      func(r *message.Resolution) { r.Rule = message.RuleTenantServer },
		"transport": func(r *message.Resolution) { r.Transport = domain.TransportTenantServer },
		"mailbox":   func(r *message.Resolution) { r.MailboxID = "mb-x" },
		"skipped":   func(r *message.Resolution) { r.Skipped = nil },
		"grantedBy": func(r *message.Resolution) { r.GrantedBy = "other" },
		"smtpUtf8":  func(r *message.Resolution) { r.SMTPUTF8 = !r.SMTPUTF8 },
		"fromName":  func(r *message.Resolution) { r.FromName = "x" },
		"versions":  func(r *message.Resolution) { r.Versions = map[string]int64{"system": 3} },
	}
	for name, change := range changes {
		c := back
		c.Versions = maps.Clone(back.Versions)
		change(&c)
		if r.Equal(c) {
			t.Errorf("%s changed: got equal, want unequal", name)
		}
	}
}

// TestR17_ResolveErrorIsAnInterface: a resolution's error is nil on
// success — a nil interface, not a typed nil *domain.Error, so err != nil
// holds only for a refusal — and a refusal is a *domain.Error that
// errors.Is and errors.As find.
func TestR17_ResolveErrorIsAnInterface(t *testing.T) {
	w := defaultWorld()
	var err error
	if _, err = message.Resolve(from("info@celanio.com"), w.facts()); err != nil {
		t.Errorf("Resolve: got %#v, want a nil error", err)
	}
	if _, err = message.ResolveTest(message.Target{Transport: domain.TransportSystemServer}, w.facts()); err != nil {
		t.Errorf("ResolveTest: got %#v, want a nil error", err)
	}
	_, err = message.Resolve(from("mallory@evil.example"), w.facts())
	var de *domain.Error
	if !errors.Is(err, domain.ErrFromNotAllowed) || !errors.As(err, &de) || de.Field != "from" {
		t.Errorf("Resolve: got %v, want FROM_NOT_ALLOWED naming from", err)
	}
	_, err = message.ResolveTest(message.Target{Transport: domain.TransportTenantServer}, w.facts())
	if !errors.Is(err, domain.ErrSendingDisabled) {
		t.Errorf("ResolveTest: got %v, want SENDING_DISABLED", err)
	}
}
