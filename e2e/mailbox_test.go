package e2e_test

import (
	"reflect"
	"slices"
	"testing"
)

func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// TestR9_R10_MailboxesAndQuota checks unique addresses and the mailbox quota.
func TestR9_R10_MailboxesAndQuota(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Run("R10 default quota 1, only system administrators change it", func(t *testing.T) {
			tenant := e.createTenant(t, "Quota GmbH")
			owner := e.token(t, e.user(t, tenant, "Quentin Owner", "q@quota.example", "LEGAL_REPRESENTATIVE"))
			if q := e.tenant(t, e.Admin, tenant).Policy.MailboxQuota; q != 1 {
				t.Fatalf("default mailboxQuota: got %d, want 1", q)
			}
			e.addMailbox(t, owner, tenant, "one@quota.example", "One", true, true, nil)
			wantCode(t, e.do(t, owner, addMailboxQ, mailboxVars(tenant, "two@quota.example", "Two", true, true)), "QUOTA_EXCEEDED")
			wantCode(t, e.do(t, e.Admin, addMailboxQ, mailboxVars(tenant, "two@quota.example", "Two", true, true)), "QUOTA_EXCEEDED")
			if mbs := e.tenant(t, e.Admin, tenant).Mailboxes; len(mbs) != 1 {
				t.Fatalf("mailboxes after QUOTA_EXCEEDED: got %v, want only one@quota.example", mbs)
			}
			wantCode(t, e.do(t, owner, `mutation($t:ID!){ setTenantPolicy(tenantId:$t, mailboxQuota:5){ id } }`, map[string]any{"t": tenant}), "FORBIDDEN")
			if q := e.tenant(t, e.Admin, tenant).Policy.MailboxQuota; q != 1 {
				t.Fatalf("mailboxQuota after refused change: got %d, want 1", q)
			}
			e.setPolicy(t, tenant, map[string]any{"mailboxQuota": 2})
			e.addMailbox(t, owner, tenant, "two@quota.example", "Two", true, true, nil)
			wantCode(t, e.do(t, owner, addMailboxQ, mailboxVars(tenant, "three@quota.example", "Three", true, true)), "QUOTA_EXCEEDED")
		})

		t.Run("R10 removing a mailbox frees its place", func(t *testing.T) {
			tenant := e.createTenant(t, "Freed AG")
			mb := e.addMailbox(t, e.Admin, tenant, "one@freed.example", "One", true, true, nil)
			e.must(t, e.Admin, `mutation($id:ID!){ removeMailbox(id:$id) }`, map[string]any{"id": mb}, nil)
			if mbs := e.tenant(t, e.Admin, tenant).Mailboxes; len(mbs) != 0 {
				t.Fatalf("mailboxes after removeMailbox: got %v, want none", mbs)
			}
			e.addMailbox(t, e.Admin, tenant, "two@freed.example", "Two", true, true, nil)
		})

		t.Run("R9 address unique within a tenant, case-insensitive, IDNA-normalised", func(t *testing.T) {
			tenant := e.createTenant(t, "Unique KG")
			e.setPolicy(t, tenant, map[string]any{"mailboxQuota": 10})
			e.addMailbox(t, e.Admin, tenant, "welcome@celanio.com", "Welcome", true, true, nil)
			e.addMailbox(t, e.Admin, tenant, "info@bücher.example", "Bücher", true, true, nil)
			for _, addr := range []string{"welcome@celanio.com", "WELCOME@Celanio.COM", "info@xn--bcher-kva.example", "INFO@BÜCHER.example"} {
				r := e.do(t, e.Admin, addMailboxQ, mailboxVars(tenant, addr, "Again", true, true))
				if r.Code() != "ALREADY_EXISTS" {
					t.Errorf("addMailbox %s: got %q (%s), want ALREADY_EXISTS", addr, r.Code(), raw(r))
				}
			}
			if mbs := e.tenant(t, e.Admin, tenant).Mailboxes; len(mbs) != 2 {
				t.Fatalf("mailboxes after ALREADY_EXISTS: got %v, want 2", mbs)
			}
			// Another tenant may use the same address.
			e.addMailbox(t, e.Admin, e.createTenant(t, "Other Unique KG"), "welcome@celanio.com", "Welcome", true, true, nil)
		})

		t.Run("R9 invalid address is INVALID_INPUT", func(t *testing.T) {
			tenant := e.createTenant(t, "Invalid Address AG")
			wantInvalid(t, e.do(t, e.Admin, addMailboxQ, mailboxVars(tenant, "not an address", "X", true, true)), "address")
		})
	})
}

// TestR11_Access checks who may use a mailbox as grants come and go.
func TestR11_Access(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		tenant := e.createTenant(t, "Access GmbH")
		mb := e.addMailbox(t, e.Admin, tenant, "team@access.example", "Team", true, true, nil)
		admin := e.user(t, tenant, "Anna Admin", "anna@access.example", "ADMINISTRATOR")
		adminTok := e.token(t, admin)
		emp1 := e.user(t, tenant, "Emil One", "emil@access.example", "EMPLOYEE")
		emp2 := e.user(t, tenant, "Ella Two", "ella@access.example", "EMPLOYEE")
		ext := e.user(t, tenant, "Xaver External", "xaver@access.example", "EXTERNAL")
		all := map[string]string{"administrator": admin, "employee 1": emp1, "employee 2": emp2, "external": ext}

		// wantUsers checks which users have the mailbox among their options
		// and the mailbox's restricted flag.
		wantUsers := func(t *testing.T, restricted bool, users ...string) {
			t.Helper()
			for name, u := range all {
				s, r := e.options(t, u)
				want := slices.Contains(users, u)
				if got := hasAddress(s, "team@access.example"); got != want {
					t.Errorf("%s has the mailbox among sender options: got %v, want %v (%v)", name, got, want, addresses(s))
				}
				if got := hasAddress(r, "team@access.example"); got != want {
					t.Errorf("%s has the mailbox among reply-to options: got %v, want %v", name, got, want)
				}
			}
			if got := e.mailbox(t, adminTok, mb).Restricted; got != restricted {
				t.Errorf("mailbox.restricted: got %v, want %v", got, restricted)
			}
		}
		grant := func(t *testing.T, op, arg, id string) {
			t.Helper()
			e.must(t, adminTok, `mutation($m:ID!,$x:ID!){ `+op+`(mailboxId:$m, `+arg+`:$x){ id } }`, map[string]any{"m": mb, "x": id}, nil)
		}

		t.Run("R11 without grants: every active user but EXTERNAL", func(t *testing.T) {
			wantUsers(t, false, admin, emp1, emp2)
		})
		t.Run("R11 a user grant restricts", func(t *testing.T) {
			grant(t, "grantUser", "userId", emp1)
			wantUsers(t, true, emp1)
			wantIDs(t, "grantedUsers", ids(e.mailbox(t, adminTok, mb).GrantedUsers), emp1)
		})
		t.Run("R11 R20 a blocked only grantee keeps it restricted", func(t *testing.T) {
			e.must(t, adminTok, `mutation($u:ID!){ setUserBlocked(userId:$u, blocked:true){ id } }`, map[string]any{"u": emp1}, nil)
			wantUsers(t, true)
			e.must(t, adminTok, `mutation($u:ID!){ setUserBlocked(userId:$u, blocked:false){ id } }`, map[string]any{"u": emp1}, nil)
			wantUsers(t, true, emp1)
		})
		t.Run("R11 a direct grant reaches an EXTERNAL user", func(t *testing.T) {
			grant(t, "grantUser", "userId", ext)
			wantUsers(t, true, emp1, ext)
			grant(t, "revokeUser", "userId", ext)
			wantUsers(t, true, emp1)
		})
		t.Run("R11 revoking the last grant keeps it restricted, usable by nobody; only setMailboxRestricted opens it", func(t *testing.T) {
			grant(t, "revokeUser", "userId", emp1)
			wantUsers(t, true)
			wantIDs(t, "grantedUsers", ids(e.mailbox(t, adminTok, mb).GrantedUsers))
			e.must(t, adminTok, setRestrictedQ, map[string]any{"m": mb, "r": false}, nil)
			wantUsers(t, false, admin, emp1, emp2)
		})

		var group struct{ CreateGroup struct{ ID string } }
		e.must(t, adminTok, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Vertrieb"){ id } }`, map[string]any{"t": tenant}, &group)
		g := group.CreateGroup.ID
		member := func(t *testing.T, op, u string) {
			t.Helper()
			e.must(t, adminTok, `mutation($g:ID!,$u:ID!){ `+op+`(groupId:$g, userId:$u){ id } }`, map[string]any{"g": g, "u": u}, nil)
		}

		t.Run("R11 an empty granted group keeps it restricted", func(t *testing.T) {
			grant(t, "grantGroup", "groupId", g)
			wantUsers(t, true)
			wantIDs(t, "grantedGroups", ids(e.mailbox(t, adminTok, mb).GrantedGroups), g)
		})
		t.Run("R11 group members get it through membership", func(t *testing.T) {
			member(t, "addGroupMember", emp2)
			wantUsers(t, true, emp2)
			member(t, "addGroupMember", ext)
			wantUsers(t, true, emp2, ext)
			member(t, "removeGroupMember", emp2)
			wantUsers(t, true, ext)
			member(t, "removeGroupMember", ext)
			wantUsers(t, true)
		})
		t.Run("R11 revoking the last group grant keeps it restricted", func(t *testing.T) {
			grant(t, "revokeGroup", "groupId", g)
			wantUsers(t, true)
		})
		t.Run("R18 R11 deleting the granted group keeps the mailbox restricted", func(t *testing.T) {
			grant(t, "grantGroup", "groupId", g)
			member(t, "addGroupMember", emp1)
			wantUsers(t, true, emp1)
			e.must(t, adminTok, `mutation($g:ID!){ deleteGroup(groupId:$g) }`, map[string]any{"g": g}, nil)
			wantIDs(t, "grantedGroups after deleteGroup", ids(e.mailbox(t, adminTok, mb).GrantedGroups))
			wantUsers(t, true)
		})
	})
}

// TestR12_Global checks mailboxes shared across tenants.
func TestR12_Global(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		a := e.createTenant(t, "Owner A AG")
		b := e.createTenant(t, "Guest B AG")
		aAdmin := e.token(t, e.user(t, a, "Albert Admin", "albert@a.example", "ADMINISTRATOR"))
		bAdmin := e.token(t, e.user(t, b, "Bruno Admin", "bruno@b.example", "ADMINISTRATOR"))
		aEmp := e.user(t, a, "Agnes Employee", "agnes@a.example", "EMPLOYEE")
		bEmp := e.user(t, b, "Bernd Employee", "bernd@b.example", "EMPLOYEE")
		bEmp2 := e.user(t, b, "Berit Employee", "berit@b.example", "EMPLOYEE")
		bExt := e.user(t, b, "Bodo External", "bodo@b.example", "EXTERNAL")
		const addr = "hotline@a.example"

		t.Run("R12 R19 only a system administrator sets global", func(t *testing.T) {
			vars := mailboxVars(a, addr, "Hotline", true, true)
			vars["g"] = true
			wantCode(t, e.do(t, aAdmin, addMailboxQ, vars), "FORBIDDEN")
			if mbs := e.tenant(t, e.Admin, a).Mailboxes; len(mbs) != 0 {
				t.Fatalf("mailboxes after refused global addMailbox: got %v, want none", mbs)
			}
		})

		mb := e.addMailbox(t, aAdmin, a, addr, "Hotline", true, true, map[string]any{"set": mailboxSMTP(addr)})
		setGlobal := `mutation($id:ID!,$g:Boolean!){ updateMailbox(id:$id, global:$g){ global } }`

		t.Run("R12 tenant administrators cannot set or clear global", func(t *testing.T) {
			wantCode(t, e.do(t, aAdmin, setGlobal, map[string]any{"id": mb, "g": true}), "FORBIDDEN")
			if e.mailbox(t, e.Admin, mb).Global {
				t.Fatalf("mailbox.global after refused update: got true, want false")
			}
			if hasAddress(e.senderOptions(t, bEmp), addr) {
				t.Fatalf("non-global mailbox of tenant A among tenant B's options")
			}
			wantCode(t, e.do(t, bAdmin, `query($id:ID!){ mailbox(id:$id){ id } }`, map[string]any{"id": mb}), "NOT_FOUND")
		})

		e.must(t, e.Admin, setGlobal, map[string]any{"id": mb, "g": true}, nil)

		t.Run("R12 global without grants: every active non-external user of every tenant", func(t *testing.T) {
			want := opt(addr, "Hotline", "MAILBOX", mb, "MAILBOX")
			for name, u := range map[string]string{"A employee": aEmp, "B employee": bEmp} {
				s := e.senderOptions(t, u)
				if !slices.ContainsFunc(s, func(o option) bool { return o.String() == want.String() }) {
					t.Errorf("%s sender options: got %v, want %v among them", name, s, want)
				}
			}
			if s := e.senderOptions(t, bExt); hasAddress(s, addr) {
				t.Errorf("B external sender options: got %v, want without %s", s, addr)
			}
		})

		t.Run("R12 R19 grants across tenants only by a system administrator", func(t *testing.T) {
			// R19: nobody changes another tenant's data, such objects are
			// NOT_FOUND, and NOT_FOUND comes before FORBIDDEN: tenant B's
			// user is invisible to A's administrator, and A's mailbox, though
			// readable by B because it is global (R12), is not B's to change.
			grantQ := `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`
			wantCode(t, e.do(t, aAdmin, grantQ, map[string]any{"m": mb, "u": bEmp}), "NOT_FOUND")
			wantCode(t, e.do(t, bAdmin, grantQ, map[string]any{"m": mb, "u": bEmp}), "NOT_FOUND")
			wantCode(t, e.do(t, bAdmin, setGlobal, map[string]any{"id": mb, "g": false}), "NOT_FOUND")
			if got := e.mailbox(t, e.Admin, mb); len(got.GrantedUsers) != 0 || !got.Global {
				t.Fatalf("after refused grants: got grantedUsers %v global %v, want none and true", ids(got.GrantedUsers), got.Global)
			}
			e.must(t, e.Admin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": bEmp}, nil)
			e.must(t, aAdmin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": aEmp}, nil)
			wantIDs(t, "grantedUsers (system admin)", ids(e.mailbox(t, e.Admin, mb).GrantedUsers), aEmp, bEmp)
			for name, c := range map[string]struct {
				u    string
				want bool
			}{"A employee": {aEmp, true}, "B employee": {bEmp, true}, "B employee 2": {bEmp2, false}} {
				if got := hasAddress(e.senderOptions(t, c.u), addr); got != c.want {
					t.Errorf("%s has the global mailbox: got %v, want %v", name, got, c.want)
				}
			}
		})

		t.Run("R12 outside the owning tenant: address, name and flags only", func(t *testing.T) {
			got := e.mailbox(t, bAdmin, mb)
			if got.Address != addr || got.DisplayName != "Hotline" || !got.Global || !got.Sender || !got.ReplyTo || !got.Authenticated {
				t.Fatalf("global mailbox seen by B's administrator: got %+v, want address, name and flags", got)
			}
			if got.Settings != nil {
				t.Errorf("settings seen by B's administrator: got %+v, want null", got.Settings)
			}
			if slices.Contains(ids(got.GrantedUsers), aEmp) {
				t.Errorf("grantedUsers seen by B's administrator: got %v, want without tenant A's user %s", ids(got.GrantedUsers), aEmp)
			}
			own := e.mailbox(t, aAdmin, mb)
			if own.Settings == nil {
				t.Errorf("settings seen by A's administrator: got null, want them")
			}
			if slices.Contains(ids(own.GrantedUsers), bEmp) {
				t.Errorf("grantedUsers seen by A's administrator: got %v, want without tenant B's user %s", ids(own.GrantedUsers), bEmp)
			}
			if aud := e.mailbox(t, e.Auditor, mb); aud.Settings == nil || len(aud.GrantedUsers) != 2 {
				t.Errorf("auditor: got settings %v grantedUsers %v, want settings and both grants", aud.Settings, ids(aud.GrantedUsers))
			}
		})

		t.Run("R12 clearing global revokes the foreign grants", func(t *testing.T) {
			e.must(t, e.Admin, setGlobal, map[string]any{"id": mb, "g": false}, nil)
			got := e.mailbox(t, e.Admin, mb)
			if got.Global {
				t.Fatalf("mailbox.global: got true, want false")
			}
			wantIDs(t, "grantedUsers after clearing global", ids(got.GrantedUsers), aEmp)
			if hasAddress(e.senderOptions(t, bEmp), addr) {
				t.Errorf("B employee keeps the mailbox after global was cleared")
			}
			if !hasAddress(e.senderOptions(t, aEmp), addr) {
				t.Errorf("A employee lost the mailbox after global was cleared")
			}
			wantCode(t, e.do(t, bAdmin, `query($id:ID!){ mailbox(id:$id){ id } }`, map[string]any{"id": mb}), "NOT_FOUND")
		})
	})
}
