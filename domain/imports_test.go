package domain_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImportsOnlyStdlibAndX keeps the dependency direction (STYLE §1):
// domain imports the standard library, golang.org/x and itself only.
func TestDomainImportsOnlyStdlibAndX(t *testing.T) {
	const module = "github.com/absender/absender/domain"
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			switch {
			case p == module || strings.HasPrefix(p, module+"/"):
			case strings.HasPrefix(p, "golang.org/x/"):
			case !strings.Contains(first, "."):
			default:
				t.Errorf("%s imports %s: domain may import only the standard library and golang.org/x", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDomainRootImportsNoSubpackage prevents an import cycle.
func TestDomainRootImportsNoSubpackage(t *testing.T) {
	pkgs, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, path := range pkgs {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if strings.Contains(imp.Path.Value, "absender/absender/domain/") {
				t.Errorf("%s imports %s: the root package must not import its subpackages", path, imp.Path.Value)
			}
		}
	}
}
