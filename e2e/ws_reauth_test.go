package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/absender/absender/graph"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server/servertest"
)

// TestWebSocketOperationsRecheckTokenR20 checks that the queries and
// mutations a graphql-transport-ws connection carries are answered for
// the token as it is now, not as it was at connection_init: once its user
// is blocked (R20), the connection can change nothing more (R11: access
// never outlives its grant).
func TestWebSocketOperationsRecheckTokenR20(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		tenant := e.createTenant(t, e.uniq("wsreauth"))
		adminID := e.user(t, tenant, "WS Admin", e.uniq("wsadmin")+"@wsreauth.example", "ADMINISTRATOR")
		adminTok := e.token(t, adminID)
		c := e.mustDialWS(t, adminTok)

		op := func(id string) wsMessage {
			t.Helper()
			p, _ := json.Marshal(map[string]any{"query": `mutation($t:ID!,$n:String!){ createGroup(tenantId:$t, name:$n){ id } }`,
				"variables": map[string]any{"t": tenant, "n": e.uniq("g")}})
			if err := wsjson.Write(t.Context(), c.conn, wsMessage{ID: id, Type: "subscribe", Payload: p}); err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			for {
				m, err := c.read(t.Context())
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if m.ID == id && m.Type != "complete" {
					return m
				}
			}
		}
		if m := op("before"); m.Type != "next" || string(m.Payload) == "" || json.Valid(m.Payload) && containsErrors(m.Payload) {
			t.Fatalf("before blocking: got %s %s, want the group created", m.Type, m.Payload)
		}
		e.must(t, e.Admin, `mutation($id:ID!){ setUserBlocked(userId:$id, blocked:true){ id } }`, map[string]any{"id": adminID}, nil)
		m := op("after")
		if m.Type == "next" && !containsErrors(m.Payload) {
			t.Fatalf("after blocking: got %s %s, want UNAUTHENTICATED", m.Type, m.Payload)
		}
		var groups struct {
			Tenant struct{ Groups conn[struct{ ID string }] }
		}
		e.must(t, e.Admin, `query($t:ID!){ tenant(id:$t){ groups { edges { node { id } } } } }`, map[string]any{"t": tenant}, &groups)
		if n := len(groups.Tenant.Groups); n != 1 {
			t.Fatalf("got %d groups, want 1: the blocked user's connection created one", n)
		}
	})
}

func containsErrors(payload json.RawMessage) bool {
	var p struct{ Errors []json.RawMessage }
	_ = json.Unmarshal(payload, &p)
	return len(p.Errors) > 0
}

// TestWebSocketWithoutInitIsClosedR34 checks that a connection that never
// sends connection_init (so never shows a token) is closed after a bound,
// as graphql-transport-ws asks, instead of being held open for
// ever: unauthenticated clients cannot pile up idle connections.
func TestWebSocketWithoutInitIsClosedR34(t *testing.T) {
	t.Parallel()
	e := &env{Instance: servertest.Start(t, dbtest.SQLite(t))}
	ctx, cancel := context.WithTimeout(t.Context(), graph.WSInitTimeout+5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	_, _, err = conn.Read(ctx)
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("connection without connection_init still open after %s, want it closed", graph.WSInitTimeout+5*time.Second)
	}
}
