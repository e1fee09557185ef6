//go:build console_e2e

// Package e2e runs the admin console's end-to-end tests (SPEC §6, issue
// 14): Playwright in Debian's headless Chromium against a real `absender
// serve` binary on a temporary SQLite database, with the project's
// loopback SMTP test server as the mail server. `make test` runs it
// (go test -tags console_e2e ./web/e2e/); it needs the console built
// (make console), Node.js with web/node_modules, and /usr/bin/chromium.
// Without them it skips, saying why; under CI=true that is a failure.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/absender/absender/transport/smtptest"
)

// chromium is Debian's browser; Playwright drives it (it never downloads
// one of its own).
const chromium = "/usr/bin/chromium"

func TestConsole(t *testing.T) {
	webDir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	need(t, chromium, "Debian's chromium (apt-get install chromium; .ci/run installs it)")
	need(t, filepath.Join(webDir, "node_modules", ".bin", "playwright"), "the console's npm packages (cd web && npm ci)")
	need(t, filepath.Join(webDir, "dist", "app", "index.html"), "the built console (make console)")

	// The binary, built with the console embedded.
	bin := filepath.Join(t.TempDir(), "absender")
	build := exec.Command("go", "build", "-o", bin, "./cmd/absender")
	build.Dir = filepath.Dir(webDir)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	smtp := smtptest.Start(t, smtptest.Config{})
	inbox := serveInbox(t, smtp)

	db := filepath.Join(t.TempDir(), "absender.db")
	listen := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	serve := exec.CommandContext(ctx, bin, "serve", "--database-url", db, "--listen", listen,
		"--allow-private-hosts", "--log-format", "text", "--log-level", "warn")
	serve.Env = cleanEnv()
	inGroup(serve)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	serve.Stdout, serve.Stderr = logFile, logFile
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("absender serve's log:\n%s", b)
		}
	})
	exited := make(chan struct{})
	go func() { _ = serve.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })
	base := "http://" + listen
	waitReady(t, base+"/readyz", exited)

	admin := issue(t, bin, db, "--system-admin", "e2e admin")
	auditor := issue(t, bin, db, "--auditor", "e2e auditor")

	// Playwright, its node and Chromium run in a process group of their own
	// that is killed as a whole when the test's deadline nears, so a hung
	// browser cannot outlive the test.
	pctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var stop context.CancelFunc
		pctx, stop = context.WithDeadline(pctx, d.Add(-30*time.Second))
		defer stop()
	}
	args := []string{"playwright", "test"}
	if g := os.Getenv("E2E_GREP"); g != "" {
		args = append(args, "--grep", g)
	}
	pw := exec.CommandContext(pctx, "npx", args...)
	inGroup(pw)
	pw.Dir = webDir
	pw.Env = append(os.Environ(),
		"ABSENDER_URL="+base,
		"ABSENDER_ADMIN_TOKEN="+admin,
		"ABSENDER_AUDITOR_TOKEN="+auditor,
		"ABSENDER_SMTP_HOST="+smtp.Host,
		fmt.Sprintf("ABSENDER_SMTP_PORT=%d", smtp.Port),
		"ABSENDER_SMTP_INBOX="+inbox,
		"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1",
	)
	out, err := pw.CombinedOutput()
	t.Logf("playwright:\n%s", out)
	if err != nil {
		t.Fatalf("playwright test: %v", err)
	}
}

// inGroup starts cmd in a process group of its own and, when its context
// ends, kills the whole group (a program and every child it started).
func inGroup(cmd *exec.Cmd) {
	// Pdeathsig: should the test binary itself die (a panic at -timeout), the
	// kernel kills the child too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
}

// need skips the test when a prerequisite is missing, and fails it under
// CI=true, where every suite must run.
func need(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	msg := fmt.Sprintf("console end-to-end tests skipped: %s is missing (%s)", path, what)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// serveInbox answers GET with the SMTP server's deliveries as JSON, so
// the browser tests can check what arrived: [{from, rcpts, data}].
func serveInbox(t *testing.T, smtp *smtptest.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type delivery struct {
		From  string   `json:"from"`
		Rcpts []string `json:"rcpts"`
		Data  string   `json:"data"`
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out []delivery
		for _, d := range smtp.Deliveries() {
			out = append(out, delivery{From: d.From, Rcpts: d.Rcpts, Data: string(d.Data)})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, url string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("absender serve exited before it was ready")
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within 60 s", url)
}

// issue prints a token with the CLI (it works at once on the running
// server, SPEC §4).
func issue(t *testing.T, bin, db, role, name string) string {
	t.Helper()
	cmd := exec.Command(bin, "token", "issue", role, "--name", name, "--database-url", db)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token issue %s: %v", role, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if f := strings.TrimSpace(sc.Text()); strings.HasPrefix(f, "abs_") {
			return f
		}
	}
	t.Fatalf("token issue %s printed no token: %q", role, out)
	return ""
}

// cleanEnv is the environment without ABSENDER_ settings, so a developer's
// own configuration cannot change the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ABSENDER_") {
			env = append(env, kv)
		}
	}
	return env
}
