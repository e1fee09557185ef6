package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/server"
)

// A consumer group more than ReadyMaxLag events behind the log's head
// makes the server unready, naming the group; it is ready again once the
// projections and the saga have caught up.
func TestReadinessBoundsConsumerLag(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ring, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(server.Options{DB: db, Keyring: ring, ReadyMaxLag: 1})
		if err != nil {
			t.Fatal(err)
		}
		h := srv.Handler()
		if code, body := get(t, h, "/readyz"); code != http.StatusOK {
			t.Fatalf("empty log: got %d %v, want 200", code, body)
		}
		// Not running: nothing consumes what is appended.
		cli := app.WithRequest(t.Context(), app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "test"})
		for _, name := range []string{"one", "two"} {
			if _, _, err := srv.App.Commands.Tokens.IssueForSystem(cli, domain.RoleAuditor, name); err != nil {
				t.Fatal(err)
			}
		}
		code, body := get(t, h, "/readyz")
		checks, _ := body["checks"].(map[string]any)
		if code != http.StatusServiceUnavailable || body["status"] != "unready" {
			t.Errorf("2 events unconsumed, bound 1: got %d %v, want 503 unready", code, body)
		}
		groups := append([]string{"saga"}, prefixed("projection ", srv.Runner.Groups())...)
		for _, check := range groups {
			if got, _ := checks[check].(string); !strings.HasSuffix(got, "events behind (bound 1)") {
				t.Errorf("check %q: got %q, want \"… events behind (bound 1)\"", check, got)
			}
		}
		if checks["database"] != "ok" || checks["migrations"] != "ok" {
			t.Errorf("database and migrations: got %v, %v; want ok", checks["database"], checks["migrations"])
		}

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx, nil) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(15 * time.Second)
		for {
			code, body = get(t, h, "/readyz")
			if code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("running: got %d %v after 15s, want 200 once caught up", code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		checks, _ = body["checks"].(map[string]any)
		for _, check := range groups {
			if checks[check] != "ok" {
				t.Errorf("caught up: check %q is %v, want ok", check, checks[check])
			}
		}
	})
}

// The default bound tolerates a short backlog.
func TestReadinessDefaultBound(t *testing.T) {
	db := dbtest.SQLite(t)
	ring, err := keyring.New("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{DB: db, Keyring: ring})
	if err != nil {
		t.Fatal(err)
	}
	cli := app.WithRequest(t.Context(), app.Request{Actor: domain.Actor{Role: domain.RoleSystemAdmin}, Principal: "test"})
	if _, _, err := srv.App.Commands.Tokens.IssueForSystem(cli, domain.RoleAuditor, "one"); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, srv.Handler(), "/readyz"); code != http.StatusOK {
		t.Errorf("one event unconsumed, default bound: got %d %v, want 200", code, body)
	}
}

// The broker check is reported as "broker" when one is configured, and
// only then; its error text stays in the log.
func TestReadinessBrokerCheck(t *testing.T) {
	db := dbtest.SQLite(t)
	for _, tc := range []struct {
		name      string
		check     func(context.Context) error
		wantCode  int
		wantCheck any
	}{
		{"no broker", nil, http.StatusOK, nil},
		{"broker up", func(context.Context) error { return nil }, http.StatusOK, "ok"},
		{"broker down", func(context.Context) error {
			return errors.New("nats://user:s3cret@broker:4222: connection refused")
		}, http.StatusServiceUnavailable, "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := server.New(server.Options{DB: db, BrokerCheck: tc.check})
			if err != nil {
				t.Fatal(err)
			}
			rec := getRaw(t, srv.Handler(), "/readyz")
			code, body := get(t, srv.Handler(), "/readyz")
			checks, _ := body["checks"].(map[string]any)
			if code != tc.wantCode || checks["broker"] != tc.wantCheck {
				t.Errorf("got %d, broker %v; want %d, %v", code, checks["broker"], tc.wantCode, tc.wantCheck)
			}
			if strings.Contains(rec, "s3cret") || strings.Contains(rec, "nats://") {
				t.Errorf("the answer shows the check's error: %s", rec)
			}
		})
	}
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

func getRaw(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Body.String()
}
