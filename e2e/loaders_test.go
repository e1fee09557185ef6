package e2e_test

import (
	"encoding/json"
	"testing"

	"github.com/coder/websocket/wsjson"
)

type groupMembers struct {
	Members conn[struct{ ID string }]
}

func memberIDs(g groupMembers) map[string]bool {
	out := map[string]bool{}
	for _, m := range g.Members {
		out[m.ID] = true
	}
	return out
}

// TestMutationAnswersSeeEarlierMutationsOfTheRequest checks read-your-
// writes across the mutations of one request: the second addGroupMember
// answers with both members, not the members the first one cached.
func TestMutationAnswersSeeEarlierMutationsOfTheRequest(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		tenant := e.createTenant(t, e.uniq("loaders"))
		u1 := e.user(t, tenant, "One", e.uniq("one")+"@loaders.example", "EMPLOYEE")
		u2 := e.user(t, tenant, "Two", e.uniq("two")+"@loaders.example", "EMPLOYEE")
		var g struct{ CreateGroup struct{ ID string } }
		e.must(t, e.Admin, `mutation($t:ID!,$n:String!){ createGroup(tenantId:$t, name:$n){ id } }`,
			map[string]any{"t": tenant, "n": e.uniq("g")}, &g)
		var out struct{ A, B groupMembers }
		e.must(t, e.Admin, `mutation($g:ID!,$u1:ID!,$u2:ID!){
			a: addGroupMember(groupId:$g, userId:$u1){ members { edges { node { id } } } }
			b: addGroupMember(groupId:$g, userId:$u2){ members { edges { node { id } } } } }`,
			map[string]any{"g": g.CreateGroup.ID, "u1": u1, "u2": u2}, &out)
		if got := memberIDs(out.B); !got[u1] || !got[u2] {
			t.Fatalf("second mutation's members: got %v, want %s and %s", got, u1, u2)
		}
	})
}

// TestWebSocketOperationsReadFreshData checks that the operations of one
// graphql-transport-ws connection do not share the first one's cached
// reads: a member added since is listed.
func TestWebSocketOperationsReadFreshData(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		tenant := e.createTenant(t, e.uniq("wsloaders"))
		u1 := e.user(t, tenant, "One", e.uniq("one")+"@wsloaders.example", "EMPLOYEE")
		var g struct{ CreateGroup struct{ ID string } }
		e.must(t, e.Admin, `mutation($t:ID!,$n:String!){ createGroup(tenantId:$t, name:$n){ id } }`,
			map[string]any{"t": tenant, "n": e.uniq("g")}, &g)
		c := e.mustDialWS(t, e.Admin)
		members := func(id string) groupMembers {
			t.Helper()
			p, _ := json.Marshal(map[string]any{"query": `query($g:ID!){ group(id:$g){ members { edges { node { id } } } } }`,
				"variables": map[string]any{"g": g.CreateGroup.ID}})
			if err := wsjson.Write(t.Context(), c.conn, wsMessage{ID: id, Type: "subscribe", Payload: p}); err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			for {
				m, err := c.read(t.Context())
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if m.ID != id || m.Type == "complete" {
					continue
				}
				var r struct{ Data struct{ Group groupMembers } }
				if err := json.Unmarshal(m.Payload, &r); err != nil || m.Type != "next" {
					t.Fatalf("got %s %s, want the group", m.Type, m.Payload)
				}
				return r.Data.Group
			}
		}
		if got := memberIDs(members("before")); len(got) != 0 {
			t.Fatalf("before: got members %v, want none", got)
		}
		e.must(t, e.Admin, `mutation($g:ID!,$u:ID!){ addGroupMember(groupId:$g, userId:$u){ id } }`,
			map[string]any{"g": g.CreateGroup.ID, "u": u1}, nil)
		if got := memberIDs(members("after")); !got[u1] {
			t.Fatalf("after adding %s: got members %v over the same connection, want it listed", u1, got)
		}
	})
}
