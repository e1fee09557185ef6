package e2e_test

import (
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"

	"github.com/absender/absender/transport/smtptest"
)

const checkQ = `mutation($t:ID,$m:ID,$in:ServerSettingsInput){ checkMailServer(tenantId:$t, mailboxId:$m, input:$in){
	ok steps{ name ok detail millis } } }`

type checkView struct {
	OK    bool `json:"ok"`
	Steps []struct {
		Name, Detail string
		OK           bool `json:"ok"`
		Millis       int
	}
}

func (c checkView) names() string {
	var out []string
	for _, s := range c.Steps {
		n := s.Name
		if !s.OK {
			n += "!"
		}
		out = append(out, n)
	}
	return strings.Join(out, " ")
}

// check runs checkMailServer; vars may hold t, m and in.
func (e *env) check(t *testing.T, tok string, vars map[string]any) (checkView, string) {
	t.Helper()
	r := e.do(t, tok, checkQ, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("checkMailServer(%v): %s", vars, raw(r))
	}
	var v struct{ CheckMailServer checkView }
	r.Decode(t, &v)
	return v.CheckMailServer, raw(r)
}

func wantCheck(t *testing.T, c checkView, want string) {
	t.Helper()
	if got := c.names(); got != want {
		t.Fatalf("got steps %q, want %q (%+v)", got, want, c.Steps)
	}
	if c.OK != !strings.Contains(want, "!") {
		t.Fatalf("got ok %v for steps %q", c.OK, want)
	}
}

const checkPassword = "Chk-pa55word-e2e"

// passwordServer is an SMTP server (plain text) that accepts AUTH PLAIN
// for mailer / checkPassword.
func passwordServer(t *testing.T) *smtptest.Server {
	return smtptest.Start(t, smtptest.Config{Mechs: []string{sasl.Plain}, Users: map[string]string{"mailer": checkPassword}})
}

func passwordSettings(srv *smtptest.Server, host string, password *string) map[string]any {
	s := map[string]any{"host": host, "port": srv.Port, "encryption": "NONE", "auth": "PASSWORD", "username": "mailer",
		"senderAddress": "noreply@example.com"}
	if password != nil {
		s["password"] = *password
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// streamLen is the version of a stream (its number of events).
func (e *env) streamLen(t *testing.T, streamID string) int {
	t.Helper()
	recs, err := e.Server.Store.Load(t.Context(), streamID)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// TestCheckMailServerSystem proves checkMailServer on the system server
// (issue 11, R24 relaxed by the test server): the stored settings with the
// stored password, all four steps, nothing sent, no secret in the answer;
// one audit entry on a stream of its own, the system stream's version
// unchanged; then unsaved settings: a wrong password fails AUTH, a closed
// port CONNECT, STARTTLS to a server without it TLS.
func TestCheckMailServerSystem(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		srv := passwordServer(t)
		e.must(t, e.Admin, `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ configured } }`,
			map[string]any{"i": passwordSettings(srv, srv.Host, ptr(checkPassword))}, nil)
		version := e.streamLen(t, "system")

		c, body := e.check(t, e.Admin, nil)
		wantCheck(t, c, "DNS CONNECT TLS AUTH")
		wantNoSecret(t, "checkMailServer answer", body, checkPassword)
		if a := srv.Auths(); len(a) != 1 || a[0].Password != checkPassword {
			t.Fatalf("got AUTH attempts %+v, want one with the stored password", a)
		}
		if d := srv.Deliveries(); len(d) != 0 {
			t.Fatalf("got %d deliveries, want none: a check sends nothing", len(d))
		}
		if got := e.streamLen(t, "system"); got != version {
			t.Fatalf("system stream version: got %d, want %d (a check writes no configuration stream)", got, version)
		}
		page := e.audit(t, e.Admin, "", "", 500, "")
		var entry *auditEntry
		for i := range page.Entries {
			if strings.HasPrefix(page.Entries[i].Action, "MailServerChecked") {
				entry = &page.Entries[i]
			}
		}
		if entry == nil {
			t.Fatalf("no MailServerChecked audit entry: %s", page.Raw)
		}
		if !strings.HasPrefix(entry.StreamID, "check-") || entry.Actor == "" {
			t.Errorf("audit entry: got stream %q actor %q, want a check- stream and the actor", entry.StreamID, entry.Actor)
		}
		wantNoSecret(t, "audit log", page.Raw, checkPassword)
		if !strings.Contains(page.Raw, "SYSTEM_SERVER") {
			t.Errorf("audit entry does not name the target: %s", page.Raw)
		}

		for _, tc := range []struct {
			name string
			in   map[string]any
			want string
		}{
			{"wrong password", passwordSettings(srv, srv.Host, ptr("wrong-"+checkPassword)), "DNS CONNECT TLS AUTH!"},
			{"closed port", map[string]any{"host": "127.0.0.1", "port": closedPort(t), "encryption": "NONE", "auth": "NONE",
				"senderAddress": "noreply@example.com"}, "DNS CONNECT!"},
			{"STARTTLS to a server without it", map[string]any{"host": srv.Host, "port": srv.Port, "encryption": "STARTTLS",
				"auth": "NONE", "senderAddress": "noreply@example.com"}, "DNS CONNECT TLS!"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, body := e.check(t, e.Admin, map[string]any{"in": tc.in})
				wantCheck(t, c, tc.want)
				wantNoSecret(t, "checkMailServer answer", body, "wrong-"+checkPassword)
			})
		}
		if got := e.streamLen(t, "system"); got != version {
			t.Fatalf("system stream version: got %d, want %d", got, version)
		}
	})
}

func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

// TestCheckMailServerTenantAndMailbox proves the tenant server and
// mailbox targets for the tenant's administrator, the stored-password
// fallback (used when the host is unchanged, not when it changed), the
// argument errors and R19 (auditor and employee FORBIDDEN, another
// tenant's administrator NOT_FOUND).
func TestCheckMailServerTenantAndMailbox(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		srv := passwordServer(t)
		tenant := e.createTenant(t, e.uniq("Check GmbH "))
		e.setPolicy(t, tenant, map[string]any{"allowOwnServer": true})
		admin := e.token(t, e.user(t, tenant, "Ada Admin", "ada@example.com", "ADMINISTRATOR"))
		employee := e.token(t, e.user(t, tenant, "Emil Employee", "emil@example.com", "EMPLOYEE"))
		other := e.createTenant(t, e.uniq("Other AG "))
		otherAdmin := e.token(t, e.user(t, other, "Otto Other", "otto@example.com", "ADMINISTRATOR"))

		// Nothing stored yet: INVALID_INPUT naming the target.
		wantInvalid(t, e.do(t, admin, checkQ, map[string]any{"t": tenant}), "tenantId")
		// Unsaved settings without a password and nothing stored: the password is required.
		wantInvalid(t, e.do(t, admin, checkQ, map[string]any{"t": tenant, "in": passwordSettings(srv, srv.Host, nil)}), "password")

		e.must(t, admin, `mutation($t:ID!,$i:ServerSettingsInput!){ configureTenantServer(tenantId:$t, input:$i){ id } }`,
			map[string]any{"t": tenant, "i": passwordSettings(srv, srv.Host, ptr(checkPassword))}, nil)
		version := e.streamLen(t, "tenant-"+tenant)

		c, body := e.check(t, admin, map[string]any{"t": tenant})
		wantCheck(t, c, "DNS CONNECT TLS AUTH")
		wantNoSecret(t, "checkMailServer answer", body, checkPassword)

		// Unsaved, same host, no password: the stored one is used.
		c, _ = e.check(t, admin, map[string]any{"t": tenant, "in": passwordSettings(srv, srv.Host, nil)})
		wantCheck(t, c, "DNS CONNECT TLS AUTH")
		// Another host (the same server by another name): the stored password is not sent to it.
		wantInvalid(t, e.do(t, admin, checkQ, map[string]any{"t": tenant, "in": passwordSettings(srv, "localhost", nil)}), "password")
		// Validated as configure* does.
		bad := passwordSettings(srv, "smtp server", nil)
		wantInvalid(t, e.do(t, admin, checkQ, map[string]any{"t": tenant, "in": bad}), "host")
		if got := e.streamLen(t, "tenant-"+tenant); got != version {
			t.Fatalf("tenant stream version: got %d, want %d (a check writes no configuration stream)", got, version)
		}

		mb := e.addMailbox(t, admin, tenant, "info@example.com", "Info", true, false,
			map[string]any{"set": passwordSettings(srv, srv.Host, ptr(checkPassword))})
		c, _ = e.check(t, admin, map[string]any{"m": mb})
		wantCheck(t, c, "DNS CONNECT TLS AUTH")
		if n := len(srv.Auths()); n != 3 {
			t.Errorf("got %d AUTH attempts, want 3 (tenant, tenant unsaved, mailbox)", n)
		}
		if d := srv.Deliveries(); len(d) != 0 {
			t.Fatalf("got %d deliveries, want none", len(d))
		}
		wantInvalid(t, e.do(t, admin, checkQ, map[string]any{"t": tenant, "m": mb}), "mailboxId")

		// R19.
		wantCode(t, e.do(t, e.Auditor, checkQ, map[string]any{"t": tenant}), "FORBIDDEN")
		wantCode(t, e.do(t, employee, checkQ, map[string]any{"m": mb}), "FORBIDDEN")
		wantCode(t, e.do(t, otherAdmin, checkQ, map[string]any{"t": tenant}), "NOT_FOUND")
		wantCode(t, e.do(t, otherAdmin, checkQ, map[string]any{"m": mb}), "NOT_FOUND")
		wantCode(t, e.do(t, admin, checkQ, nil), "FORBIDDEN") // the system server

		// The tenant's audit log shows its checks, without the secret.
		page := e.audit(t, admin, tenant, "", 500, "")
		n := 0
		for _, en := range page.Entries {
			if strings.HasPrefix(en.Action, "MailServerChecked") {
				n++
			}
		}
		if n != 3 {
			t.Errorf("got %d MailServerChecked entries in the tenant's audit log, want 3: %s", n, page.Raw)
		}
		wantNoSecret(t, "audit log", page.Raw, checkPassword)
	})
}
