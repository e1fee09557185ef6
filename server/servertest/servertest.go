// Package servertest runs a complete Absender (event store, command layer,
// projections, GraphQL over real HTTP) on a test database, and speaks
// GraphQL to it.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/server"
)

// Instance is a running server.
type Instance struct {
	URL    string // base URL; GraphQL at URL+"/graphql"
	Server *server.Server
	// Tokens of the system roles, issued as `absender token issue` does.
	Admin, Auditor, MailServer string
}

// Start starts a server on db (migrated, e.g. from dbtest) and stops it
// when the test ends. Its transports may connect to loopback addresses
// (R24 is relaxed), so tests can run SMTP servers on 127.0.0.1.
func Start(t testing.TB, db *database.DB) *Instance {
	t.Helper()
	return StartWith(t, db, server.Options{})
}

// StartWith is Start with options; DB and Keyring are filled in, Log
// unless set, and Transport.AllowPrivateHosts is set.
func StartWith(t testing.TB, db *database.DB, opt server.Options) *Instance {
	t.Helper()
	ring, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{42}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	opt.DB, opt.Keyring = db, ring
	if opt.Log == nil {
		opt.Log = log
	}
	opt.Transport.AllowPrivateHosts = true
	if opt.Saga.Poll == 0 {
		opt.Saga.Poll = 100 * time.Millisecond
	}
	srv, err := server.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, running) }()
	select {
	case <-running:
	case err := <-done:
		cancel()
		t.Fatalf("projections did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("projections did not start within 30s")
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
	})
	in := &Instance{URL: hs.URL, Server: srv}
	cli := app.WithRequest(context.Background(), app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "cli"})
	for _, x := range []struct {
		dst  *string
		role domain.Role
	}{{&in.Admin, domain.RoleSystemAdmin}, {&in.Auditor, domain.RoleAuditor}, {&in.MailServer, domain.RoleMailServer}} {
		tok, _, err := srv.App.Commands.Tokens.IssueForSystem(cli, x.role, "test "+x.role.String())
		if err != nil {
			t.Fatal(err)
		}
		*x.dst = tok
	}
	return in
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	// Extensions of the response, e.g. warnings (R36).
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is extensions.code of the first error ("" when none).
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Field is extensions.field of the first error.
func (r Response) Field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	f, _ := r.Errors[0].Extensions["field"].(string)
	return f
}

// Decode unmarshals data into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// Do posts a GraphQL operation with a bearer token ("" for none).
func (in *Instance) Do(t testing.TB, token, query string, vars map[string]any) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d is not GraphQL: %s", resp.StatusCode, raw)
	}
	return out
}

// MustDo is Do that fails the test on any GraphQL error and decodes data
// into v (when not nil).
func (in *Instance) MustDo(t testing.TB, token, query string, vars map[string]any, v any) {
	t.Helper()
	r := in.Do(t, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %s (%v)", firstLine(query), r.Errors[0].Message, r.Errors[0].Extensions)
	}
	if v != nil {
		r.Decode(t, v)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return fmt.Sprintf("%.80s", s)
}
