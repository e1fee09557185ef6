package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// firstSteps returns the README's blocks fenced as ```sh first-steps, in
// order, joined.
func firstSteps(t *testing.T, readme string) string {
	t.Helper()
	var b strings.Builder
	in, n := false, 0
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.TrimSpace(line) == "```sh first-steps":
			in = true
			n++
		case in && strings.TrimSpace(line) == "```":
			in = false
		case in:
			b.WriteString(line + "\n")
		}
	}
	if n < 2 || in {
		t.Fatalf("README.md: %d blocks fenced ```sh first-steps (want the steps and the stop), last one closed: %v", n, !in)
	}
	return b.String()
}

// copyTracked copies the files git tracks in repo (as they are in the
// working tree) to dst: a fresh clone, without build output or databases.
func copyTracked(t *testing.T, repo, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(repo, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// The README's first steps work when pasted whole into a shell on a fresh
// clone (issue 11): the blocks run as one bash -euo pipefail script in a
// copy of the tracked files, on a free port through ABSENDER_LISTEN (which
// the block reads, as serve does). It builds, waits for /readyz, seeds,
// queries, and its stop block stops the server.
func TestReadmeFirstSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the README's first steps")
	}
	for _, tool := range []string{"bash", "make", "curl", "git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script := firstSteps(t, string(readme))
	clone := t.TempDir()
	copyTracked(t, repo, clone)

	addr := freeAddr(t)
	// The environment of a user's shell: no ABSENDER_ variable but the
	// port; the go command's caches shared, so the build is quick.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ABSENDER_") && !strings.HasPrefix(kv, "GOFLAGS=") {
			env = append(env, kv)
		}
	}
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		if out, err := exec.Command("go", "env", v).Output(); err == nil {
			env = append(env, v+"="+strings.TrimSpace(string(out)))
		}
	}
	env = append(env, "ABSENDER_LISTEN="+addr)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = clone, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	pid := readPID(t, clone)
	t.Cleanup(func() {
		if pid > 0 && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // the block failed before its stop
		}
	})
	if runErr != nil {
		log, _ := os.ReadFile(filepath.Join(clone, "absender.log"))
		t.Fatalf("the first steps failed: %v\n--- output:\n%s\n--- absender.log:\n%s", runErr, out.String(), log)
	}
	for _, want := range []string{
		`"status":"ready"`,
		"tenant         created",
		"SYSTEM_TOKEN=abs_",
		"USER_TOKEN=abs_",
		`"loginName":"mustermann"`,
		`"address":"welcome@celanio.test"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, out.String())
		}
	}
	// seed-demo.txt holds a system administrator's token in plain text:
	// only its owner may read it, whatever the shell's umask (review).
	if fi, err := os.Stat(filepath.Join(clone, "seed-demo.txt")); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("seed-demo.txt: got mode %v, want 0600: it holds the tokens", fi.Mode().Perm())
	}
	// The stop block stopped the server: the process ends and the port
	// is free again.
	if pid <= 0 {
		t.Fatal("absender.pid holds no process id")
	}
	stopped := false
	for range 300 {
		if !alive(pid) {
			stopped = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !stopped {
		t.Fatalf("serve (pid %d) still runs after the stop block", pid)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the stop block", addr)
	}
}

func readPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "absender.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// alive tells whether the process runs: it exists and is not a zombie
// (a container's init may not reap the orphaned server).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
