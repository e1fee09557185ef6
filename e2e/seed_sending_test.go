package e2e_test

import (
	"testing"

	"github.com/emersion/go-sasl"

	"github.com/absender/absender/transport/smtptest"
)

// The seed scenarios of sending, end to end over GraphQL with real SMTP
// servers on loopback: the system mailbox goes through the tenant's own
// server when it has one (R2, R8) and through the system server when it
// has none; a mailbox with own credentials goes through its own server
// with them (R16); with the system server disabled nothing is sent (R1)
// but a test mail (R6).
func TestSeed_SendingScenarios(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		system := e.smtpSystemServer(t, smtptest.Config{}, true)
		tenantServer := smtptest.Start(t, smtptest.Config{})
		ownServer := smtptest.Start(t, smtptest.Config{Mechs: []string{sasl.Plain}, Users: map[string]string{"vertrieb": "Vertrieb-Passw0rt"}})

		withServer := e.createTenant(t, "Eigener Server GmbH")
		e.must(t, e.Admin, configureTenantServerQ, map[string]any{"t": withServer, "i": smtpSettings(tenantServer, "noreply@eigen.example", "Eigen")}, nil)
		settings := smtpSettings(ownServer, "vertrieb@eigen.example", "Vertrieb")
		settings["auth"], settings["username"], settings["password"] = "PASSWORD", "vertrieb", "Vertrieb-Passw0rt"
		e.addMailbox(t, e.Admin, withServer, "vertrieb@eigen.example", "Vertrieb", true, false, map[string]any{"set": settings})
		anna := e.token(t, e.user(t, withServer, "Anna Eigen", "anna@eigen.example", "EMPLOYEE"))

		without := e.createTenant(t, "Ohne Server KG")
		otto := e.token(t, e.user(t, without, "Otto Ohne", "otto@ohne.example", "EMPLOYEE"))

		cases := []struct {
			name, tok, from, subject, transport string
			server                              *smtptest.Server
		}{
			{"R2 R8 system mailbox through the tenant server", anna, "noreply@eigen.example", "Via the tenant server", "TENANT_SERVER", tenantServer},
			{"R2 R8 system mailbox through the system server", otto, sysAddr, "Via the system server", "SYSTEM_SERVER", system},
			{"R16 mailbox with own credentials through its own server", anna, "Vertrieb <vertrieb@eigen.example>", "Via the mailbox", "MAILBOX", ownServer},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				m := e.mustSend(t, c.tok, msgDraft("from", c.from, "to", []string{"kunde@dest.example"}, "subject", c.subject, "text", "Hallo"))
				sent := e.waitFinal(t, c.tok, m.ID, "SENT")
				if showNil(sent.Transport) != c.transport {
					t.Errorf("transport: got %s, want %s", showNil(sent.Transport), c.transport)
				}
				oneDelivery(t, c.server, c.subject)
			})
		}
		if a := ownServer.Auths(); len(a) != 1 || a[0].Username != "vertrieb" || a[0].Password != "Vertrieb-Passw0rt" {
			t.Errorf("the mailbox's server saw AUTH %+v, want its credentials once", a)
		}

		t.Run("R1 R6 system server disabled: nothing is sent but a test mail", func(t *testing.T) {
			e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:false){ enabled } }`, nil, nil)
			for _, tok := range []string{anna, otto} {
				wantCode(t, e.send(t, tok, msgDraft("from", "noreply@eigen.example", "to", []string{"kunde@dest.example"}, "subject", "Gesperrt")), "SENDING_DISABLED")
			}
			r := e.testMail(t, e.Admin, "", "", "admin@dest.example")
			if len(r.Errors) > 0 {
				t.Fatalf("sendTestMail: %s", raw(r))
			}
			var v struct{ SendTestMail struct{ ID string } }
			r.Decode(t, &v)
			e.waitFinal(t, e.Admin, v.SendTestMail.ID, "SENT")
			oneDelivery(t, system, "Absender test mail")
			if n := len(deliveriesWith(t, system, "Gesperrt")) + len(deliveriesWith(t, tenantServer, "Gesperrt")); n != 0 {
				t.Errorf("%d messages went out while sending was disabled", n)
			}
		})
	})
}
