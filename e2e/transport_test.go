package e2e_test

import (
	"testing"
)

func ownServer() map[string]any {
	return map[string]any{"host": "mail.own.example", "encryption": "TLS", "auth": "PASSWORD", "username": "olga",
		"password": "Own-Server-Secret-7", "senderAddress": "system@own.example", "senderName": "Own Server"}
}

// mailboxSMTP is the own server of an authenticated mailbox.
func mailboxSMTP(addr string) map[string]any {
	return map[string]any{"host": "smtp.mailbox.example", "encryption": "STARTTLS", "auth": "PASSWORD", "username": addr,
		"password": "Mailbox-Secret-9", "senderAddress": addr}
}

const configureTenantServerQ = `mutation($t:ID!,$i:ServerSettingsInput!){ configureTenantServer(tenantId:$t, input:$i){ id } }`

func (e *env) effective(t *testing.T, tenantID string) string {
	t.Helper()
	var v struct {
		Tenant struct{ EffectiveTransport string }
	}
	e.must(t, e.Admin, `query($id:ID!){ tenant(id:$id){ effectiveTransport } }`, map[string]any{"id": tenantID}, &v)
	return v.Tenant.EffectiveTransport
}

func wantEffective(t *testing.T, e *env, tenantID, want string) {
	t.Helper()
	if got := e.effective(t, tenantID); got != want {
		t.Fatalf("tenant %s effectiveTransport: got %s, want %s", tenantID, got, want)
	}
}

// TestR1_R2_R3_R8_EffectiveTransport follows one installation through the
// master switch (R1), resolution (R2), policy (R3) and the system mailbox (R8).
func TestR1_R2_R3_R8_EffectiveTransport(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		plain := e.createTenant(t, "Plain AG")
		own := e.createTenant(t, "Own Server GmbH")
		noSys := e.createTenant(t, "No System KG")
		uPlain := e.user(t, plain, "Paula Plain", "paula@plain.example", "EMPLOYEE")
		uOwn := e.user(t, own, "Otto Own", "otto@own.example", "EMPLOYEE")
		uNoSys := e.user(t, noSys, "Nina NoSys", "nina@nosys.example", "EMPLOYEE")
		ownerTok := e.token(t, e.user(t, own, "Olga Owner", "olga@own.example", "LEGAL_REPRESENTATIVE"))
		mbNoSys := e.addMailbox(t, e.Admin, noSys, "info@nosys.example", "NoSys Info", true, true,
			map[string]any{"set": mailboxSMTP("info@nosys.example")})
		users := map[string]string{plain: uPlain, own: uOwn, noSys: uNoSys}

		wantNothing := func(t *testing.T) {
			t.Helper()
			for tenant, u := range users {
				wantEffective(t, e, tenant, "NONE")
				s, r := e.options(t, u)
				wantOptions(t, "sender options", s, nil)
				wantOptions(t, "reply-to options", r, nil)
			}
		}

		t.Run("R1 no system server: NONE everywhere, no options", func(t *testing.T) {
			var v struct {
				SystemMailServer struct{ Configured, Enabled bool }
			}
			e.must(t, e.Admin, `{ systemMailServer{ configured enabled } }`, nil, &v)
			if v.SystemMailServer.Configured {
				t.Fatalf("systemMailServer.configured: got true, want false on a fresh installation")
			}
			// A tenant server alone does not send (R1).
			e.must(t, ownerTok, configureTenantServerQ, map[string]any{"t": own, "i": ownServer()}, nil)
			wantNothing(t)
		})

		e.enableSystemServer(t)

		t.Run("R2 R8 R16 resolution with the system server on", func(t *testing.T) {
			wantEffective(t, e, plain, "SYSTEM_SERVER")
			wantEffective(t, e, own, "TENANT_SERVER")
			wantEffective(t, e, noSys, "SYSTEM_SERVER")
			s, r := e.options(t, uPlain)
			wantOptions(t, "plain sender options", s, []option{sysOpt("SYSTEM_SERVER")})
			wantOptions(t, "plain reply-to options", r, []option{sysOpt("SYSTEM_SERVER")})
			ownSys := opt("system@own.example", "Own Server", "SYSTEM_MAILBOX", "", "TENANT_SERVER")
			wantOptions(t, "own-server sender options", e.senderOptions(t, uOwn), []option{ownSys})
			wantOptions(t, "no-sys sender options", e.senderOptions(t, uNoSys), []option{
				sysOpt("SYSTEM_SERVER"), opt("info@nosys.example", "NoSys Info", "MAILBOX", mbNoSys, "MAILBOX")})
		})

		t.Run("R1 disabled system server: NONE everywhere, no options", func(t *testing.T) {
			var v struct {
				SetSystemServerEnabled struct{ Configured, Enabled bool }
			}
			e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:false){ configured enabled } }`, nil, &v)
			if !v.SetSystemServerEnabled.Configured || v.SetSystemServerEnabled.Enabled {
				t.Fatalf("setSystemServerEnabled(false): got %+v, want configured and not enabled", v.SetSystemServerEnabled)
			}
			wantNothing(t)
			e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
			wantEffective(t, e, own, "TENANT_SERVER")
			wantEffective(t, e, plain, "SYSTEM_SERVER")
		})

		t.Run("R3 allowOwnServer=false ignores the tenant server and refuses configuring one", func(t *testing.T) {
			e.setPolicy(t, own, map[string]any{"allowOwnServer": false})
			wantEffective(t, e, own, "SYSTEM_SERVER")
			wantOptions(t, "own-server sender options", e.senderOptions(t, uOwn), []option{sysOpt("SYSTEM_SERVER")})
			if tv := e.tenant(t, e.Admin, own); tv.Server == nil || tv.Server.SenderAddress != "system@own.example" {
				t.Fatalf("tenant server after allowOwnServer=false: got %+v, want kept (system@own.example)", tv.Server)
			}
			changed := ownServer()
			changed["senderAddress"] = "changed@own.example"
			for name, tok := range map[string]string{"owner": ownerTok, "system admin": e.Admin} {
				r := e.do(t, tok, configureTenantServerQ, map[string]any{"t": own, "i": changed})
				if r.Code() != "FORBIDDEN" {
					t.Errorf("configureTenantServer by %s with allowOwnServer=false: got %q (%s), want FORBIDDEN", name, r.Code(), raw(r))
				}
			}
			e.setPolicy(t, own, map[string]any{"allowOwnServer": true})
			wantEffective(t, e, own, "TENANT_SERVER")
			wantOptions(t, "own-server sender options after allowing again", e.senderOptions(t, uOwn), []option{
				opt("system@own.example", "Own Server", "SYSTEM_MAILBOX", "", "TENANT_SERVER")})
		})

		t.Run("R2 R3 allowSystemServer=false", func(t *testing.T) {
			e.setPolicy(t, noSys, map[string]any{"allowSystemServer": false})
			e.setPolicy(t, own, map[string]any{"allowSystemServer": false})
			wantEffective(t, e, noSys, "NONE")
			s, r := e.options(t, uNoSys)
			wantOptions(t, "no-sys sender options (authenticated mailbox included)", s, nil)
			wantOptions(t, "no-sys reply-to options", r, nil)
			wantEffective(t, e, own, "TENANT_SERVER")
			wantEffective(t, e, plain, "SYSTEM_SERVER")
			e.setPolicy(t, noSys, map[string]any{"allowSystemServer": true})
			e.setPolicy(t, own, map[string]any{"allowSystemServer": true})
			wantEffective(t, e, noSys, "SYSTEM_SERVER")
		})

		t.Run("R3 R19 only system administrators set the policy", func(t *testing.T) {
			r := e.do(t, ownerTok, `mutation($t:ID!){ setTenantPolicy(tenantId:$t, allowOwnServer:false){ id } }`, map[string]any{"t": own})
			wantCode(t, r, "FORBIDDEN")
			if p := e.tenant(t, e.Admin, own).Policy; !p.AllowOwnServer {
				t.Fatalf("policy after refused change: got allowOwnServer=false, want true")
			}
			wantEffective(t, e, own, "TENANT_SERVER")
		})

		t.Run("R2 removing the tenant server falls back to the system server", func(t *testing.T) {
			e.must(t, ownerTok, `mutation($t:ID!){ removeTenantServer(tenantId:$t){ id } }`, map[string]any{"t": own}, nil)
			wantEffective(t, e, own, "SYSTEM_SERVER")
			if tv := e.tenant(t, e.Admin, own); tv.Server != nil {
				t.Fatalf("tenant server after removeTenantServer: got %+v, want null", tv.Server)
			}
		})
	})
}
