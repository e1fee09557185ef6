package e2e_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func (e *env) loginNames(t *testing.T, tenantID string) []string {
	t.Helper()
	out := []string{}
	for _, u := range e.tenant(t, e.Admin, tenantID).Users {
		out = append(out, u.LoginName)
	}
	return out
}

// TestR18_Directory checks users, login names, groups and deletion.
func TestR18_Directory(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		a := e.createTenant(t, "Directory A GmbH")
		b := e.createTenant(t, "Directory B GmbH")
		aAdmin := e.token(t, e.user(t, a, "Adele Admin", "adele@a.example", "ADMINISTRATOR"))

		t.Run("R18 createUser with a system role is INVALID_INPUT field role", func(t *testing.T) {
			for _, role := range []string{"SYSTEM_ADMIN", "AUDITOR", "MAIL_SERVER"} {
				for name, tok := range map[string]string{"system admin": e.Admin, "tenant admin": aAdmin} {
					r := e.do(t, tok, createUserQ, userVars(a, "sys-"+strings.ToLower(role), "Sys", "sys@a.example", role))
					if r.Code() != "INVALID_INPUT" || r.Field() != "role" {
						t.Errorf("createUser role %s by %s: got %q field %q (%s), want INVALID_INPUT field role", role, name, r.Code(), r.Field(), raw(r))
					}
				}
			}
			for _, l := range e.loginNames(t, a) {
				if strings.HasPrefix(l, "sys-") {
					t.Fatalf("users after refused createUser: got %v, want no sys-* user", e.loginNames(t, a))
				}
			}
		})

		t.Run("R18 login names unique system-wide, case-insensitive", func(t *testing.T) {
			e.createUser(t, aAdmin, a, "mmuster", "Max Muster", "max@a.example", "EMPLOYEE")
			for _, c := range []struct{ tenant, login string }{{a, "mmuster"}, {b, "mmuster"}, {b, "MMuster"}} {
				r := e.do(t, e.Admin, createUserQ, userVars(c.tenant, c.login, "Max Again", "max2@b.example", "EMPLOYEE"))
				if r.Code() != "ALREADY_EXISTS" {
					t.Errorf("createUser %s in tenant %s: got %q (%s), want ALREADY_EXISTS", c.login, c.tenant, r.Code(), raw(r))
				}
			}
			if got := e.loginNames(t, b); len(got) != 0 {
				t.Fatalf("tenant B users after ALREADY_EXISTS: got %v, want none", got)
			}
		})

		t.Run("R18 R19 INVALID_INPUT before ALREADY_EXISTS", func(t *testing.T) {
			wantInvalid(t, e.do(t, aAdmin, createUserQ, userVars(a, "mmuster", "Max", "max@a.example", "SYSTEM_ADMIN")), "role")
		})

		t.Run("R18 deleteUser revokes grants and memberships and frees the login name", func(t *testing.T) {
			u := e.createUser(t, aAdmin, a, "gone", "Gustav Gone", "gustav@a.example", "EMPLOYEE")
			stay := e.createUser(t, aAdmin, a, "stay", "Stefan Stay", "stefan@a.example", "EMPLOYEE")
			mb := e.addMailbox(t, aAdmin, a, "desk@a.example", "Desk", true, true, nil)
			var g struct{ CreateGroup struct{ ID string } }
			e.must(t, aAdmin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Leaving"){ id } }`, map[string]any{"t": a}, &g)
			gid := g.CreateGroup.ID
			for _, m := range []string{u, stay} {
				e.must(t, aAdmin, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`, map[string]any{"g": gid, "u": m}, nil)
			}
			e.must(t, aAdmin, `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": mb, "u": u}, nil)

			var d struct{ DeleteUser string }
			e.must(t, aAdmin, `mutation($u:ID!){ deleteUser(userId:$u) }`, map[string]any{"u": u}, &d)
			if d.DeleteUser != u {
				t.Errorf("deleteUser: got %q, want %q", d.DeleteUser, u)
			}
			got := e.mailbox(t, aAdmin, mb)
			wantIDs(t, "mailbox.grantedUsers after deleteUser", ids(got.GrantedUsers))
			if !got.Restricted {
				t.Errorf("mailbox.restricted after its only grantee was deleted: got false, want true (R11 fails closed)")
			}
			var gv struct {
				Group struct{ Members conn[struct{ ID string }] }
			}
			e.must(t, aAdmin, `query($g:ID!){ group(id:$g){ members { edges { node { id } } } } }`, map[string]any{"g": gid}, &gv)
			wantIDs(t, "group.members after deleteUser", ids(gv.Group.Members), stay)
			wantCode(t, e.do(t, aAdmin, `query($u:ID!){ user(id:$u){ id } }`, map[string]any{"u": u}), "NOT_FOUND")
			if slices.Contains(e.loginNames(t, a), "gone") {
				t.Errorf("tenant users after deleteUser: got %v, want without gone", e.loginNames(t, a))
			}
			e.createUser(t, e.Admin, b, "gone", "Gerda Gone", "gerda@b.example", "EMPLOYEE")
		})

		t.Run("R18 R19 a group holds only users of its tenant", func(t *testing.T) {
			bUser := e.user(t, b, "Boris B", "boris@b.example", "EMPLOYEE")
			var g struct{ CreateGroup struct{ ID string } }
			e.must(t, aAdmin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Only A"){ id } }`, map[string]any{"t": a}, &g)
			q := `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`
			wantCode(t, e.do(t, aAdmin, q, map[string]any{"g": g.CreateGroup.ID, "u": bUser}), "NOT_FOUND")
			if r := e.do(t, e.Admin, q, map[string]any{"g": g.CreateGroup.ID, "u": bUser}); len(r.Errors) == 0 {
				t.Errorf("addGroupMember with another tenant's user by the system admin: got no error, want it refused")
			}
			var gv struct {
				Group struct{ Members conn[struct{ ID string }] }
			}
			e.must(t, e.Admin, `query($g:ID!){ group(id:$g){ members { edges { node { id } } } } }`, map[string]any{"g": g.CreateGroup.ID}, &gv)
			wantIDs(t, "group.members", ids(gv.Group.Members))
		})
	})
}

// TestR19_Permissions checks error precedence and tenant isolation.
func TestR19_Permissions(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		a := e.createTenant(t, "Perm A AG")
		b := e.createTenant(t, "Perm B AG")
		aAdmin := e.token(t, e.user(t, a, "Alma Admin", "alma@a.example", "ADMINISTRATOR"))
		aEmpID := e.user(t, a, "Arno Employee", "arno@a.example", "EMPLOYEE")
		aEmp := e.token(t, aEmpID)
		bAdmin := e.token(t, e.user(t, b, "Bea Admin", "bea@b.example", "ADMINISTRATOR"))
		aMb := e.addMailbox(t, aAdmin, a, "info@a.example", "Info", true, true, nil)
		var g struct{ CreateGroup struct{ ID string } }
		e.must(t, aAdmin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"A-Team"){ id } }`, map[string]any{"t": a}, &g)
		aGroup := g.CreateGroup.ID

		t.Run("R19 UNAUTHENTICATED without or with a bad token", func(t *testing.T) {
			for name, tok := range map[string]string{"none": "", "garbage": "garbage", "well-formed unknown": "abs_nope_c2VjcmV0"} {
				for _, q := range []string{`{ tenants { edges { node { id } } } }`, `mutation{ createTenant(name:"X"){ id } }`} {
					if r := e.do(t, tok, q, nil); r.Code() != "UNAUTHENTICATED" {
						t.Errorf("token %s, %s: got %q (%s), want UNAUTHENTICATED", name, q, r.Code(), raw(r))
					}
				}
			}
			var v struct{ Tenants conn[struct{ ID string }] }
			e.must(t, e.Admin, `{ tenants { edges { node { id } } } }`, nil, &v)
			if len(v.Tenants) != 2 {
				t.Fatalf("tenants after refused createTenant: got %d, want 2", len(v.Tenants))
			}
		})

		t.Run("R19 tenants lists only the own tenant", func(t *testing.T) {
			for name, c := range map[string]struct{ tok, want string }{"A admin": {aAdmin, a}, "A employee": {aEmp, a}, "B admin": {bAdmin, b}} {
				r := e.do(t, c.tok, `{ tenants { edges { node { id } } } }`, nil)
				if len(r.Errors) > 0 {
					t.Errorf("tenants by %s: got %s, want [%s]", name, raw(r), c.want)
					continue
				}
				var v struct{ Tenants conn[struct{ ID string }] }
				r.Decode(t, &v)
				wantIDs(t, name+" tenants", ids(v.Tenants), c.want)
			}
			for name, tok := range map[string]string{"system admin": e.Admin, "auditor": e.Auditor} {
				var v struct{ Tenants conn[struct{ ID string }] }
				e.must(t, tok, `{ tenants { edges { node { id } } } }`, nil, &v)
				wantIDs(t, name+" tenants", ids(v.Tenants), a, b)
			}
		})

		t.Run("R19 another tenant's objects are NOT_FOUND", func(t *testing.T) {
			for _, c := range []struct {
				name, q string
				vars    map[string]any
			}{
				{"tenant", `query($id:ID!){ tenant(id:$id){ id } }`, map[string]any{"id": a}},
				{"user", `query($id:ID!){ user(id:$id){ id } }`, map[string]any{"id": aEmpID}},
				{"group", `query($id:ID!){ group(id:$id){ id } }`, map[string]any{"id": aGroup}},
				{"mailbox", `query($id:ID!){ mailbox(id:$id){ id } }`, map[string]any{"id": aMb}},
				{"senderOptions", `query($id:ID!){ senderOptions(userId:$id){ address } }`, map[string]any{"id": aEmpID}},
				{"apiTokens", `query($id:ID!){ apiTokens(userId:$id){ id } }`, map[string]any{"id": aEmpID}},
				{"createUser", createUserQ, userVars(a, "intruder", "Intruder", "i@b.example", "EMPLOYEE")},
				{"addMailbox", addMailboxQ, mailboxVars(a, "intruder@b.example", "Intruder", true, true)},
				{"createGroup", `mutation($id:ID!){ createGroup(tenantId:$id, name:"X"){ id } }`, map[string]any{"id": a}},
				{"setUserBlocked", `mutation($id:ID!){ setUserBlocked(userId:$id, blocked:true){ id } }`, map[string]any{"id": aEmpID}},
				{"deleteUser", `mutation($id:ID!){ deleteUser(userId:$id) }`, map[string]any{"id": aEmpID}},
				{"issueApiToken", `mutation($id:ID!){ issueApiToken(userId:$id, name:"x") }`, map[string]any{"id": aEmpID}},
				{"removeMailbox", `mutation($id:ID!){ removeMailbox(id:$id) }`, map[string]any{"id": aMb}},
				{"updateMailbox", `mutation($id:ID!){ updateMailbox(id:$id, displayName:"Hacked"){ id } }`, map[string]any{"id": aMb}},
				{"configureTenantServer", configureTenantServerQ, map[string]any{"t": a, "i": ownServer()}},
				{"deleteGroup", `mutation($id:ID!){ deleteGroup(groupId:$id) }`, map[string]any{"id": aGroup}},
			} {
				if r := e.do(t, bAdmin, c.q, c.vars); r.Code() != "NOT_FOUND" {
					t.Errorf("%s of tenant A by B's administrator: got %q (%s), want NOT_FOUND", c.name, r.Code(), raw(r))
				}
			}
			tv := e.tenant(t, e.Admin, a)
			if len(tv.Users) != 2 || len(tv.Mailboxes) != 1 || len(tv.Groups) != 1 || tv.Server != nil {
				t.Fatalf("tenant A after refused changes: got %+v, want 2 users, 1 mailbox, 1 group, no server", tv)
			}
			var u struct{ User struct{ Blocked bool } }
			e.must(t, e.Admin, `query($id:ID!){ user(id:$id){ blocked } }`, map[string]any{"id": aEmpID}, &u)
			if u.User.Blocked {
				t.Fatalf("user blocked by another tenant's administrator")
			}
			if got := e.mailbox(t, e.Admin, aMb).DisplayName; got != "Info" {
				t.Fatalf("mailbox displayName: got %q, want Info", got)
			}
		})

		t.Run("R19 employees and auditors are FORBIDDEN to administer", func(t *testing.T) {
			for _, c := range []struct {
				name, q string
				vars    map[string]any
			}{
				{"createUser", createUserQ, userVars(a, "byemp", "By Emp", "byemp@a.example", "EMPLOYEE")},
				// FORBIDDEN comes before INVALID_INPUT.
				{"createUser with a system role", createUserQ, userVars(a, "byemp", "By Emp", "byemp@a.example", "SYSTEM_ADMIN")},
				{"addMailbox", addMailboxQ, mailboxVars(a, "byemp@a.example", "By Emp", true, true)},
				{"updateMailbox", `mutation($id:ID!){ updateMailbox(id:$id, displayName:"Mine"){ id } }`, map[string]any{"id": aMb}},
				{"grantUser", `mutation($m:ID!,$u:ID!){ grantUser(mailboxId:$m, userId:$u){ id } }`, map[string]any{"m": aMb, "u": aEmpID}},
				{"createGroup", `mutation($id:ID!){ createGroup(tenantId:$id, name:"X"){ id } }`, map[string]any{"id": a}},
				{"addGroupMember", `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`, map[string]any{"g": aGroup, "u": aEmpID}},
				{"configureTenantServer", configureTenantServerQ, map[string]any{"t": a, "i": ownServer()}},
				{"setUserBlocked", `mutation($id:ID!){ setUserBlocked(userId:$id, blocked:true){ id } }`, map[string]any{"id": aEmpID}},
				{"configureSystemServer", configureSystemQ, map[string]any{"i": sysServer()}},
				{"createTenant", `mutation{ createTenant(name:"Mine"){ id } }`, nil},
			} {
				for who, tok := range map[string]string{"employee": aEmp, "auditor": e.Auditor} {
					if r := e.do(t, tok, c.q, c.vars); r.Code() != "FORBIDDEN" {
						t.Errorf("%s by %s: got %q (%s), want FORBIDDEN", c.name, who, r.Code(), raw(r))
					}
				}
			}
			for name, tok := range map[string]string{"tenant admin": aAdmin} {
				for _, q := range []string{configureSystemQ, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`} {
					if r := e.do(t, tok, q, map[string]any{"i": sysServer()}); r.Code() != "FORBIDDEN" {
						t.Errorf("%s by %s: got %q (%s), want FORBIDDEN", firstWord(q), name, r.Code(), raw(r))
					}
				}
			}
			tv := e.tenant(t, e.Admin, a)
			if len(tv.Users) != 2 || len(tv.Mailboxes) != 1 || len(tv.Groups) != 1 || tv.Server != nil {
				t.Fatalf("tenant A after refused changes: got %+v, want 2 users, 1 mailbox, 1 group, no server", tv)
			}
			if s, _ := e.systemSettings(t, e.Admin); s != nil {
				t.Fatalf("system server after refused configure: got %+v, want none", s)
			}
		})

		t.Run("R19 NOT_FOUND before FORBIDDEN", func(t *testing.T) {
			wantCode(t, e.do(t, aEmp, addMailboxQ, mailboxVars(b, "x@b.example", "X", true, true)), "NOT_FOUND")
			wantCode(t, e.do(t, aEmp, `mutation($id:ID!){ createGroup(tenantId:$id, name:"X"){ id } }`, map[string]any{"id": b}), "NOT_FOUND")
		})

		t.Run("R19 employees read their own user and their groups' names", func(t *testing.T) {
			e.must(t, aAdmin, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`, map[string]any{"g": aGroup, "u": aEmpID}, nil)
			var v struct {
				Viewer struct {
					ID     string
					Groups []struct{ Name string }
				}
			}
			e.must(t, aEmp, `{ viewer{ id groups{ name } } }`, nil, &v)
			if v.Viewer.ID != aEmpID || len(v.Viewer.Groups) != 1 || v.Viewer.Groups[0].Name != "A-Team" {
				t.Fatalf("viewer: got %+v, want %s in group A-Team", v.Viewer, aEmpID)
			}
			e.must(t, aEmp, `query($id:ID!){ user(id:$id){ id } senderOptions(userId:$id){ address } }`, map[string]any{"id": aEmpID}, nil)
		})
	})
}

func firstWord(q string) string {
	f := strings.FieldsFunc(q, func(r rune) bool { return r == '{' || r == '(' || r == ' ' })
	if len(f) > 1 {
		return f[1]
	}
	return q
}

// TestR20_BlockedUsers checks that blocking refuses tokens and empties options.
func TestR20_BlockedUsers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		e.enableSystemServer(t)
		tenant := e.createTenant(t, "Blocked GmbH")
		e.addMailbox(t, e.Admin, tenant, "info@blocked.example", "Info", true, true, nil)
		u := e.user(t, tenant, "Bruno Blocked", "bruno@blocked.example", "EMPLOYEE")
		tok := e.token(t, u)
		e.must(t, tok, `{ viewer{ id } }`, nil, nil)
		before, beforeReply := e.options(t, u)
		if len(before) != 2 || len(beforeReply) != 2 {
			t.Fatalf("options before blocking: got %v / %v, want system mailbox and info@", before, beforeReply)
		}
		block := `mutation($u:ID!,$b:Boolean!){ setUserBlocked(userId:$u, blocked:$b){ blocked } }`

		t.Run("R20 blocked: token UNAUTHENTICATED, options empty, history kept", func(t *testing.T) {
			var v struct{ SetUserBlocked struct{ Blocked bool } }
			e.must(t, e.Admin, block, map[string]any{"u": u, "b": true}, &v)
			if !v.SetUserBlocked.Blocked {
				t.Fatalf("setUserBlocked: got blocked=false, want true")
			}
			wantCode(t, e.do(t, tok, `{ viewer{ id } }`, nil), "UNAUTHENTICATED")
			s, r := e.options(t, u)
			wantOptions(t, "sender options", s, nil)
			wantOptions(t, "reply-to options", r, nil)
			var uv struct{ User struct{ Blocked bool } }
			e.must(t, e.Admin, `query($u:ID!){ user(id:$u){ blocked } }`, map[string]any{"u": u}, &uv)
			if !uv.User.Blocked {
				t.Fatalf("user.blocked: got false, want true")
			}
		})
		t.Run("R20 unblocked: token and options back", func(t *testing.T) {
			e.must(t, e.Admin, block, map[string]any{"u": u, "b": false}, nil)
			e.must(t, tok, `{ viewer{ id } }`, nil, nil)
			s, r := e.options(t, u)
			wantOptions(t, "sender options", s, before)
			wantOptions(t, "reply-to options", r, beforeReply)
		})
	})
}

var tokenFormat = regexp.MustCompile(`^abs_([A-Za-z0-9-]+)_([A-Za-z0-9_-]+)$`)

// TestR21_APITokens checks who may issue, list and revoke tokens.
func TestR21_APITokens(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		a := e.createTenant(t, "Token A GmbH")
		ownerID := e.user(t, a, "Olaf Owner", "olaf@a.example", "LEGAL_REPRESENTATIVE")
		adminID := e.user(t, a, "Ada Admin", "ada@a.example", "ADMINISTRATOR")
		admin2ID := e.user(t, a, "Adam Admin", "adam@a.example", "ADMINISTRATOR")
		empID := e.user(t, a, "Emma Employee", "emma@a.example", "EMPLOYEE")
		emp2ID := e.user(t, a, "Egon Employee", "egon@a.example", "EMPLOYEE")
		extID := e.user(t, a, "Ernst External", "ernst@a.example", "EXTERNAL")
		owner, admin, emp := e.token(t, ownerID), e.token(t, adminID), e.token(t, empID)
		issue := `mutation($u:ID!,$n:String!){ issueApiToken(userId:$u, name:$n) }`
		list := `query($u:ID){ apiTokens(userId:$u){ id name userId createdAt lastUsedAt } }`
		type apiToken struct {
			ID, Name  string
			UserID    *string `json:"userId"`
			CreatedAt string
		}
		tokens := func(t *testing.T, tok, userID string) ([]apiToken, string) {
			t.Helper()
			vars := map[string]any{"u": userID}
			if userID == "" {
				vars["u"] = nil
			}
			r := e.do(t, tok, list, vars)
			if len(r.Errors) > 0 {
				t.Fatalf("apiTokens(%s): %s", userID, raw(r))
			}
			var v struct {
				APITokens []apiToken `json:"apiTokens"`
			}
			r.Decode(t, &v)
			return v.APITokens, raw(r)
		}

		t.Run("R21 who may issue", func(t *testing.T) {
			for _, c := range []struct {
				who, tok, whom, userID string
				want                   string // "" allowed
			}{
				{"employee", emp, "self", empID, ""},
				{"employee", emp, "another employee", emp2ID, "FORBIDDEN"},
				{"employee", emp, "the owner", ownerID, "FORBIDDEN"},
				{"administrator", admin, "self", adminID, ""},
				{"administrator", admin, "an employee", emp2ID, ""},
				{"administrator", admin, "an external", extID, ""},
				{"administrator", admin, "another administrator", admin2ID, "FORBIDDEN"},
				{"administrator", admin, "the owner", ownerID, "FORBIDDEN"},
				{"owner", owner, "an administrator", admin2ID, ""},
				{"owner", owner, "self", ownerID, ""},
				{"system admin", e.Admin, "the owner", ownerID, ""},
				{"auditor", e.Auditor, "an employee", empID, "FORBIDDEN"},
			} {
				before, _ := tokens(t, e.Admin, c.userID)
				r := e.do(t, c.tok, issue, map[string]any{"u": c.userID, "n": "by " + c.who})
				if r.Code() != c.want {
					t.Errorf("%s issues for %s: got %q (%s), want %q", c.who, c.whom, r.Code(), raw(r), c.want)
					continue
				}
				after, _ := tokens(t, e.Admin, c.userID)
				if c.want != "" {
					if len(after) != len(before) {
						t.Errorf("%s issues for %s: tokens %d → %d, want unchanged", c.who, c.whom, len(before), len(after))
					}
					continue
				}
				var v struct {
					IssueAPIToken string `json:"issueApiToken"`
				}
				r.Decode(t, &v)
				m := tokenFormat.FindStringSubmatch(v.IssueAPIToken)
				if m == nil {
					t.Errorf("token %q: want the form abs_<id>_<secret>", v.IssueAPIToken)
					continue
				}
				if len(after) != len(before)+1 {
					t.Errorf("%s issues for %s: tokens %d → %d, want one more", c.who, c.whom, len(before), len(after))
				}
				if !slices.ContainsFunc(after, func(x apiToken) bool { return x.ID == m[1] && x.Name == "by "+c.who }) {
					t.Errorf("apiTokens: got %+v, want one with id %s (from the token) and name %q", after, m[1], "by "+c.who)
				}
				var viewer struct{ Viewer struct{ ID string } }
				e.must(t, v.IssueAPIToken, `{ viewer{ id } }`, nil, &viewer)
				if viewer.Viewer.ID != c.userID {
					t.Errorf("viewer with the new token: got %s, want %s", viewer.Viewer.ID, c.userID)
				}
			}
		})

		t.Run("R21 listing shows no secrets", func(t *testing.T) {
			var v struct {
				IssueAPIToken string `json:"issueApiToken"`
			}
			e.must(t, emp, issue, map[string]any{"u": empID, "n": "listed"}, &v)
			secret := tokenFormat.FindStringSubmatch(v.IssueAPIToken)[2]
			for who, c := range map[string]struct{ tok, u string }{"self (default user)": {emp, ""}, "self": {emp, empID}, "administrator": {admin, empID}, "system admin": {e.Admin, empID}} {
				list, rawList := tokens(t, c.tok, c.u)
				if len(list) == 0 {
					t.Errorf("apiTokens by %s: got none", who)
				}
				for _, x := range list {
					if x.UserID == nil || *x.UserID != empID {
						t.Errorf("apiTokens by %s: token %s of user %v, want %s", who, x.ID, x.UserID, empID)
					}
				}
				wantNoSecret(t, "apiTokens", rawList, secret)
			}
			wantCode(t, e.do(t, emp, list, map[string]any{"u": emp2ID}), "FORBIDDEN")
			wantCode(t, e.do(t, admin, list, map[string]any{"u": ownerID}), "FORBIDDEN")
		})

		t.Run("R21 a revoked token is UNAUTHENTICATED at once", func(t *testing.T) {
			for who, c := range map[string]struct{ by, userID string }{"self": {"", empID}, "administrator": {admin, emp2ID}} {
				var v struct {
					IssueAPIToken string `json:"issueApiToken"`
				}
				e.must(t, e.Admin, issue, map[string]any{"u": c.userID, "n": "to revoke"}, &v)
				tok := v.IssueAPIToken
				by := c.by
				if by == "" {
					by = tok
				}
				id := tokenFormat.FindStringSubmatch(tok)[1]
				e.must(t, tok, `{ viewer{ id } }`, nil, nil)
				// Another employee may not revoke it.
				if c.userID != empID {
					if r := e.do(t, emp, `mutation($id:ID!){ revokeApiToken(tokenId:$id) }`, map[string]any{"id": id}); len(r.Errors) == 0 {
						t.Errorf("employee revoked another user's token")
					}
					e.must(t, tok, `{ viewer{ id } }`, nil, nil)
				}
				var rv struct {
					RevokeAPIToken string `json:"revokeApiToken"`
				}
				e.must(t, by, `mutation($id:ID!){ revokeApiToken(tokenId:$id) }`, map[string]any{"id": id}, &rv)
				if rv.RevokeAPIToken != id {
					t.Errorf("revokeApiToken by %s: got %q, want %q", who, rv.RevokeAPIToken, id)
				}
				wantCode(t, e.do(t, tok, `{ viewer{ id } }`, nil), "UNAUTHENTICATED")
				list, _ := tokens(t, e.Admin, c.userID)
				if slices.ContainsFunc(list, func(x apiToken) bool { return x.ID == id }) {
					t.Errorf("apiTokens after revoking by %s: got %+v, want without %s", who, list, id)
				}
			}
		})
	})
}
