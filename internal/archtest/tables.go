// Package archtest checks the architecture rules that a compiler does
// not: which package may name which table (STYLE §13, issue 12).
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Use is a table named in a string literal of a non-test Go file.
type Use struct {
	File    string // slash-separated, relative to the scanned root
	Line    int
	Table   string
	Package string // the file's directory, slash-separated, relative to the root
}

func (u Use) String() string { return u.File + ":" + strconv.Itoa(u.Line) + " names " + u.Table }

// sqlBefore is what must precede a table whose name is a plain word
// ("events"), which prose (log lines, metric names) uses too: a table
// there is one that SQL reads or writes.
const sqlBefore = `(?i:\b(?:FROM|JOIN|INTO|UPDATE|TABLE|EXISTS|TRUNCATE)\s+)`

func pattern(table string) *regexp.Regexp {
	if strings.Contains(table, "_") {
		// A distinctive name counts wherever it stands as a whole word
		// (so rm_messages_seq_idx is not rm_messages).
		return regexp.MustCompile(`\b` + regexp.QuoteMeta(table) + `\b`)
	}
	return regexp.MustCompile(sqlBefore + `(` + regexp.QuoteMeta(table) + `)\b`)
}

// Violations scans the non-test Go files under root (skipping testdata,
// hidden directories and the exempt directories with what is below them)
// and returns every use of a table of owners (table → the packages, as
// directories relative to root, that may name it) in a package that is
// not its owner, in file and line order.
func Violations(root string, owners map[string][]string, exempt ...string) ([]Use, error) {
	uses, err := TableUses(root, slices.Collect(maps.Keys(owners)), exempt...)
	if err != nil {
		return nil, err
	}
	var out []Use
	for _, u := range uses {
		if !slices.Contains(owners[u.Table], u.Package) {
			out = append(out, u)
		}
	}
	return out, nil
}

// TableUses returns every use of one of tables in a string literal of a
// non-test Go file under root (see Violations for what is skipped).
func TableUses(root string, tables []string, exempt ...string) ([]Use, error) {
	slices.Sort(tables)
	patterns := make([]*regexp.Regexp, len(tables))
	for i, t := range tables {
		patterns[i] = pattern(t)
	}
	fset := token.NewFileSet()
	var out []Use
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || slices.Contains(exempt, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			for i, re := range patterns {
				for _, m := range re.FindAllStringSubmatchIndex(lit.Value, -1) {
					at := m[0]
					if len(m) > 2 {
						at = m[2] // the table, not the keyword before it
					}
					line := fset.Position(lit.Pos()).Line + strings.Count(lit.Value[:at], "\n")
					out = append(out, Use{File: rel, Line: line, Table: tables[i], Package: path.Dir(rel)})
				}
			}
			return true
		})
		return nil
	})
	slices.SortFunc(out, func(a, b Use) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Table, b.Table)
	})
	return out, err
}
