package archtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/absender/absender/internal/archtest"
)

// owners says which package alone names each table in SQL (STYLE §13,
// issue 12 item 1); packages are directories relative to the module root.
// The read models' tables belong to the projections package as a whole:
// its Reader (reader.go, pages.go) reads them for every model, and
// rebuild.go lists them.
var owners = map[string][]string{
	"events":           {"eventstore"},
	"events_offsets":   {"eventstore"},
	"parked_events":    {"eventstore"},
	"message_contents": {"content"},
	"api_token_usage":  {"tokenusage"},

	"rm_system":           {"projections"},
	"rm_tenants":          {"projections"},
	"rm_users":            {"projections"},
	"rm_groups":           {"projections"},
	"rm_group_members":    {"projections"},
	"rm_mailboxes":        {"projections"},
	"rm_mailbox_grants":   {"projections"},
	"rm_access":           {"projections"},
	"rm_tokens":           {"projections"},
	"rm_audit":            {"projections"},
	"rm_audit_fields":     {"projections"},
	"rm_messages":         {"projections"},
	"rm_message_attempts": {"projections"},

	// The send saga's schedule and its workers' leases (issue 12 item 3).
	"saga_schedule": {"saga"},
	"saga_leases":   {"saga"},
}

// exempt directories: the migrations create every table.
var exempt = []string{"migrations"}

// allowed are the known violations not fixed yet, "file table" → why.
// This list may only shrink: an entry that no longer occurs fails the
// test too, so a fix removes its entry.
var allowed = map[string]string{}

// TestTablesHaveOneOwner: no package but a table's owner names it in a
// string literal (issue 12: every table has one owning package).
func TestTablesHaveOneOwner(t *testing.T) {
	got, err := archtest.Violations("../..", owners, exempt...)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range got {
		key := u.File + " " + u.Table
		seen[key] = true
		if _, ok := allowed[key]; !ok {
			t.Errorf("%s: only %s may name %s; call its API", u, strings.Join(owners[u.Table], ", "), u.Table)
		}
	}
	for key := range allowed {
		if !seen[key] {
			t.Errorf("allowed %q no longer occurs: remove it from the allow-list", key)
		}
	}
}

// TestEveryTableHasAnOwner: a table a migration creates is in owners, so
// a new table cannot escape the check.
func TestEveryTableHasAnOwner(t *testing.T) {
	for _, dir := range []string{"../../migrations/common", "../../migrations/sqlite", "../../migrations/postgres"} {
		for _, table := range createdTables(t, dir) {
			if _, ok := owners[table]; !ok {
				t.Errorf("%s creates table %s, which has no owner in owners", dir, table)
			}
		}
	}
}

// TestCheckerCatchesAPlantedViolation proves the checker on a fixture
// (testdata/tables): a package other than the owner naming the table in
// SQL or as a bare literal is reported at its line; comments, prose,
// longer names, tests and migrations are not.
func TestCheckerCatchesAPlantedViolation(t *testing.T) {
	got, err := archtest.Violations("testdata/tables", map[string][]string{
		"rm_things": {"owner"},
		"events":    {"owner"},
	}, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"intruder/intruder.go:13 names rm_things",
		"intruder/intruder.go:14 names events",
		"intruder/intruder.go:16 names rm_things",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("violations:\ngot  %v\nwant %v", got, want)
	}
}
