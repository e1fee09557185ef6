package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/absender/absender/internal/dbtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts on a fresh SQLite file, migrates, creates the 0600 key
// file, answers /readyz, and shuts down cleanly when its context ends
// (as on SIGINT/SIGTERM).
func TestServeStartsAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--database-url", filepath.Join(dir, "a.db"), "--log-format", "json"}, &bytes.Buffer{}, &stderr)
	}()
	var resp *http.Response
	var err error
	for range 100 {
		resp, err = http.Get("http://" + addr + "/readyz")
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		cancel()
		t.Fatalf("server did not come up: %v (log: %s)", err, stderr.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: got %d, want 200", resp.StatusCode)
	}
	fi, err := os.Stat(filepath.Join(dir, "a.db.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want one with mode 0600", err, fi.Mode())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v on shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("log lacks the shutdown line: %s", stderr.String())
	}
}

// A bad setting stops the start with a message naming it, flag or
// environment variable alike.
func TestBadSettingsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  [2]string
		want string
	}{
		{args: []string{"serve", "--listen", "nonsense"}, want: "--listen (ABSENDER_LISTEN)"},
		{args: []string{"serve"}, env: [2]string{"ABSENDER_LOG_FORMAT", "xml"}, want: "--log-format (ABSENDER_LOG_FORMAT)"},
		{args: []string{"serve", "--database-url", "mysql://x"}, want: "--database-url (ABSENDER_DATABASE_URL)"},
		{args: []string{"serve"}, env: [2]string{"ABSENDER_AUTO_MIGRATE", "maybe"}, want: "ABSENDER_AUTO_MIGRATE"},
		{args: []string{"serve", "--message-retention", "a while"}, want: "message-retention"},
		{args: []string{"serve"}, env: [2]string{"ABSENDER_MESSAGE_RETENTION", "0d"}, want: "--message-retention (ABSENDER_MESSAGE_RETENTION)"},
		{args: []string{"serve", "--delivery-workers", "0"}, want: "--delivery-workers (ABSENDER_DELIVERY_WORKERS)"},
		{args: []string{"serve", "--graph-url", "ftp://graph"}, want: "--graph-url"},
		{args: []string{"migrate", "sideways"}, want: "say up or status"},
		{args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
	} {
		t.Run(strings.Join(tc.args, " ")+" "+tc.env[0], func(t *testing.T) {
			if tc.env[0] != "" {
				t.Setenv(tc.env[0], tc.env[1])
			}
			err := run(t.Context(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
			var usage usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error naming %q", err, tc.want)
			}
		})
	}
}

// Environment variables stand in for every flag.
func TestEnvironmentFallback(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ABSENDER_DATABASE_URL", filepath.Join(dir, "env.db"))
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "up"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "env.db")); err != nil {
		t.Errorf("ABSENDER_DATABASE_URL was not used: %v", err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"migrate", "status"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied") || strings.Contains(out.String(), "pending") {
		t.Errorf("status after up: %q", out.String())
	}
}

func TestPostgresNeedsSecretKey(t *testing.T) {
	url := dbtest.NewPostgresDatabase(t)
	t.Setenv("ABSENDER_SECRET_KEY", "")
	os.Unsetenv("ABSENDER_SECRET_KEY")
	err := run(t.Context(), []string{"serve", "--listen", freeAddr(t), "--database-url", url}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "ABSENDER_SECRET_KEY is required with PostgreSQL") {
		t.Errorf("got %v, want the missing key named", err)
	}
}

// The commands that read history: seed demo, events export (JSON lines
// without secrets), history (JSON as of a time), projections rebuild.
func TestHistoryCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "up", "--database-url", db}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"seed", "demo", "--database-url", db}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var tenant string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "tenant" {
			tenant = f[2]
		}
	}
	if tenant == "" {
		t.Fatalf("seed demo printed no tenant: %s", out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"events", "export", "--database-url", db}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	events := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(events) < 8 || !strings.Contains(events[0], `"type":"SystemServerConfigured"`) {
		t.Fatalf("export: %d lines, first %q", len(events), events[0])
	}
	if strings.Contains(out.String(), "change-me") || strings.Contains(out.String(), `"password"`) || strings.Contains(out.String(), `"secretHash"`) {
		t.Fatal("the export contains a secret")
	}
	out.Reset()
	if err := run(t.Context(), []string{"events", "export", "--database-url", db, "--since", "3", "--until", "4"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 1 {
		t.Errorf("export --since 3 --until 4: got %d lines, want 1 (position 4)", got)
	}
	out.Reset()
	if err := run(t.Context(), []string{"history", "--database-url", db, "--tenant", tenant}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var report struct {
		Name  string
		Users []struct {
			LoginName     string
			SenderOptions []struct{ Address, Source string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("history is not JSON: %v\n%s", err, out.String())
	}
	if report.Name != "celanio GmbH" || len(report.Users) != 1 || len(report.Users[0].SenderOptions) != 2 ||
		report.Users[0].SenderOptions[1].Source != "USER" {
		t.Errorf("history: got %+v, want celanio GmbH with Mustermann's two options (R15 PREFER_USER)", report)
	}
	out.Reset()
	if err := run(t.Context(), []string{"history", "--database-url", db, "--tenant", tenant, "--at", "2000-01-01T00:00:00Z"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"exists": false`) {
		t.Errorf("history before anything existed: %s", out.String())
	}
	if err := run(t.Context(), []string{"projections", "rebuild", "--database-url", db}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
}
