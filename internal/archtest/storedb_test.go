package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// storeDBStill lists the files outside eventstore that still reach the
// event store's database through Store.DB() while other branches of issue 12
// move them onto the eventstore's transaction API (AppendWith, InGroupTx,
// UnparkWith) and a *database.DB from the composition root. The list only
// shrinks: a file that no longer calls it must leave the list (the test
// says so), and once the list is empty Store.DB() is unexported, so the
// compiler keeps every package but eventstore away from the events tables.
var storeDBStill = []string{
	"saga/retry.go",
	"saga/saga.go",
}

// TestStoreDBStaysInEventstore fails when code outside eventstore takes the
// event store's database handle (a .DB() call or the method value .DB on
// anything: the module has no other DB method), except the files listed
// in storeDBStill, and when a listed file no longer does.
func TestStoreDBStaysInEventstore(t *testing.T) {
	uses, err := storeDBUses("../..", "eventstore")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, u := range uses {
		file, _, _ := strings.Cut(u, ":")
		files[file] = true
		if !slices.Contains(storeDBStill, file) {
			t.Errorf("%s: only eventstore may use Store.DB(); use AppendWith, InGroupTx or UnparkWith, or take the *database.DB from the composition root", u)
		}
	}
	for _, f := range storeDBStill {
		if !files[f] {
			t.Errorf("%s no longer uses Store.DB(): remove it from storeDBStill", f)
		}
	}
}

// TestStoreDBCheckCatchesAPlantedViolation runs the check on a fixture
// (testdata/storedb): a call and a method value outside the owner are
// reported; the owner's own call, a comment and a test file are not.
func TestStoreDBCheckCatchesAPlantedViolation(t *testing.T) {
	got, err := storeDBUses("testdata/storedb", "eventstore")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"intruder/intruder.go:7", "intruder/intruder.go:8"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// storeDBUses reports (file:line, relative to root) every selector .DB —
// called or taken as a method value — in the non-test Go files under root
// outside the owner package, sorted.
func storeDBUses(root, owner string) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (rel == owner || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		// A .DB selector may be a field (bun.DB's DB *sql.DB): only calls
		// without arguments count, the module's only DB method being
		// Store.DB, and method values taken from a store.
		calls := map[*ast.SelectorExpr]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" && len(c.Args) == 0 {
					calls[sel] = true
					out = append(out, fmt.Sprintf("%s:%d", rel, fset.Position(sel.Pos()).Line))
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			if a, ok := n.(*ast.AssignStmt); ok {
				for _, r := range a.Rhs {
					if sel, ok := r.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" && !calls[sel] && isStoreish(sel.X) {
						out = append(out, fmt.Sprintf("%s:%d", rel, fset.Position(sel.Pos()).Line))
					}
				}
			}
			return true
		})
		return nil
	})
	sort.Strings(out)
	return slices.Compact(out), err
}

// isStoreish says whether a method value's receiver is named like the event
// store (store, s.store, opt.Store): field accesses such as db.DB or
// conn.Write.DB are not. A heuristic, until Store.DB() is unexported and
// the compiler answers exactly.
func isStoreish(x ast.Expr) bool {
	switch e := x.(type) {
	case *ast.Ident:
		return strings.Contains(strings.ToLower(e.Name), "store")
	case *ast.SelectorExpr:
		return strings.Contains(strings.ToLower(e.Sel.Name), "store")
	}
	return false
}
