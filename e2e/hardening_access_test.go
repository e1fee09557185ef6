package e2e_test

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/absender/absender/transport/smtptest"
)

// TestR4_BareIPv6Host: a server host given as a bare IPv6 address ("::1")
// is stored in one normal form and the test mail reaches the SMTP server
// listening on [::1]; before, every attempt failed with "too many colons
// in address" and was retried for a day.
func TestR4_BareIPv6Host(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		srv := smtptest.Start(t, smtptest.Config{Listen: "[::1]:0"})
		for _, host := range []string{"[::1]", "::1"} {
			in := smtpSettings(srv, sysAddr, sysName)
			in["host"] = host
			var v struct {
				ConfigureSystemServer struct{ Settings struct{ Host string } }
			}
			e.must(t, e.Admin, `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ settings{ host } } }`,
				map[string]any{"i": in}, &v)
			if got := v.ConfigureSystemServer.Settings.Host; got != "::1" {
				t.Errorf("R4 host %q: stored %q, want the normal form ::1", host, got)
			}
		}
		e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
		var v struct{ SendTestMail messageView }
		r := e.testMail(t, e.Admin, "", "", "check@dest.example")
		if len(r.Errors) > 0 {
			t.Fatalf("sendTestMail: %s", raw(r))
		}
		r.Decode(t, &v)
		e.waitFinal(t, e.Admin, v.SendTestMail.ID, "SENT")
		if ds := srv.Deliveries(); len(ds) != 1 || !slices.Equal(ds[0].Rcpts, []string{"check@dest.example"}) {
			t.Fatalf("deliveries on [::1]: got %+v, want one to check@dest.example", ds)
		}
	})
}

// TestLastErrorForSenders: a message's lastError shows its sender
// (EMPLOYEE, EXTERNAL) a plain category, never the hosts, addresses or
// server replies of the detail; the tenant's administrators, system
// administrators and auditors see the detail (SPEC §4, like resolution).
func TestLastErrorForSenders(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tn := e.createTenant(t, e.uniq("Fehler GmbH "))
		emp := e.token(t, e.user(t, tn, "Erna Employee", e.uniq("erna")+"@fehler.example", "EMPLOYEE"))
		ext := e.token(t, e.user(t, tn, "Xaver External", e.uniq("xaver")+"@fehler.example", "EXTERNAL"))
		tAdmin := e.token(t, e.user(t, tn, "Ada Admin", e.uniq("ada")+"@fehler.example", "ADMINISTRATOR"))

		// A port nothing listens on: every attempt is refused.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()

		for _, c := range []struct {
			name, status, plain string
			server              func(t *testing.T) map[string]any
			detail              string // part of the detail the senders must not see
		}{
			{"connection refused", "RETRYING", "temporary failure: connection failed", func(t *testing.T) map[string]any {
				return map[string]any{"host": "127.0.0.1", "port": closed, "encryption": "NONE", "auth": "NONE", "senderAddress": sysAddr}
			}, "127.0.0.1"},
			{"5xx reply", "FAILED", "rejected by the mail server", func(t *testing.T) map[string]any {
				srv := smtptest.Start(t, smtptest.Config{DataReplies: twice(&smtp.SMTPError{Code: 550, Message: "relay via mx1.internal.example denied"})})
				return smtpSettings(srv, sysAddr, sysName)
			}, "mx1.internal.example"},
			{"4xx reply", "RETRYING", "temporary failure: the receiving server did not accept the message yet", func(t *testing.T) map[string]any {
				srv := smtptest.Start(t, smtptest.Config{DataReplies: twice(&smtp.SMTPError{Code: 451, Message: "greylisted by mx2.internal.example"})})
				return smtpSettings(srv, sysAddr, sysName)
			}, "mx2.internal.example"},
			{"authentication", "FAILED", "authentication failed", func(t *testing.T) map[string]any {
				srv := smtptest.Start(t, smtptest.Config{Mechs: []string{sasl.Plain}, Users: map[string]string{"relay": "right"}})
				in := smtpSettings(srv, sysAddr, sysName)
				in["auth"], in["username"], in["password"] = "PASSWORD", "relay", "wrong"
				return in
			}, "535"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.must(t, e.Admin, configureSystemQ, map[string]any{"i": c.server(t)}, nil)
				e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
				for _, sender := range []struct{ role, tok string }{{"EMPLOYEE", emp}, {"EXTERNAL", ext}} {
					id := e.mustSend(t, sender.tok, msgDraft("subject", c.name)).ID
					var m messageView
					deadline := time.Now().Add(30 * time.Second)
					for m = e.mustMessage(t, sender.tok, id); !msgFinal(m.Status) && (m.Status != c.status || m.LastError == nil); m = e.mustMessage(t, sender.tok, id) {
						if time.Now().After(deadline) {
							t.Fatalf("message %s: got %s (lastError %s), want %s with a lastError", id, m.Status, showNil(m.LastError), c.status)
						}
						time.Sleep(20 * time.Millisecond)
					}
					if m.Status != c.status {
						t.Fatalf("message %s: got %s, want %s", id, m.Status, c.status)
					}
					if got := showNil(m.LastError); got != c.plain {
						t.Errorf("%s reads lastError %q, want %q", sender.role, got, c.plain)
					}
					for _, who := range []struct{ role, tok string }{{"ADMINISTRATOR", tAdmin}, {"SYSTEM_ADMIN", e.Admin}, {"AUDITOR", e.Auditor}} {
						if got := showNil(e.mustMessage(t, who.tok, id).LastError); !strings.Contains(got, c.detail) {
							t.Errorf("%s reads lastError %q, want the detail with %q", who.role, got, c.detail)
						}
					}
				}
			})
		}
	})
}

// twice is the reply to the DATA of the employee's and the external user's message.
func twice(reply error) []error { return []error{reply, reply} }

const setRestrictedQ = `mutation($m:ID!,$r:Boolean!){ setMailboxRestricted(id:$m, restricted:$r){ ` + mailboxFields + ` } }`

// TestR11_FailClosed: a mailbox is restricted from its first grant on and
// stays restricted when its grantees are deleted, blocked or revoked or its
// groups emptied, usable by nobody; only setMailboxRestricted(id, false)
// opens it, revoking its remaining grants. Live reads and history (at:)
// agree at every step, and the audit log records the change. Before,
// deleting the only grantee opened the mailbox to the whole tenant.
func TestR11_FailClosed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		tn := e.createTenant(t, e.uniq("Geschlossen GmbH "))
		adminID := e.user(t, tn, "Ada Admin", e.uniq("ada")+"@zu.example", "ADMINISTRATOR")
		tAdmin := e.token(t, adminID)
		only := e.user(t, tn, "Olga Only", e.uniq("olga")+"@zu.example", "EMPLOYEE")
		other := e.user(t, tn, "Otto Other", e.uniq("otto")+"@zu.example", "EMPLOYEE")
		addr := e.uniq("vertrieb") + "@zu.example"
		mb := e.addMailbox(t, tAdmin, tn, addr, "Vertrieb", true, true, nil)

		// check compares the mailbox's restricted flag, who may use it now
		// (live and as of now in history), and whether other sees it.
		check := func(step string, restricted bool, users []string) {
			t.Helper()
			if got := e.mailbox(t, tAdmin, mb).Restricted; got != restricted {
				t.Errorf("%s: restricted = %v, want %v", step, got, restricted)
			}
			access := func(at any) []string {
				var r struct{ MailboxAccess conn[struct{ ID string }] }
				e.must(t, e.Auditor, `query($m:ID!,$at:Time){ mailboxAccess(mailboxId:$m, at:$at) { edges { node { id } } } }`, map[string]any{"m": mb, "at": at}, &r)
				return ids(r.MailboxAccess)
			}
			now := time.Now().UTC().Add(time.Second).Format(time.RFC3339Nano)
			live, then := access(nil), access(now)
			if !sameSet(live, users) || !sameSet(then, users) {
				t.Errorf("%s: mailboxAccess live %v, at now %v; want %v", step, live, then, users)
			}
			var v struct{ SenderOptions []option }
			e.must(t, e.Admin, `query($u:ID!,$at:Time){ senderOptions(userId:$u, at:$at){ `+optFields+` } }`, map[string]any{"u": other, "at": now}, &v)
			if got, want := hasAddress(e.senderOptions(t, other), addr), slices.Contains(users, other); got != want || hasAddress(v.SenderOptions, addr) != want {
				t.Errorf("%s: %s in the other user's sender options live %v, at now %v; want %v", step, addr, got, hasAddress(v.SenderOptions, addr), want)
			}
		}
		check("open", false, []string{adminID, only, other})

		e.must(t, tAdmin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": only}, nil)
		check("R11 restricted from its first grant on", true, []string{only})

		e.must(t, tAdmin, `mutation($u:ID!){ deleteUser(userId:$u) }`, map[string]any{"u": only}, nil)
		check("R11 R18 the only grantee deleted: restricted, usable by nobody", true, nil)

		var cg struct{ CreateGroup struct{ ID string } }
		e.must(t, tAdmin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Leer"){ id } }`, map[string]any{"t": tn}, &cg)
		g := cg.CreateGroup.ID // R11: an empty group
		e.must(t, tAdmin, `mutation($m:ID!,$g:ID!){ grantGroup(mailboxId:$m, groupId:$g){ id } }`, map[string]any{"m": mb, "g": g}, nil)
		e.must(t, tAdmin, `mutation($m:ID!,$g:ID!){ revokeGroup(mailboxId:$m, groupId:$g){ id } }`, map[string]any{"m": mb, "g": g}, nil)
		check("R11 the last grant revoked: still restricted", true, nil)

		var v struct{ SetMailboxRestricted mailboxView }
		wantCode(t, e.do(t, e.token(t, other), setRestrictedQ, map[string]any{"m": mb, "r": false}), "FORBIDDEN")
		e.must(t, tAdmin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": other}, nil)
		e.must(t, tAdmin, setRestrictedQ, map[string]any{"m": mb, "r": false}, &v)
		if v.SetMailboxRestricted.Restricted || len(v.SetMailboxRestricted.GrantedUsers) != 0 {
			t.Errorf("setMailboxRestricted(false): got restricted %v grants %v, want open without grants", v.SetMailboxRestricted.Restricted, ids(v.SetMailboxRestricted.GrantedUsers))
		}
		check("R11 opened by an administrator", false, []string{adminID, other})

		e.must(t, tAdmin, setRestrictedQ, map[string]any{"m": mb, "r": true}, &v)
		check("R11 restricted without grants: usable by nobody", true, nil)

		var found bool
		for _, x := range e.audit(t, e.Auditor, tn, "mailbox-"+mb, 0, "").Entries {
			if strings.Contains(x.Action, "MailboxRestrictionChanged") {
				found = true
			}
		}
		if !found {
			t.Errorf("audit log of mailbox-%s: no MailboxRestrictionChanged entry", mb)
		}
	})
}

// TestR12_GlobalMailboxFailsClosed: R11's rule across tenants. A global
// mailbox granted to a user of another tenant stays restricted when that
// user is deleted (no user of either tenant may use it); a tenant
// administrator cannot open it while it holds another tenant's grants
// (revoking them needs a system administrator), a system administrator can.
func TestR12_GlobalMailboxFailsClosed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		a, b := e.createTenant(t, e.uniq("Global A ")), e.createTenant(t, e.uniq("Global B "))
		aAdmin := e.token(t, e.user(t, a, "Anke Admin", e.uniq("anke")+"@a.example", "ADMINISTRATOR"))
		aEmp := e.user(t, a, "Arno Emp", e.uniq("arno")+"@a.example", "EMPLOYEE")
		bOnly := e.user(t, b, "Berta Only", e.uniq("berta")+"@b.example", "EMPLOYEE")
		bOther := e.user(t, b, "Bodo Other", e.uniq("bodo")+"@b.example", "EMPLOYEE")
		addr := e.uniq("global") + "@a.example"
		mb := e.addMailbox(t, e.Admin, a, addr, "Global", true, true, map[string]any{"g": true})
		if !hasAddress(e.senderOptions(t, bOther), addr) {
			t.Fatalf("R12: an open global mailbox is missing from another tenant's user's options")
		}
		grant := `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`
		e.must(t, e.Admin, grant, map[string]any{"m": mb, "u": bOnly}, nil)
		e.must(t, e.Admin, `mutation($u:ID!){ deleteUser(userId:$u) }`, map[string]any{"u": bOnly}, nil)
		if !e.mailbox(t, e.Admin, mb).Restricted {
			t.Errorf("R11 R12: the only (foreign) grantee deleted: got open, want restricted")
		}
		for _, u := range []string{aEmp, bOther} {
			if hasAddress(e.senderOptions(t, u), addr) {
				t.Errorf("R11 R12: user %s may use the global mailbox whose only grantee was deleted", u)
			}
		}
		e.must(t, e.Admin, grant, map[string]any{"m": mb, "u": bOther}, nil)
		wantCode(t, e.do(t, aAdmin, setRestrictedQ, map[string]any{"m": mb, "r": false}), "FORBIDDEN")
		if !e.mailbox(t, e.Admin, mb).Restricted || !hasAddress(e.senderOptions(t, bOther), addr) {
			t.Errorf("R12: a refused opening changed the mailbox")
		}
		e.must(t, e.Admin, setRestrictedQ, map[string]any{"m": mb, "r": false}, nil)
		for _, u := range []string{aEmp, bOther} {
			if !hasAddress(e.senderOptions(t, u), addr) {
				t.Errorf("R11 R12: opened by a system administrator, the global mailbox is missing from %s's options", u)
			}
		}
	})
}
