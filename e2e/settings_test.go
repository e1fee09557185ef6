package e2e_test

import (
	"strings"
	"testing"
)

const configureSystemQ = `mutation($i:ServerSettingsInput!){ configureSystemServer(input:$i){ configured enabled settings{ ` + settingsFields + ` } } }`

// with returns a copy of m with the given keys changed (nil deletes).
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func (e *env) systemSettings(t *testing.T, tok string) (*settingsView, string) {
	t.Helper()
	q := `{ systemMailServer{ configured settings{ ` + settingsFields + ` } } }`
	r := e.do(t, tok, q, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("systemMailServer: %s", raw(r))
	}
	var v struct {
		SystemMailServer struct {
			Configured bool
			Settings   *settingsView
		}
	}
	r.Decode(t, &v)
	return v.SystemMailServer.Settings, raw(r)
}

// TestR4_ServerSettings checks validation, default ports, secret handling on
// update and that secrets never leave the server.
func TestR4_ServerSettings(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		const (
			pw1, graphSecret, pw3 = "Pw-One-aa11", "Graph-Secret-bb22", "Pw-Three-cc33"
			tenantPw, mailboxPw   = "Own-Server-Secret-7", "Mailbox-Secret-9"
		)
		smtp := map[string]any{"host": "smtp.example.com", "encryption": "NONE", "auth": "NONE", "senderAddress": "noreply@example.com"}
		graph := map[string]any{"encryption": "TLS", "auth": "MICROSOFT_GRAPH", "graphTenantId": "dir-1", "graphClientId": "client-1",
			"graphClientSecret": graphSecret, "senderAddress": "noreply@example.com"}
		var responses []string

		t.Run("R4 invalid settings are INVALID_INPUT naming the field, nothing stored", func(t *testing.T) {
			for _, c := range []struct {
				name, field string
				in          map[string]any
			}{
				{"host missing", "host", with(smtp, "host", nil)},
				{"host not a host name", "host", with(smtp, "host", "bad host!")},
				{"port 0", "port", with(smtp, "port", 0)},
				{"port 70000", "port", with(smtp, "port", 70000)},
				{"password missing", "password", with(smtp, "auth", "PASSWORD", "username", "mailer")},
				{"username missing", "username", with(smtp, "auth", "PASSWORD", "password", pw1)},
				{"graph client secret missing", "graphClientSecret", with(graph, "graphClientSecret", nil)},
				{"graph tenant id missing", "graphTenantId", with(graph, "graphTenantId", nil)},
				{"graph client id missing", "graphClientId", with(graph, "graphClientId", nil)},
				{"sender address invalid", "senderAddress", with(smtp, "senderAddress", "not-an-address")},
				{"R19 first field in schema order: host before port", "host", with(smtp, "host", "bad host!", "port", 0)},
				{"R19 first field in schema order: port before senderAddress", "port", with(smtp, "port", 70000, "senderAddress", "nope")},
			} {
				t.Run(c.name, func(t *testing.T) {
					r := e.do(t, e.Admin, configureSystemQ, map[string]any{"i": c.in})
					wantInvalid(t, r, c.field)
					wantNoSecret(t, "error response", raw(r), pw1)
					if s, _ := e.systemSettings(t, e.Admin); s != nil {
						t.Fatalf("system server after refused configure: got %+v, want not configured", s)
					}
				})
			}
		})

		t.Run("R4 default ports", func(t *testing.T) {
			for _, c := range []struct {
				enc  string
				port any
				want int
			}{{"NONE", nil, 25}, {"STARTTLS", nil, 587}, {"TLS", nil, 465}, {"TLS", 2525, 2525}} {
				var v struct {
					ConfigureSystemServer struct{ Settings settingsView }
				}
				e.must(t, e.Admin, configureSystemQ, map[string]any{"i": with(smtp, "encryption", c.enc, "port", c.port)}, &v)
				if p := v.ConfigureSystemServer.Settings.Port; p == nil || *p != c.want {
					t.Errorf("%s port %v: got %v, want %d", c.enc, c.port, p, c.want)
				}
				if s, _ := e.systemSettings(t, e.Admin); s == nil || s.Port == nil || *s.Port != c.want || s.Encryption != c.enc {
					t.Errorf("%s port %v read back: got %+v, want port %d", c.enc, c.port, s, c.want)
				}
			}
		})

		t.Run("R4 omitted secrets are kept, a changed auth drops them", func(t *testing.T) {
			steps := []struct {
				name            string
				in              map[string]any
				field           string // INVALID_INPUT expected
				hasPw, hasGraph bool
				auth, username  string
			}{
				{"password set", with(smtp, "auth", "PASSWORD", "username", "mailer", "password", pw1), "", true, false, "PASSWORD", "mailer"},
				{"password omitted keeps it", with(smtp, "auth", "PASSWORD", "username", "mailer2"), "", true, false, "PASSWORD", "mailer2"},
				{"auth NONE drops the password", smtp, "", false, false, "NONE", ""},
				{"PASSWORD again needs a password", with(smtp, "auth", "PASSWORD", "username", "mailer"), "password", false, false, "NONE", ""},
				{"graph with secret", graph, "", false, true, "MICROSOFT_GRAPH", ""},
				{"graph secret omitted keeps it", with(graph, "graphClientSecret", nil, "graphClientId", "client-2"), "", false, true, "MICROSOFT_GRAPH", ""},
				{"PASSWORD drops the graph secret", with(smtp, "auth", "PASSWORD", "username", "mailer", "password", pw3), "", true, false, "PASSWORD", "mailer"},
				{"graph again needs a secret", with(graph, "graphClientSecret", nil), "graphClientSecret", true, false, "PASSWORD", "mailer"},
			}
			for _, s := range steps {
				r := e.do(t, e.Admin, configureSystemQ, map[string]any{"i": s.in})
				responses = append(responses, raw(r))
				if s.field != "" {
					wantInvalid(t, r, s.field)
				} else if len(r.Errors) > 0 {
					t.Fatalf("%s: %s", s.name, raw(r))
				}
				got, rawGot := e.systemSettings(t, e.Admin)
				responses = append(responses, rawGot)
				if got == nil {
					t.Fatalf("%s: system server settings: got null", s.name)
				}
				user := ""
				if got.Username != nil {
					user = *got.Username
				}
				if got.HasPassword != s.hasPw || got.HasGraphClientSecret != s.hasGraph || got.Auth != s.auth || user != s.username {
					t.Fatalf("%s: got auth=%s username=%q hasPassword=%v hasGraphClientSecret=%v, want auth=%s username=%q hasPassword=%v hasGraphClientSecret=%v",
						s.name, got.Auth, user, got.HasPassword, got.HasGraphClientSecret, s.auth, s.username, s.hasPw, s.hasGraph)
				}
			}
		})

		t.Run("R4 tenant server and mailbox settings are validated too", func(t *testing.T) {
			tenant := e.createTenant(t, "Validating GmbH")
			r := e.do(t, e.Admin, configureTenantServerQ, map[string]any{"t": tenant, "i": with(ownServer(), "port", 0)})
			wantInvalid(t, r, "port")
			if tv := e.tenant(t, e.Admin, tenant); tv.Server != nil {
				t.Fatalf("tenant server after refused configure: got %+v, want null", tv.Server)
			}
			vars := mailboxVars(tenant, "info@validating.example", "Info", true, true)
			vars["set"] = with(mailboxSMTP("info@validating.example"), "password", nil)
			wantInvalid(t, e.do(t, e.Admin, addMailboxQ, vars), "password")
			if tv := e.tenant(t, e.Admin, tenant); len(tv.Mailboxes) != 0 {
				t.Fatalf("mailboxes after refused addMailbox: got %v, want none", tv.Mailboxes)
			}
			// Valid ones, to look for their secrets below.
			r = e.do(t, e.Admin, configureTenantServerQ, map[string]any{"t": tenant, "i": ownServer()})
			responses = append(responses, raw(r))
			mb := e.addMailbox(t, e.Admin, tenant, "info@validating.example", "Info", true, true,
				map[string]any{"set": mailboxSMTP("info@validating.example")})
			tv := e.tenant(t, e.Admin, tenant)
			if tv.Server == nil || !tv.Server.HasPassword || tv.Server.Port == nil || *tv.Server.Port != 465 {
				t.Fatalf("tenant server: got %+v, want hasPassword and port 465 (TLS default)", tv.Server)
			}
			// Omitted password keeps the stored one; removeSettings clears them.
			var up struct{ UpdateMailbox mailboxView }
			e.must(t, e.Admin, `mutation($id:ID!,$s:ServerSettingsInput!){ updateMailbox(id:$id, settings:$s){ `+mailboxFields+` } }`,
				map[string]any{"id": mb, "s": with(mailboxSMTP("info@validating.example"), "password", nil, "port", 2587)}, &up)
			if s := e.mailbox(t, e.Admin, mb).Settings; s == nil || !s.HasPassword || *s.Port != 2587 {
				t.Fatalf("mailbox settings after update without password: got %+v, want hasPassword and port 2587", s)
			}
			var tu struct{ ConfigureTenantServer struct{ Server settingsView } }
			e.must(t, e.Admin, `mutation($t:ID!,$i:ServerSettingsInput!){ configureTenantServer(tenantId:$t, input:$i){ server{ `+settingsFields+` } } }`,
				map[string]any{"t": tenant, "i": with(ownServer(), "password", nil, "username", "olga2")}, &tu)
			if s := e.tenant(t, e.Admin, tenant).Server; s == nil || !s.HasPassword || *s.Username != "olga2" {
				t.Fatalf("tenant server after update without password: got %+v, want hasPassword and username olga2", s)
			}
			for _, tok := range []string{e.Admin, e.Auditor} {
				m := e.do(t, tok, `query($id:ID!,$id2:ID!){ mailbox(id:$id){ `+mailboxFields+` } tenant(id:$id2){ `+tenantFields+` } }`,
					map[string]any{"id": mb, "id2": tenant})
				responses = append(responses, raw(m))
				var v struct{ Mailbox mailboxView }
				m.Decode(t, &v)
				if !v.Mailbox.Authenticated || v.Mailbox.Settings == nil || !v.Mailbox.Settings.HasPassword || *v.Mailbox.Settings.Port != 2587 {
					t.Fatalf("authenticated mailbox: got %+v, want authenticated, hasPassword, port 2587", v.Mailbox)
				}
			}
		})

		t.Run("R9 R4 removeSettings makes a mailbox unauthenticated", func(t *testing.T) {
			tenant := e.createTenant(t, "Unauthenticated GmbH")
			mb := e.addMailbox(t, e.Admin, tenant, "info@unauth.example", "Info", true, true,
				map[string]any{"set": mailboxSMTP("info@unauth.example")})
			e.must(t, e.Admin, `mutation($id:ID!){ updateMailbox(id:$id, removeSettings:true){ id } }`, map[string]any{"id": mb}, nil)
			if got := e.mailbox(t, e.Admin, mb); got.Authenticated || got.Settings != nil {
				t.Fatalf("mailbox after removeSettings: got authenticated=%v settings=%+v, want false and null", got.Authenticated, got.Settings)
			}
		})

		t.Run("§3 R4 secrets never appear in responses or the audit log", func(t *testing.T) {
			for _, tok := range []string{e.Admin, e.Auditor} {
				_, s := e.systemSettings(t, tok)
				responses = append(responses, s)
				r := e.do(t, tok, `{ auditLog(first:500){ edges{ node{ action streamId changes{ field from to } } } } }`, nil)
				if len(r.Errors) > 0 {
					t.Fatalf("auditLog: %s", raw(r))
				}
				responses = append(responses, raw(r))
				if !strings.Contains(strings.ToLower(raw(r)), "password") {
					t.Errorf("audit log: no change of a password field listed, want the secret shown as changed: %s", raw(r))
				}
			}
			all := strings.Join(responses, "\n")
			for _, secret := range []string{pw1, graphSecret, pw3, tenantPw, mailboxPw} {
				wantNoSecret(t, "responses", all, secret)
			}
		})
	})
}
