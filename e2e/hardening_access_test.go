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
