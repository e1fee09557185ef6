package e2e_test

import (
	"slices"
	"testing"

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
