package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/seed"
)

// eachDatabase runs fn on a database URL that exists nowhere yet: a SQLite
// path in an empty directory and, when configured, an empty PostgreSQL
// database of its own (with ABSENDER_SECRET_KEY set, as PostgreSQL needs).
func eachDatabase(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "absender.db")) })
	t.Run("postgres", func(t *testing.T) {
		url := dbtest.NewPostgresDatabase(t)
		spec, err := keyring.GenerateSpec(nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("ABSENDER_SECRET_KEY", spec)
		fn(t, url)
	})
}

// cli runs one command line and returns its standard output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), args, &out, &bytes.Buffer{})
	return out.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cli(t, args...)
	if err != nil {
		t.Fatalf("absender %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// The commands that must not create a database (SPEC §5: only serve and
// migrate up do), with the arguments that would otherwise run them.
var nonCreating = [][]string{
	{"token", "issue", "--system-admin", "--name", "ops"},
	{"history", "--tenant", "t1"},
	{"events", "export"},
	{"projections", "rebuild"},
	{"projections", "retry-parked"},
	{"seed", "demo"},
	{"seed", "benchmark", "--users", "1"},
	{"migrate", "status"},
}

// SPEC §5: every command but serve and migrate up, run in an empty
// directory, refuses with an error naming the database and how to create
// it (exit code 1, not a usage error), and leaves the directory empty — no
// absender.db, no key file.
func TestCommandsInAnEmptyDirectoryCreateNothing(t *testing.T) {
	for _, args := range nonCreating {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			_, err := cli(t, args...)
			var usage usageError
			if err == nil || errors.As(err, &usage) || errors.Is(err, errHelpShown) {
				t.Fatalf("got %v, want a runtime error (exit code 1)", err)
			}
			want := "database ./absender.db does not exist; start the server once (absender serve) or run: absender migrate up"
			if err.Error() != want {
				t.Errorf("got %q, want %q", err, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the command left %v behind", entries)
			}
		})
	}
}

// SPEC §5 on PostgreSQL: a database the server does not have, and one
// without Absender's schema (migrations never applied), are refused by
// name, and the empty one stays without a table.
func TestCommandsRefuseAMissingOrEmptyPostgresDatabase(t *testing.T) {
	empty := dbtest.NewPostgresDatabase(t)
	missing := empty[:strings.LastIndex(empty, "/")] + "/absender_test_missing_db"
	spec, _ := keyring.GenerateSpec(nil)
	t.Setenv("ABSENDER_SECRET_KEY", spec)
	for _, args := range nonCreating {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := cli(t, append(args, "--database-url", missing)...)
			if err == nil || !strings.Contains(err.Error(), "absender_test_missing_db does not exist; create it") ||
				!strings.Contains(err.Error(), "absender migrate up") {
				t.Errorf("missing database: got %v, want it named with how to create it", err)
			}
			_, err = cli(t, append(args, "--database-url", empty)...)
			if err == nil || !strings.Contains(err.Error(), "has no schema") || !strings.Contains(err.Error(), "absender migrate up") {
				t.Errorf("empty database: got %v, want \"has no schema\" with how to create it", err)
			}
		})
	}
	// Nothing was created in the empty database: migrate status still
	// finds no schema, and migrate up applies every migration.
	out := mustCLI(t, "migrate", "up", "--database-url", empty)
	if strings.Contains(out, "up to date") || !strings.Contains(out, "applied") {
		t.Errorf("migrate up after the refused commands: %q, want every migration applied", out)
	}
}

// A SQLite path that cannot be a database is named in plain words (not
// SQLite's "out of memory (14)"), by the creating commands too.
func TestBadSQLitePathsSaySo(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, path, want string
	}{
		{"a directory", dir, "is a directory, not a SQLite file"},
		{"under a missing directory", filepath.Join(dir, "missing", "a.db"), "the directory " + filepath.Join(dir, "missing") + " does not exist"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct{ name, path, want string }{"in a directory that is not writable", filepath.Join(ro, "a.db"), "is not writable"})
	}
	for _, tc := range cases {
		for _, args := range [][]string{{"migrate", "up"}, {"token", "issue", "--auditor", "--name", "x"}} {
			t.Run(tc.name+" "+args[0], func(t *testing.T) {
				_, err := cli(t, append(args, "--database-url", tc.path)...)
				if err == nil || strings.Contains(err.Error(), "out of memory") {
					t.Fatalf("got %v, want %q", err, tc.want)
				}
				if args[0] == "migrate" && !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want %q", err, tc.want)
				}
			})
		}
	}
}

// SPEC §5: the arguments of a command have no environment variable, so
// stray ABSENDER_NAME, ABSENDER_SINCE, ABSENDER_TENANT … change nothing;
// the settings (here ABSENDER_DATABASE_URL) still read theirs.
func TestStrayVariablesDoNotChangeArguments(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	mustCLI(t, "migrate", "up", "--database-url", db)
	mustCLI(t, "seed", "demo", "--database-url", db)
	all := mustCLI(t, "events", "export", "--database-url", db)

	t.Setenv("ABSENDER_DATABASE_URL", db)
	for k, v := range map[string]string{
		"ABSENDER_NAME": "from the environment", "ABSENDER_SYSTEM_ADMIN": "true", "ABSENDER_AUDITOR": "true",
		"ABSENDER_SINCE": "not a position", "ABSENDER_UNTIL": "1", "ABSENDER_TENANT": "no-such-tenant",
		"ABSENDER_FOLLOW": "true", "ABSENDER_AT": "not a time", "ABSENDER_USERS": "-1",
	} {
		t.Setenv(k, v)
	}
	if _, err := cli(t, "token", "issue", "--mail-server"); err == nil || err.Error() != "token issue: --name is required" {
		t.Errorf("token issue without --name: got %v, want --name required", err)
	}
	if _, err := cli(t, "history"); err == nil || err.Error() != "history: --tenant is required" {
		t.Errorf("history without --tenant: got %v, want --tenant required", err)
	}
	// Without --since, --until, --tenant and --follow: the whole log, and
	// it returns (ABSENDER_FOLLOW would wait for ever).
	if got := mustCLI(t, "events", "export"); got != all {
		t.Errorf("events export with stray variables: %d bytes, want the whole log (%d bytes)", len(got), len(all))
	}
	if _, err := cli(t, "--help"); err != nil {
		t.Fatal(err)
	}
	// --help says which flags read a variable.
	var help bytes.Buffer
	fs := newFlagSet("events", "")
	fs.out = &help
	(&dbConfig{}).register(fs)
	fs.String("tenant", "", "")
	_ = fs.parse([]string{"--help"})
	if !strings.Contains(help.String(), "--database-url  [ABSENDER_DATABASE_URL]") || strings.Contains(help.String(), "ABSENDER_TENANT") {
		t.Errorf("help: %s", help.String())
	}
}

// SPEC §5: absender --version and -v print what absender version does.
func TestVersionFlags(t *testing.T) {
	want := mustCLI(t, "version")
	if want != "absender "+version+"\n" {
		t.Fatalf("version: %q", want)
	}
	for _, flag := range []string{"--version", "-v"} {
		if got := mustCLI(t, flag); got != want {
			t.Errorf("%s: got %q, want %q", flag, got, want)
		}
	}
}

// demoIDs reads the ids seed demo printed, by kind ("tenant", "mailbox",
// "user"), and whether each was created.
func demoIDs(t *testing.T, out string) map[string][2]string {
	t.Helper()
	ids := map[string][2]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && (f[0] == "tenant" || f[0] == "mailbox" || f[0] == "user") {
			ids[f[0]] = [2]string{f[2], f[1]}
		}
	}
	if len(ids) != 3 || !strings.Contains(out, "\nSYSTEM_TOKEN=abs_") || !strings.Contains(out, "\nUSER_TOKEN=abs_") {
		t.Fatalf("seed demo printed:\n%s", out)
	}
	return ids
}

// SPEC §5: seed demo three times in a row succeeds each time, creates the
// tenant, mailbox and user once (one TenantCreated, the same ids, "found"
// after the first run) and issues new tokens each time.
func TestSeedDemoThreeTimes(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		mustCLI(t, "migrate", "up", "--database-url", url)
		var first map[string][2]string
		tokens := map[string]bool{}
		for i := range 3 {
			out := mustCLI(t, "seed", "demo", "--database-url", url)
			ids := demoIDs(t, out)
			for _, line := range strings.Split(out, "\n") {
				if strings.HasSuffix(strings.SplitN(line, "=", 2)[0], "_TOKEN") {
					if tokens[line] {
						t.Errorf("run %d printed a token again: %s", i+1, line)
					}
					tokens[line] = true
				}
			}
			if i == 0 {
				first = ids
				for k, v := range ids {
					if v[1] != "created" {
						t.Errorf("first run: %s %s, want created", k, v[1])
					}
				}
				continue
			}
			for k, v := range ids {
				if v != [2]string{first[k][0], "found"} {
					t.Errorf("run %d: %s %v, want %s found", i+1, k, v, first[k][0])
				}
			}
			if !strings.Contains(out, "system server  found") {
				t.Errorf("run %d did not leave the system server:\n%s", i+1, out)
			}
		}
		log := mustCLI(t, "events", "export", "--database-url", url)
		for typ, want := range map[string]int{"TenantCreated": 1, "MailboxAdded": 1, "UserCreated": 1, "SystemServerConfigured": 1} {
			if got := strings.Count(log, `"type":"`+typ+`"`); got != want {
				t.Errorf("%s: %d events, want %d", typ, got, want)
			}
		}
		if strings.Contains(log, "celanio.com") {
			t.Error("the demo uses a real domain (celanio.com)")
		}
	})
}

// SPEC §5: a system server an administrator configured — before the first
// seed demo or between two — stays exactly as it was.
func TestSeedDemoLeavesTheAdministratorsSystemServer(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		mustCLI(t, "migrate", "up", "--database-url", url)
		type state struct {
			settings domain.ServerSettings
			events   int
		}
		// configure sets the system server as an administrator would
		// (host "": only reads) and returns it with the system stream's
		// length.
		configure := func(host string) state {
			t.Helper()
			srv, closeDB, err := dbConfig{URL: url}.server(t.Context(), true)
			if err != nil {
				t.Fatal(err)
			}
			defer closeDB()
			ctx := seed.AsSystem(t.Context())
			if host != "" {
				port := 2525
				if _, err := srv.App.Commands.System.ConfigureServer(ctx, app.ServerSettingsInput{Host: &host, Port: &port, Encryption: "NONE",
					Auth: "NONE", SenderAddress: "it@admin.example.com"}); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := srv.Store.Load(ctx, "system")
			if err != nil {
				t.Fatal(err)
			}
			sys, err := srv.App.Aggregates.System(ctx)
			if err != nil {
				t.Fatal(err)
			}
			settings, _ := sys.Settings()
			return state{settings, len(recs)}
		}
		before := configure("mail.admin.invalid")
		mustCLI(t, "seed", "demo", "--database-url", url)
		if after := configure(""); !reflect.DeepEqual(after, before) {
			t.Errorf("after seed demo: %+v, want %+v", after, before)
		}
		changed := configure("relay.admin.invalid")
		mustCLI(t, "seed", "demo", "--database-url", url)
		if after := configure(""); !reflect.DeepEqual(after, changed) {
			t.Errorf("after a second seed demo: %+v, want %+v", after, changed)
		}
	})
}

// history and events export exit non-zero for a tenant id that was never
// created instead of printing an empty report or nothing; a time before
// the tenant existed is an answer ("exists": false), not an error.
func TestUnknownTenantIsAnError(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	mustCLI(t, "migrate", "up", "--database-url", db)
	tenant := demoIDs(t, mustCLI(t, "seed", "demo", "--database-url", db))["tenant"][0]
	for _, args := range [][]string{{"history", "--tenant", "no-such-tenant"}, {"events", "export", "--tenant", "no-such-tenant"}} {
		_, err := cli(t, append(args, "--database-url", db)...)
		var usage usageError
		if err == nil || errors.As(err, &usage) || !strings.Contains(err.Error(), `no tenant "no-such-tenant"`) {
			t.Errorf("%s: got %v, want the unknown tenant named (exit code 1)", args[0], err)
		}
	}
	if out := mustCLI(t, "history", "--tenant", tenant, "--at", "2000-01-01T00:00:00Z", "--database-url", db); !strings.Contains(out, `"exists": false`) {
		t.Errorf("history before the tenant existed: %s", out)
	}
	if out := mustCLI(t, "events", "export", "--tenant", tenant, "--database-url", db); !strings.Contains(out, `"type":"TenantCreated"`) {
		t.Errorf("events export --tenant: %s", out)
	}
}

// An empty absender.db (as earlier versions left behind) has no schema:
// refused like a missing one, and left as it was, 0 bytes, without -wal
// or -shm files beside it.
func TestAnEmptySQLiteFileIsRefusedUntouched(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("absender.db", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range nonCreating {
		_, err := cli(t, args...)
		want := "database ./absender.db has no schema (the file is empty); start the server once (absender serve) or run: absender migrate up"
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", strings.Join(args, " "), err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if fi, err := os.Stat("absender.db"); err != nil || fi.Size() != 0 || len(entries) != 1 {
		t.Errorf("after the refused commands: %v, %v", entries, err)
	}
}
