package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsTimeout bounds each wait for a subscription message (the SPEC allows
// subscriptions to be asynchronous; nothing sleeps).
const wsTimeout = 15 * time.Second

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type event struct {
	ID            string  `json:"id"`
	Type          string  `json:"type"`
	SchemaVersion int     `json:"schemaVersion"`
	StreamType    string  `json:"streamType"`
	StreamID      string  `json:"streamId"`
	StreamVersion int     `json:"streamVersion"`
	Position      string  `json:"position"`
	At            string  `json:"at"`
	TenantID      *string `json:"tenantId"`
	Actor         string  `json:"actor"`
	Data          string  `json:"data"`
}

const eventsQ = `subscription($t:ID,$a:String){ events(tenantId:$t, after:$a){
	id type schemaVersion streamType streamId streamVersion position at tenantId actor correlationId causationId data } }`

type wsClient struct {
	conn *websocket.Conn
}

// dialWS opens a graphql-transport-ws connection and sends connection_init
// with payload; it returns an error when the server does not acknowledge.
func (e *env) dialWS(t *testing.T, payload map[string]any, timeout time.Duration) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(1 << 22)
	t.Cleanup(func() { _ = conn.CloseNow() })
	if conn.Subprotocol() != "graphql-transport-ws" {
		t.Fatalf("subprotocol: got %q, want graphql-transport-ws", conn.Subprotocol())
	}
	p, _ := json.Marshal(payload)
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: p}); err != nil {
		return nil, fmt.Errorf("connection_init: %w", err)
	}
	c := &wsClient{conn: conn}
	m, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	if m.Type != "connection_ack" {
		return nil, fmt.Errorf("got %s %s, want connection_ack", m.Type, m.Payload)
	}
	return c, nil
}

func bearer(tok string) map[string]any { return map[string]any{"Authorization": "Bearer " + tok} }

// refusedWithin bounds how long a refused connection may stay open.
const refusedWithin = 5 * time.Second

// wantRefused checks that connection_init with payload is refused: no
// connection_ack, and the server closes the connection.
func (e *env) wantRefused(t *testing.T, payload map[string]any) {
	t.Helper()
	_, err := e.dialWS(t, payload, refusedWithin)
	switch {
	case err == nil:
		t.Errorf("got connection_ack, want the connection refused")
	case errors.Is(err, context.DeadlineExceeded):
		t.Errorf("no connection_ack, but the connection stayed open for %s without being closed: want it refused (closed)", refusedWithin)
	}
}

// mustDialWS is dialWS that fails the test when refused.
func (e *env) mustDialWS(t *testing.T, tok string) *wsClient {
	t.Helper()
	c, err := e.dialWS(t, bearer(tok), wsTimeout)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return c
}

// read returns the next message, answering pings.
func (c *wsClient) read(ctx context.Context) (wsMessage, error) {
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" {
			if err := wsjson.Write(ctx, c.conn, wsMessage{Type: "pong"}); err != nil {
				return m, err
			}
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(t *testing.T, id string, vars map[string]any) {
	t.Helper()
	p, _ := json.Marshal(map[string]any{"query": eventsQ, "variables": vars})
	if err := wsjson.Write(t.Context(), c.conn, wsMessage{ID: id, Type: "subscribe", Payload: p}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
}

// next returns the next event of subscription id; it fails the test on an
// error, completion or timeout.
func (c *wsClient) next(t *testing.T, id string) event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wsTimeout)
	defer cancel()
	m, err := c.read(ctx)
	if err != nil {
		t.Fatalf("waiting for an event: %v", err)
	}
	if m.Type != "next" || m.ID != id {
		t.Fatalf("got message %s id %s %s, want next for %s", m.Type, m.ID, m.Payload, id)
	}
	var p struct {
		Data   struct{ Events event }
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	if len(p.Errors) > 0 {
		t.Fatalf("event with errors: %s", m.Payload)
	}
	return p.Data.Events
}

// until reads events until stop returns true.
func (c *wsClient) until(t *testing.T, id string, stop func(event) bool) []event {
	t.Helper()
	var out []event
	defer func() {
		if t.Failed() && len(out) > 0 {
			t.Logf("received %d events before failing, last %s at position %s", len(out), out[len(out)-1].Type, out[len(out)-1].Position)
		}
	}()
	for {
		ev := c.next(t, id)
		out = append(out, ev)
		if stop(ev) {
			return out
		}
	}
}

// TestEventsSubscription checks §3/§4: the events subscription over
// graphql-transport-ws, in order, without secrets, resumable, per tenant.
func TestEventsSubscription(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		const sysPw, mbPw = "Sys-Sub-Secret-11", "Mailbox-Secret-9"
		secrets := []string{sysPw, mbPw, "Own-Server-Secret-7"}
		e.must(t, e.Admin, configureSystemQ, map[string]any{"i": with(sysServer(), "auth", "PASSWORD", "username", "sys", "password", sysPw)}, nil)
		e.must(t, e.Admin, `mutation{ setSystemServerEnabled(enabled:true){ enabled } }`, nil, nil)
		a := e.createTenant(t, "Events A GmbH")
		b := e.createTenant(t, "Events B GmbH")
		e.must(t, e.Admin, configureTenantServerQ, map[string]any{"t": a, "i": ownServer()}, nil)
		e.addMailbox(t, e.Admin, b, "info@b.example", "Info", true, true, map[string]any{"set": mailboxSMTP("info@b.example")})
		aAdminID := e.user(t, a, "Armin Admin", "armin@a.example", "ADMINISTRATOR")
		aAdmin := e.token(t, aAdminID)
		e.user(t, b, "Birgit B", "birgit@b.example", "EMPLOYEE")

		t.Run("§4 R19 connection refused without or with a bad token", func(t *testing.T) {
			for name, p := range map[string]map[string]any{
				"no payload":     nil,
				"no token":       {},
				"bad token":      bearer("abs_nope_bm9wZQ"),
				"garbage header": {"Authorization": "Basic Zm9vOmJhcg=="},
			} {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					e.wantRefused(t, p)
				})
			}
		})

		// Every event so far, as the audit log lists them.
		audit := e.audit(t, e.Admin, "", "", 500, "").Entries
		lastPos := audit[len(audit)-1].Position

		var all []event
		admin := e.mustDialWS(t, e.Admin)
		t.Run("§3 every event in order, secrets stripped, one per audit entry", func(t *testing.T) {
			admin.subscribe(t, "all", map[string]any{"a": "0"})
			n := 0
			all = admin.until(t, "all", func(ev event) bool { n++; return ev.Position == lastPos || n == len(audit) })
			if g, w := len(all), len(audit); g != w {
				t.Fatalf("events up to %s: got %d, want %d (one per audit entry)", lastPos, g, w)
			}
			seen := map[string]bool{}
			reported := map[string]bool{} // report each kind of mismatch once
			streamVersion := map[string]int{}
			for i, ev := range all {
				if (ev.Position != audit[i].Position || ev.StreamID != audit[i].StreamID) && !reported["audit"] {
					reported["audit"] = true
					t.Errorf("event %d: got position %s stream %s, want %s %s as in the audit log", i, ev.Position, ev.StreamID, audit[i].Position, audit[i].StreamID)
				}
				if _, ok := new(big.Int).SetString(ev.Position, 10); !ok {
					if !reported["decimal"] {
						reported["decimal"] = true
						t.Errorf("event %d position %q: want a decimal string (§4)", i, ev.Position)
					}
				} else if i > 0 && position(t, all[i-1].Position).Cmp(position(t, ev.Position)) >= 0 {
					t.Errorf("event order: position %s after %s", ev.Position, all[i-1].Position)
				}
				if seen[ev.ID] {
					t.Errorf("event id %s delivered twice", ev.ID)
				}
				seen[ev.ID] = true
				if v, ok := streamVersion[ev.StreamID]; ok && ev.StreamVersion <= v {
					t.Errorf("stream %s: version %d after %d", ev.StreamID, ev.StreamVersion, v)
				}
				streamVersion[ev.StreamID] = ev.StreamVersion
				if ev.Type == "" || ev.Actor == "" || ev.At == "" || ev.SchemaVersion < 1 || !json.Valid([]byte(ev.Data)) {
					t.Errorf("event %+v: want type, actor, time, schema version and JSON data", ev)
				}
				for _, s := range secrets {
					wantNoSecret(t, "event "+ev.Type+" data", ev.Data, s)
				}
			}
		})

		t.Run("§3 live events arrive in order after a mutation returns", func(t *testing.T) {
			var g struct{ CreateGroup struct{ ID string } }
			e.must(t, e.Admin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"Live"){ id } }`, map[string]any{"t": a}, &g)
			e.must(t, e.Admin, configureTenantServerQ, map[string]any{"t": a, "i": with(ownServer(), "password", "Live-Secret-22")}, nil)
			evs := admin.until(t, "all", func(ev event) bool { return strings.Contains(ev.Data, "Own Server") && ev.Position != lastPos })
			if !strings.Contains(evs[0].Data, g.CreateGroup.ID) {
				t.Errorf("first live event: got %s %s, want the group %s", evs[0].Type, evs[0].Data, g.CreateGroup.ID)
			}
			for _, ev := range evs {
				wantNoSecret(t, "event "+ev.Type+" data", ev.Data, "Live-Secret-22")
			}
		})

		t.Run("§3 resuming after a position continues after it", func(t *testing.T) {
			if len(all) < 4 {
				t.Fatalf("got %d events, want at least 4", len(all))
			}
			k := len(all) / 2
			// After the position the event carries, and after the same
			// position as the audit log shows it.
			for n, after := range []string{all[k].Position, audit[k].Position} {
				id := fmt.Sprint("resume", n)
				c := e.mustDialWS(t, e.Auditor)
				c.subscribe(t, id, map[string]any{"a": after})
				for i := k + 1; i < len(all); i++ {
					if ev := c.next(t, id); ev.ID != all[i].ID {
						t.Fatalf("events(after: %q) event %d: got %s at %s, want %s at %s", after, i, ev.ID, ev.Position, all[i].ID, all[i].Position)
					}
				}
			}
		})

		t.Run("§3 R19 a tenant user sees only its tenant's events", func(t *testing.T) {
			c := e.mustDialWS(t, aAdmin)
			c.subscribe(t, "mine", map[string]any{"a": "0"})
			e.must(t, e.Admin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"B marker"){ id } }`, map[string]any{"t": b}, nil)
			e.must(t, e.Admin, `mutation($t:ID!){ createGroup(tenantId:$t, name:"A marker"){ id } }`, map[string]any{"t": a}, nil)
			evs := c.until(t, "mine", func(ev event) bool { return strings.Contains(ev.Data, "A marker") })
			for _, ev := range evs {
				if ev.TenantID == nil || *ev.TenantID != a {
					t.Errorf("tenant A's administrator got event %s of tenant %v, want only %s", ev.Type, ev.TenantID, a)
				}
				for _, s := range secrets {
					wantNoSecret(t, "event "+ev.Type+" data", ev.Data, s)
				}
			}
			c.subscribe(t, "theirs", map[string]any{"t": b, "a": "0"})
			ctx, cancel := context.WithTimeout(t.Context(), wsTimeout)
			defer cancel()
			for {
				m, err := c.read(ctx)
				if err != nil {
					t.Fatalf("events(tenantId: B) by A's administrator: %v, want an error message", err)
				}
				if m.ID != "theirs" {
					continue // a late event of "mine"
				}
				if m.Type == "next" && !strings.Contains(string(m.Payload), "NOT_FOUND") {
					t.Fatalf("events(tenantId: B) by A's administrator: got %s, want NOT_FOUND", m.Payload)
				}
				if m.Type == "error" && !strings.Contains(string(m.Payload), "NOT_FOUND") {
					t.Errorf("events(tenantId: B) by A's administrator: got %s, want NOT_FOUND", m.Payload)
				}
				break
			}
		})

		t.Run("R20 blocking a user closes its open subscription and refuses new ones", func(t *testing.T) {
			c := e.mustDialWS(t, aAdmin)
			c.subscribe(t, "blocked", map[string]any{"t": a})
			e.must(t, e.Admin, `mutation($u:ID!){ setUserBlocked(userId:$u, blocked:true){ id } }`, map[string]any{"u": aAdminID}, nil)
			ctx, cancel := context.WithTimeout(t.Context(), wsTimeout)
			defer cancel()
			start := time.Now()
			for {
				m, err := c.read(ctx)
				if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
					t.Fatalf("subscription of a blocked user still open after %s", wsTimeout)
				}
				if err != nil || m.Type == "complete" || m.Type == "error" {
					t.Logf("subscription closed %s after blocking (%v %s)", time.Since(start), err, m.Type)
					break // closed
				}
			}
			e.wantRefused(t, bearer(aAdmin))
		})
	})
}
