package options

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/domain/tenant"
)

// The seed 001 world: tenant "celanio GmbH", its user Mustermann whose
// e-mail is welcome@celanio.com, and the authenticated mailbox
// "celanio GmbH <welcome@celanio.com>".
const (
	celanioID = "t-celanio"
	otherID   = "t-other"
	sysAddr   = "noreply@absender.example"
	sysName   = "Absender"
)

var (
	mustermann = Viewer{UserID: "u-mustermann", TenantID: celanioID, DisplayName: "Mustermann",
		Email: "welcome@celanio.com", Role: domain.RoleEmployee, Active: true}
	celanio = Tenant{ID: celanioID, Policy: tenant.DefaultPolicy(), Transport: domain.TransportSystemServer,
		SystemMailboxAddress: sysAddr, SystemMailboxName: sysName}
	welcome = Candidate{MailboxID: "mb-welcome", TenantID: celanioID, Address: "welcome@celanio.com",
		DisplayName: "celanio GmbH", Sender: true, ReplyTo: true, Authenticated: true, Seq: 10}
)

func withPolicy(t Tenant, f func(p *tenant.Policy)) Tenant {
	f(&t.Policy)
	return t
}

func userAddressAsSender(on bool) func(*tenant.Policy) {
	return func(p *tenant.Policy) { p.UserAddressAsSender = on }
}

// mailbox returns an open mailbox of the given tenant with both flags.
func mailbox(id, tenantID, address, name string, seq int64) Candidate {
	return Candidate{MailboxID: id, TenantID: tenantID, Address: address, DisplayName: name,
		Sender: true, ReplyTo: true, Seq: seq}
}

func sysOption(tr domain.TransportKind) Option {
	return Option{Address: sysAddr, AddressKey: sysAddr, DisplayName: sysName, Source: SourceSystemMailbox, Transport: tr}
}

func mailboxOpt(c Candidate, tr domain.TransportKind) Option {
	return Option{Address: c.Address, AddressKey: domain.AddressKey(c.Address), DisplayName: c.DisplayName,
		Source: SourceMailbox, MailboxID: c.MailboxID, Transport: tr}
}

func userOpt(v Viewer, mailboxID string, tr domain.TransportKind) Option {
	return Option{Address: v.Email, AddressKey: domain.AddressKey(v.Email), DisplayName: v.DisplayName,
		Source: SourceUser, MailboxID: mailboxID, Transport: tr}
}

func format(opts []Option) string {
	if len(opts) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, o := range opts {
		fmt.Fprintf(&b, "\n  %s %q <%s> key=%s mailbox=%q transport=%s",
			o.Source, o.DisplayName, o.Address, o.AddressKey, o.MailboxID, o.Transport)
	}
	return b.String()
}

func checkOptions(t *testing.T, got, want []Option) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got options%s\nwant%s", format(got), format(want))
	}
}

func TestR11_Usable(t *testing.T) {
	external := mustermann
	external.Role = domain.RoleExternal
	admin := mustermann
	admin.Role = domain.RoleAdministrator
	open := mailbox("mb", celanioID, "info@celanio.com", "Info", 1)
	restricted := open
	restricted.Restricted = true
	granted := restricted
	granted.Granted = true
	foreign := mailbox("mb-f", otherID, "info@other.example", "Other", 2)
	foreignGranted := foreign
	foreignGranted.Restricted, foreignGranted.Granted = true, true
	tests := []struct {
		name string
		v    Viewer
		c    Candidate
		want bool
	}{
		{"open mailbox, employee", mustermann, open, true},
		{"open mailbox, administrator", admin, open, true},
		{"open mailbox, external user", external, open, false},
		{"restricted mailbox, employee without grant", mustermann, restricted, false},
		{"restricted mailbox, granted employee", mustermann, granted, true},
		{"restricted mailbox, granted external user", external, granted, true},
		{"non-global mailbox of another tenant", mustermann, foreign, false},
		{"non-global mailbox of another tenant, even granted", mustermann, foreignGranted, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Usable(tt.v, tt.c); got != tt.want {
				t.Errorf("Usable got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestR11_ExternalUserAndOpenMailbox(t *testing.T) {
	external := mustermann
	external.Role = domain.RoleExternal
	info := mailbox("mb-info", celanioID, "info@celanio.com", "Info", 1)
	grantedInfo := info
	grantedInfo.Restricted, grantedInfo.Granted = true, true
	tests := []struct {
		name string
		v    Viewer
		cs   []Candidate
		want []Option
	}{
		{"employee sees the open mailbox", mustermann, []Candidate{info},
			[]Option{sysOption(domain.TransportSystemServer), mailboxOpt(info, domain.TransportSystemServer)}},
		{"external user does not see the open mailbox", external, []Candidate{info},
			[]Option{sysOption(domain.TransportSystemServer)}},
		{"external user sees a mailbox granted to it", external, []Candidate{grantedInfo},
			[]Option{sysOption(domain.TransportSystemServer), mailboxOpt(grantedInfo, domain.TransportSystemServer)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []Kind{Sender, ReplyTo} {
				checkOptions(t, Compute(k, tt.v, celanio, tt.cs), tt.want)
			}
		})
	}
}

func TestR11_RestrictedMailboxWithBlockedGrantee(t *testing.T) {
	// The only grantee is blocked: the mailbox stays restricted, so a
	// colleague without a grant does not get it, and the grantee gets
	// nothing at all (R20).
	grantee := Viewer{UserID: "u-blocked", TenantID: celanioID, DisplayName: "Blocked", Email: "blocked@celanio.com",
		Role: domain.RoleEmployee, Active: true, Blocked: true}
	colleague := mustermann
	colleague.Email = "erika@celanio.com"
	secret := mailbox("mb-secret", celanioID, "secret@celanio.com", "Secret", 1)
	secret.Restricted = true
	forGrantee := secret
	forGrantee.Granted = true

	if Usable(colleague, secret) {
		t.Errorf("Usable(colleague) got true, want false: the mailbox stays restricted")
	}
	checkOptions(t, Compute(Sender, colleague, celanio, []Candidate{secret}),
		[]Option{sysOption(domain.TransportSystemServer)})
	if Usable(grantee, forGrantee) {
		t.Errorf("Usable(blocked grantee) got true, want false")
	}
	for _, k := range []Kind{Sender, ReplyTo} {
		checkOptions(t, Compute(k, grantee, celanio, []Candidate{forGrantee}), nil)
	}
}

func TestR12_GlobalMailboxOfAnotherTenant(t *testing.T) {
	external := mustermann
	external.Role = domain.RoleExternal
	open := mailbox("mb-g", otherID, "help@other.example", "Help Desk", 1)
	open.Global = true
	restricted := open
	restricted.Restricted = true
	granted := restricted
	granted.Granted = true
	sys := sysOption(domain.TransportSystemServer)
	tests := []struct {
		name string
		v    Viewer
		c    Candidate
		want []Option
	}{
		{"open global, employee of another tenant", mustermann, open,
			[]Option{sys, mailboxOpt(open, domain.TransportSystemServer)}},
		{"open global, external user", external, open, []Option{sys}},
		{"restricted global, not granted", mustermann, restricted, []Option{sys}},
		{"restricted global, granted user of another tenant", mustermann, granted,
			[]Option{sys, mailboxOpt(granted, domain.TransportSystemServer)}},
		{"restricted global, granted external user", external, granted,
			[]Option{sys, mailboxOpt(granted, domain.TransportSystemServer)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOptions(t, Compute(Sender, tt.v, celanio, []Candidate{tt.c}), tt.want)
			wantUsable := len(tt.want) == 2
			if got := Usable(tt.v, tt.c); got != wantUsable {
				t.Errorf("Usable got %v, want %v", got, wantUsable)
			}
		})
	}
}

func TestR20_BlockedOrInactiveViewer(t *testing.T) {
	blocked := mustermann
	blocked.Blocked = true
	deleted := mustermann
	deleted.Active = false
	noTenant := mustermann
	noTenant.TenantID = ""
	tn := withPolicy(celanio, userAddressAsSender(true))
	granted := welcome
	granted.Restricted, granted.Granted = true, true
	for _, v := range []Viewer{blocked, deleted, noTenant} {
		t.Run(fmt.Sprintf("blocked=%v active=%v tenant=%q", v.Blocked, v.Active, v.TenantID), func(t *testing.T) {
			for _, k := range []Kind{Sender, ReplyTo} {
				checkOptions(t, Compute(k, v, tn, []Candidate{welcome, granted}), nil)
			}
			if Usable(v, welcome) || Usable(v, granted) {
				t.Errorf("Usable got true, want false")
			}
			if tr, id := TransportOf(welcome.Address, v, tn, []Candidate{welcome}); tr != domain.TransportNone || id != "" {
				t.Errorf("TransportOf got %v %q, want NONE \"\"", tr, id)
			}
		})
	}
}

func TestR1R2_NoTransportEmptiesLists(t *testing.T) {
	for _, tr := range []domain.TransportKind{domain.TransportNone, {}} {
		t.Run("transport "+tr.String(), func(t *testing.T) {
			tn := withPolicy(celanio, userAddressAsSender(true))
			tn.Transport, tn.SystemMailboxAddress, tn.SystemMailboxName = tr, "", ""
			cs := []Candidate{welcome, mailbox("mb-info", celanioID, "info@celanio.com", "Info", 2)}
			for _, k := range []Kind{Sender, ReplyTo} {
				checkOptions(t, Compute(k, mustermann, tn, cs), nil)
			}
			if got, id := TransportOf(welcome.Address, mustermann, tn, cs); got != domain.TransportNone || id != "" {
				t.Errorf("TransportOf got %v %q, want NONE \"\" even for an authenticated mailbox", got, id)
			}
		})
	}
}

func TestR13_SenderOptions(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "Erika", "erika@celanio.com"
	senderOnly := mailbox("mb-s", celanioID, "sales@celanio.com", "Sales", 1)
	senderOnly.ReplyTo = false
	replyOnly := mailbox("mb-r", celanioID, "reply@celanio.com", "Replies", 2)
	replyOnly.Sender = false
	cs := []Candidate{senderOnly, replyOnly}
	sys := sysOption(domain.TransportSystemServer)
	noSys := celanio
	noSys.SystemMailboxAddress, noSys.SystemMailboxName = "", ""
	tests := []struct {
		name string
		t    Tenant
		want []Option
	}{
		{"system mailbox and sender mailboxes", celanio,
			[]Option{sys, mailboxOpt(senderOnly, domain.TransportSystemServer)}},
		{"own address under userAddressAsSender", withPolicy(celanio, userAddressAsSender(true)),
			[]Option{sys, userOpt(erika, "", domain.TransportSystemServer), mailboxOpt(senderOnly, domain.TransportSystemServer)}},
		{"system mailbox without address is not listed", noSys,
			[]Option{mailboxOpt(senderOnly, domain.TransportSystemServer)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOptions(t, Compute(Sender, erika, tt.t, cs), tt.want)
		})
	}
	t.Run("zero kind lists no mailbox", func(t *testing.T) {
		checkOptions(t, Compute(Kind{}, erika, celanio, cs), []Option{sys})
	})
}

func TestR14_ReplyToOptions(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "Erika", "erika@celanio.com"
	senderOnly := mailbox("mb-s", celanioID, "sales@celanio.com", "Sales", 1)
	senderOnly.ReplyTo = false
	replyOnly := mailbox("mb-r", celanioID, "reply@celanio.com", "Replies", 2)
	replyOnly.Sender = false
	cs := []Candidate{senderOnly, replyOnly}
	sys := sysOption(domain.TransportSystemServer)
	tests := []struct {
		name string
		t    Tenant
		want []Option
	}{
		{"system mailbox and reply-to mailboxes", celanio,
			[]Option{sys, mailboxOpt(replyOnly, domain.TransportSystemServer)}},
		{"own address under userAddressAsSender", withPolicy(celanio, userAddressAsSender(true)),
			[]Option{sys, userOpt(erika, "", domain.TransportSystemServer), mailboxOpt(replyOnly, domain.TransportSystemServer)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOptions(t, Compute(ReplyTo, erika, tt.t, cs), tt.want)
		})
	}
}

func TestR15_Seed001Celanio(t *testing.T) {
	sys := sysOption(domain.TransportSystemServer)
	tests := []struct {
		policy tenant.DuplicatePolicy
		want   []Option
	}{
		// Default: Mustermann's e-mail with his name, sent through the
		// mailbox; "celanio GmbH" is hidden.
		{tenant.PreferUser, []Option{sys, userOpt(mustermann, welcome.MailboxID, domain.TransportMailbox)}},
		{tenant.DuplicatePolicy{}, []Option{sys, userOpt(mustermann, welcome.MailboxID, domain.TransportMailbox)}},
		{tenant.ShowBoth, []Option{sys, mailboxOpt(welcome, domain.TransportMailbox),
			userOpt(mustermann, welcome.MailboxID, domain.TransportMailbox)}},
		{tenant.PreferMailbox, []Option{sys, mailboxOpt(welcome, domain.TransportMailbox)}},
	}
	for _, tt := range tests {
		for _, on := range []bool{false, true} {
			for _, k := range []Kind{Sender, ReplyTo} {
				t.Run(fmt.Sprintf("%s/userAddressAsSender=%v/%s", tt.policy, on, k), func(t *testing.T) {
					tn := withPolicy(celanio, func(p *tenant.Policy) {
						p.DuplicatePolicy, p.UserAddressAsSender = tt.policy, on
					})
					checkOptions(t, Compute(k, mustermann, tn, []Candidate{welcome}), tt.want)
					if tr, id := TransportOf("Welcome@Celanio.COM", mustermann, tn, []Candidate{welcome}); tr != domain.TransportMailbox || id != welcome.MailboxID {
						t.Errorf("TransportOf got %v %q, want MAILBOX %q", tr, id, welcome.MailboxID)
					}
				})
			}
		}
	}
}

func TestR15_OnlyListedMailboxesAreDuplicates(t *testing.T) {
	// The mailbox with Mustermann's address lacks the sender flag: it is not
	// in the From list, so PREFER_MAILBOX must not bring it in, and with
	// userAddressAsSender his own address stays a plain USER option — sent
	// through the authenticated mailbox all the same (R16).
	replyOnly := welcome
	replyOnly.Sender = false
	sys := sysOption(domain.TransportSystemServer)
	for _, p := range []tenant.DuplicatePolicy{tenant.PreferUser, tenant.ShowBoth, tenant.PreferMailbox} {
		t.Run(p.String(), func(t *testing.T) {
			off := withPolicy(celanio, func(pp *tenant.Policy) { pp.DuplicatePolicy = p })
			checkOptions(t, Compute(Sender, mustermann, off, []Candidate{replyOnly}), []Option{sys})
			on := withPolicy(off, userAddressAsSender(true))
			checkOptions(t, Compute(Sender, mustermann, on, []Candidate{replyOnly}),
				[]Option{sys, userOpt(mustermann, "", domain.TransportMailbox)})
		})
	}
}

func TestR15_ExternalUserAndOpenMailboxWithOwnAddress(t *testing.T) {
	external := mustermann
	external.Role = domain.RoleExternal
	sys := sysOption(domain.TransportSystemServer)
	tn := withPolicy(celanio, func(p *tenant.Policy) { p.DuplicatePolicy = tenant.PreferMailbox })
	// The open mailbox is not usable by an external user: no R15, and no
	// transport through it.
	checkOptions(t, Compute(Sender, external, tn, []Candidate{welcome}), []Option{sys})
	checkOptions(t, Compute(Sender, external, withPolicy(tn, userAddressAsSender(true)), []Candidate{welcome}),
		[]Option{sys, userOpt(external, "", domain.TransportSystemServer)})
	granted := welcome
	granted.Restricted, granted.Granted = true, true
	checkOptions(t, Compute(Sender, external, tn, []Candidate{granted}),
		[]Option{sys, mailboxOpt(granted, domain.TransportMailbox)})
}

func TestR15_SameAddressOwnTenantWinsOverGlobal(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "Erika", "erika@celanio.com"
	global := mailbox("mb-global", otherID, "info@celanio.com", "Global Info", 1)
	global.Global, global.Authenticated = true, true
	own := mailbox("mb-own", celanioID, "INFO@celanio.com", "Own Info", 5)
	sys := sysOption(domain.TransportSystemServer)
	// The own tenant's mailbox is listed although the global one is older;
	// it is not authenticated, so the From address goes through the global
	// one, which is (R16).
	want := []Option{sys, mailboxOpt(own, domain.TransportMailbox)}
	for _, cs := range [][]Candidate{{global, own}, {own, global}} {
		checkOptions(t, Compute(Sender, erika, celanio, cs), want)
	}
	ownAuth := own
	ownAuth.Authenticated = true
	for _, cs := range [][]Candidate{{global, ownAuth}, {ownAuth, global}} {
		if tr, id := TransportOf("info@celanio.com", erika, celanio, cs); tr != domain.TransportMailbox || id != own.MailboxID {
			t.Errorf("TransportOf got %v %q, want MAILBOX %q", tr, id, own.MailboxID)
		}
	}
}

func TestR15_SameAddressOlderGlobalWins(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "Erika", "erika@celanio.com"
	older := mailbox("mb-z-older", "t-a", "help@shared.example", "Older Help", 3)
	older.Global, older.Authenticated = true, true
	newer := mailbox("mb-a-newer", "t-b", "help@shared.example", "Newer Help", 7)
	newer.Global, newer.Authenticated = true, true
	want := []Option{sysOption(domain.TransportSystemServer), mailboxOpt(older, domain.TransportMailbox)}
	for _, cs := range [][]Candidate{{older, newer}, {newer, older}} {
		checkOptions(t, Compute(ReplyTo, erika, celanio, cs), want)
		if tr, id := TransportOf("help@shared.example", erika, celanio, cs); tr != domain.TransportMailbox || id != older.MailboxID {
			t.Errorf("TransportOf got %v %q, want MAILBOX %q", tr, id, older.MailboxID)
		}
	}
}

func TestR15_SystemMailboxYieldsToMailbox(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "Erika", "erika@celanio.com"
	same := mailbox("mb-noreply", celanioID, "NoReply@absender.example", "Celanio No-Reply", 1)
	t.Run("listed mailbox replaces the system mailbox", func(t *testing.T) {
		checkOptions(t, Compute(Sender, erika, celanio, []Candidate{same}),
			[]Option{mailboxOpt(same, domain.TransportSystemServer)})
	})
	t.Run("mailbox not in the list does not", func(t *testing.T) {
		replyOnly := same
		replyOnly.Sender = false
		checkOptions(t, Compute(Sender, erika, celanio, []Candidate{replyOnly}),
			[]Option{sysOption(domain.TransportSystemServer)})
	})
	t.Run("own address equal to the system mailbox is listed once, as system mailbox", func(t *testing.T) {
		noreply := erika
		noreply.Email = sysAddr
		checkOptions(t, Compute(Sender, noreply, withPolicy(celanio, userAddressAsSender(true)), nil),
			[]Option{sysOption(domain.TransportSystemServer)})
	})
}

func TestR15_Order(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "erika", "z-erika@celanio.com"
	cs := []Candidate{
		mailbox("mb-1", celanioID, "zeta@celanio.com", "Zeta", 1),
		mailbox("mb-2", celanioID, "B@celanio.com", "alpha", 2),
		mailbox("mb-3", celanioID, "beta@celanio.com", "beta", 3),
		mailbox("mb-4", celanioID, "a@celanio.com", "Alpha", 4),
		mailbox("mb-5", celanioID, "c@celanio.com", "ALPHA", 5),
	}
	tn := withPolicy(celanio, userAddressAsSender(true))
	tn.SystemMailboxName = "ZZZ System" // first although last by name
	sys := sysOption(domain.TransportSystemServer)
	sys.DisplayName = tn.SystemMailboxName
	tr := domain.TransportSystemServer
	want := []Option{sys,
		mailboxOpt(cs[3], tr), mailboxOpt(cs[1], tr), mailboxOpt(cs[4], tr), // alpha: by address a, B, c (case-insensitive)
		mailboxOpt(cs[2], tr),
		userOpt(erika, "", tr),
		mailboxOpt(cs[0], tr),
	}
	checkOptions(t, Compute(Sender, erika, tn, cs), want)
}

func TestR16_TransportOf(t *testing.T) {
	erika := mustermann
	erika.DisplayName, erika.Email = "Erika", "erika@celanio.com"
	auth := mailbox("mb-auth", celanioID, "info@bücher.example", "Bücher", 1)
	auth.Authenticated = true
	noFlags := auth
	noFlags.Sender, noFlags.ReplyTo = false, false
	restricted := auth
	restricted.Restricted = true
	plain := auth
	plain.Authenticated = false
	tenantServer := celanio
	tenantServer.Transport = domain.TransportTenantServer
	tests := []struct {
		name    string
		from    string
		t       Tenant
		c       Candidate
		want    domain.TransportKind
		wantBox string
	}{
		{"authenticated usable mailbox", "info@bücher.example", celanio, auth, domain.TransportMailbox, "mb-auth"},
		{"address in another form (case, punycode)", "INFO@xn--bcher-kva.example", celanio, auth, domain.TransportMailbox, "mb-auth"},
		{"authenticated mailbox without sender and replyTo flags", "info@bücher.example", celanio, noFlags, domain.TransportMailbox, "mb-auth"},
		{"authenticated mailbox the viewer may not use", "info@bücher.example", celanio, restricted, domain.TransportSystemServer, ""},
		{"mailbox without own settings", "info@bücher.example", tenantServer, plain, domain.TransportTenantServer, ""},
		{"other address", "erika@celanio.com", tenantServer, auth, domain.TransportTenantServer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, box := TransportOf(tt.from, erika, tt.t, []Candidate{tt.c})
			if got != tt.want || box != tt.wantBox {
				t.Errorf("TransportOf got %v %q, want %v %q", got, box, tt.want, tt.wantBox)
			}
		})
	}
	t.Run("option transports", func(t *testing.T) {
		tn := withPolicy(tenantServer, userAddressAsSender(true))
		sys := sysOption(domain.TransportTenantServer)
		checkOptions(t, Compute(Sender, erika, tn, []Candidate{auth, team()}),
			[]Option{sys, mailboxOpt(auth, domain.TransportMailbox), userOpt(erika, "", domain.TransportTenantServer),
				mailboxOpt(team(), domain.TransportTenantServer)})
	})
}

func team() Candidate { return mailbox("mb-plain", celanioID, "team@celanio.com", "Team", 2) }

func TestSourceText(t *testing.T) {
	for _, s := range []Source{SourceSystemMailbox, SourceMailbox, SourceUser} {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got Source
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("round trip of %v got %v, %v, want %v, nil", s, got, err, s)
		}
	}
	var s Source
	if err := s.UnmarshalText([]byte("FOO")); err == nil {
		t.Errorf("UnmarshalText(FOO) got nil error, want INVALID_INPUT")
	}
}
