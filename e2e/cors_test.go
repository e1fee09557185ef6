package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/server"
	"github.com/absender/absender/server/servertest"
)

const (
	allowedOrigin = "https://console.example.com"
	refusedOrigin = "https://evil.example.net"
)

// eachWithCORS runs fn on a fresh server per database that allows origins
// (--cors-origins).
func eachWithCORS(t *testing.T, origins []string, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		fn(t, &env{Instance: servertest.StartWith(t, db, server.Options{CORSOrigins: origins})})
	})
}

func corsRequest(t *testing.T, method, url, origin string, header map[string]string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func preflight(t *testing.T, e *env, origin string) *http.Response {
	return corsRequest(t, http.MethodOptions, e.URL+"/graphql", origin, map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization,content-type",
	}, nil)
}

// TestCORSHTTP proves --cors-origins over HTTP (issue 11): a preflight
// from a listed origin is answered with the CORS headers (Authorization
// and Content-Type allowed, POST, a max age), one from another origin
// without them; a POST from the listed origin works and may be read by
// the page; a request without Origin (CLI, server to server) works as
// before.
func TestCORSHTTP(t *testing.T) {
	eachWithCORS(t, []string{allowedOrigin}, func(t *testing.T, e *env) {
		resp := preflight(t, e, allowedOrigin)
		h := resp.Header
		if got := h.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
			t.Errorf("preflight Access-Control-Allow-Origin: got %q, want %q", got, allowedOrigin)
		}
		if got := strings.ToLower(h.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "authorization") || !strings.Contains(got, "content-type") {
			t.Errorf("preflight Access-Control-Allow-Headers: got %q, want Authorization and Content-Type", got)
		}
		if got := h.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
			t.Errorf("preflight Access-Control-Allow-Methods: got %q, want POST", got)
		}
		if got := h.Get("Access-Control-Max-Age"); got != "600" {
			t.Errorf("preflight Access-Control-Max-Age: got %q, want 600", got)
		}

		resp = preflight(t, e, refusedOrigin)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("refused origin's preflight: got Access-Control-Allow-Origin %q, want none", got)
		}

		body, _ := json.Marshal(map[string]any{"query": "{ systemMailServer { configured } }"})
		hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + e.Admin}
		resp = corsRequest(t, http.MethodPost, e.URL+"/graphql", allowedOrigin, hdr, body)
		var out struct {
			Data   *struct{ SystemMailServer struct{ Configured bool } }
			Errors []any
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Data == nil || len(out.Errors) > 0 {
			t.Errorf("POST from the allowed origin: status %d, decoded %+v (%v)", resp.StatusCode, out, err)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
			t.Errorf("POST Access-Control-Allow-Origin: got %q, want %q", got, allowedOrigin)
		}
		resp = corsRequest(t, http.MethodPost, e.URL+"/graphql", refusedOrigin, hdr, body)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("POST from a refused origin: got Access-Control-Allow-Origin %q, want none", got)
		}
		resp = corsRequest(t, http.MethodPost, e.URL+"/graphql", "", hdr, body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("POST without Origin: got status %d, want 200", resp.StatusCode)
		}
	})
}

// wsDialOrigin opens the WebSocket with an Origin header ("" for none)
// and completes connection_init; it returns the HTTP status of a refused
// upgrade.
func (e *env) wsDialOrigin(t *testing.T, origin string) (status int, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wsTimeout)
	defer cancel()
	opts := &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{}}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/graphql", opts)
	if err != nil {
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	defer conn.CloseNow()
	p, _ := json.Marshal(bearer(e.Admin))
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: p}); err != nil {
		return 0, err
	}
	var m wsMessage
	if err := wsjson.Read(ctx, conn, &m); err != nil {
		return 0, err
	}
	if m.Type != "connection_ack" {
		return 0, errors.New("got " + m.Type + ", want connection_ack")
	}
	return http.StatusSwitchingProtocols, nil
}

// TestCORSWebSocket proves the WebSocket origin check (issue 11): with
// --cors-origins a listed origin is accepted and another refused with
// 403; without it only the server's own origin (and requests without an
// Origin header) are accepted.
func TestCORSWebSocket(t *testing.T) {
	wantStatus := func(t *testing.T, e *env, origin string, want int) {
		t.Helper()
		got, err := e.wsDialOrigin(t, origin)
		if got != want {
			t.Errorf("WebSocket with Origin %q: got status %d (%v), want %d", origin, got, err, want)
		}
	}
	eachWithCORS(t, []string{allowedOrigin}, func(t *testing.T, e *env) {
		wantStatus(t, e, allowedOrigin, http.StatusSwitchingProtocols)
		wantStatus(t, e, refusedOrigin, http.StatusForbidden)
		wantStatus(t, e, e.URL, http.StatusSwitchingProtocols) // same origin
	})
	each(t, func(t *testing.T, e *env) {
		wantStatus(t, e, allowedOrigin, http.StatusForbidden)
		wantStatus(t, e, e.URL, http.StatusSwitchingProtocols)
		wantStatus(t, e, "", http.StatusSwitchingProtocols)
	})
}
