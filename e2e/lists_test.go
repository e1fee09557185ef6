package e2e_test

import (
	"testing"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// Nested lists (batched per request) answer each object with its own
// items: users with and without groups, groups with and without members.
func TestR18_NestedListsPerObject(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		in := servertest.Start(t, db)
		var tn struct {
			CreateTenant struct{ ID string } `json:"createTenant"`
		}
		in.MustDo(t, in.Admin, `mutation { createTenant(name: "Lists GmbH") { id } }`, nil, &tn)
		tid := tn.CreateTenant.ID
		users := map[string]string{}
		for _, login := range []string{"anna", "bert", "carl"} {
			var u struct {
				CreateUser struct{ ID string } `json:"createUser"`
			}
			in.MustDo(t, in.Admin, `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: $l, email: "x@lists.example", role: EMPLOYEE) { id } }`,
				map[string]any{"t": tid, "l": login + "-lists"}, &u)
			users[login] = u.CreateUser.ID
		}
		groups := map[string]string{}
		for _, name := range []string{"Sales", "Support", "Empty"} {
			var g struct {
				CreateGroup struct{ ID string } `json:"createGroup"`
			}
			in.MustDo(t, in.Admin, `mutation($t: ID!, $n: String!) { createGroup(tenantId: $t, name: $n) { id } }`, map[string]any{"t": tid, "n": name}, &g)
			groups[name] = g.CreateGroup.ID
		}
		for _, m := range [][2]string{{"Sales", "anna"}, {"Support", "anna"}, {"Support", "bert"}} {
			in.MustDo(t, in.Admin, `mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`,
				map[string]any{"g": groups[m[0]], "u": users[m[1]]}, nil)
		}
		var got struct {
			Tenant struct {
				Users conn[struct {
					LoginName string
					Groups    []struct{ Name string }
				}]
				Groups conn[struct {
					Name    string
					Members conn[struct{ LoginName string }]
				}]
			}
		}
		in.MustDo(t, in.Admin, `query($t: ID!) { tenant(id: $t) { users { edges { node { loginName groups { name } } } }
			groups { edges { node { name members { edges { node { loginName } } } } } } } }`,
			map[string]any{"t": tid}, &got)
		wantGroups := map[string][]string{"anna-lists": {"Sales", "Support"}, "bert-lists": {"Support"}, "carl-lists": nil}
		for _, u := range got.Tenant.Users {
			var names []string
			for _, g := range u.Groups {
				names = append(names, g.Name)
			}
			if len(names) != len(wantGroups[u.LoginName]) || (len(names) > 0 && names[0] != wantGroups[u.LoginName][0]) {
				t.Errorf("%s: got groups %v, want %v", u.LoginName, names, wantGroups[u.LoginName])
			}
		}
		wantMembers := map[string]int{"Sales": 1, "Support": 2, "Empty": 0}
		for _, g := range got.Tenant.Groups {
			if len(g.Members) != wantMembers[g.Name] {
				t.Errorf("%s: got %d members, want %d", g.Name, len(g.Members), wantMembers[g.Name])
			}
		}
		if len(got.Tenant.Users) != 3 || len(got.Tenant.Groups) != 3 {
			t.Errorf("got %d users and %d groups, want 3 and 3", len(got.Tenant.Users), len(got.Tenant.Groups))
		}
	})
}
