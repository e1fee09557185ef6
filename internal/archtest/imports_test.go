package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/absender/absender"

// allowedImports is the layering of the module (STYLE §1), bottom to top: a
// package's non-test files may import only the packages in its row (paths
// relative to the module). "domain/..." stands for domain and every package
// under it. A package without a row fails the test, so a new package and a
// new arrow are both a conscious edit of this table. Test files are not
// checked: they may import test helpers and packages above them (e2e).
var allowedImports = map[string][]string{
	// Layer 0 — the domain: aggregates, events, rules. Standard library and
	// golang.org/x only (domain/imports_test.go), and never a layer above.
	// The root package imports none of its subpackages (they import it).
	"domain":     {},
	"domain/...": {"domain/..."},

	// Layer 1 — infrastructure without business knowledge.
	"telemetry":  {},
	"keyring":    {},
	"srs":        {},
	"database":   {},
	"migrations": {"database"},

	// Layer 2 — the event store and what carries events out of it.
	"eventstore": {"database", "telemetry"},
	"envelope":   {"eventstore"},
	"fanout":     {"envelope", "eventstore"},

	// Layer 3 — adapters and models over the domain.
	"authz":      {"domain/..."},
	"transport":  {"domain/...", "telemetry"},
	"history":    {"domain/...", "eventstore"},
	"tokenusage": {},
	"content":    {"domain/...", "keyring"},
	"projections": {
		"database", "domain/...", "envelope", "eventstore", "telemetry", "tokenusage",
	},
	// The decorator of every command (span, metric, log line), which both
	// the command side and the saga's steps run through: it knows the
	// domain's error codes (the outcomes) and telemetry's instruments.
	"observe": {"domain/...", "telemetry"},

	// Layer 4 — the command side.
	"app": {"content", "domain/...", "eventstore", "keyring", "observe", "projections", "telemetry"},

	// Layer 5 — users of the command side: the saga (side effects, through
	// its own port interface, which app.SagaPort implements), the seed,
	// the GraphQL API.
	"saga":        {"content", "database", "domain/...", "eventstore", "observe", "telemetry", "transport"},
	"seed":        {"app", "domain/...", "projections"},
	"graph/model": {"domain/..."},
	"graph": {
		"app", "authz", "domain/...", "envelope", "eventstore", "graph/model",
		"history", "observe", "projections", "telemetry", "transport",
	},

	// Layer 6 — composition: the server wires the layers, the binary wires the
	// server and the CLI commands.
	"server": {
		"app", "content", "database", "domain/...", "eventstore", "fanout", "graph", "history", "keyring",
		"migrations", "projections", "saga", "telemetry", "transport", "web",
	},
	"cmd/absender": {
		"app", "content", "database", "domain/...", "envelope", "eventstore", "fanout", "graph",
		"keyring", "migrations", "projections", "saga", "seed", "server", "telemetry",
		"transport",
	},

	// Stand-alone programs and test-only packages with no module imports.
	"examples/consumer": {},
	"e2e":               {},
	"internal/archtest": {},
	// The admin console's files (built by Node into web/dist/app) and their
	// handler; the server mounts it at / (SPEC §6).
	"web": {},

	// Test helpers: imported by test files only, never by a package's code.
	"internal/dbtest":       {"database", "migrations"},
	"server/servertest":     {"app", "database", "domain/...", "keyring", "server"},
	"transport/smtptest":    {},
	"observe/observetest":   {},
	"internal/validatetest": {},
	"internal/cpucost":      {"database"},
}

// TestImportsFollowTheLayers fails on an import between the module's packages
// that the table does not list, and on a package without a row.
func TestImportsFollowTheLayers(t *testing.T) {
	problems, err := checkImports("../..", module, allowedImports)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestImportCheckCatchesAPlantedViolation runs the checker on a fixture with
// an upward arrow (low imports high), a package without a row, and a test file
// importing freely, and expects exactly the first two.
func TestImportCheckCatchesAPlantedViolation(t *testing.T) {
	const fixture = "example.com/fixture"
	table := map[string][]string{
		"low":   {},
		"high":  {"low"},
		"d/...": {"d/..."},
	}
	got, err := checkImports("testdata/fixture", fixture, table)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pkg low may not import high (not in the table)",
		"pkg orphan has no row in the table",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// checkImports parses the non-test Go files under root (skipping testdata and
// hidden directories) and reports every import of a package of the module
// that the table does not allow, sorted.
func checkImports(root, modulePath string, table map[string][]string) ([]string, error) {
	imports := map[string]map[string]bool{} // package → module packages it imports
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if p == modulePath {
				imports[pkg]["."] = true
			} else if rest, ok := strings.CutPrefix(p, modulePath+"/"); ok {
				imports[pkg][rest] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var problems []string
	for pkg, deps := range imports {
		row, ok := rowOf(pkg, table)
		if !ok {
			problems = append(problems, "pkg "+pkg+" has no row in the table")
			continue
		}
		for dep := range deps {
			if dep == pkg || !allows(row, dep) {
				problems = append(problems, "pkg "+pkg+" may not import "+dep+" (not in the table)")
			}
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// rowOf finds the row of pkg: its own, or that of a "prefix/..." pattern.
func rowOf(pkg string, table map[string][]string) ([]string, bool) {
	if row, ok := table[pkg]; ok {
		return row, true
	}
	for key, row := range table {
		if matches(key, pkg) {
			return row, true
		}
	}
	return nil, false
}

func allows(row []string, dep string) bool {
	return slices.ContainsFunc(row, func(allowed string) bool { return matches(allowed, dep) })
}

// matches reports whether pkg is pattern, or lies under it when pattern ends
// in "/...".
func matches(pattern, pkg string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
	}
	return pattern == pkg
}
