package graph_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// apiGuide is the API guide for frontend developers.
const apiGuide = "../docs/api.md"

// guideBlock is one ```graphql block of the guide and the line it starts on.
type guideBlock struct {
	line int
	text string
}

// graphqlBlocks returns every ```graphql fenced block of the Markdown file.
func graphqlBlocks(t *testing.T, name string) []guideBlock {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	var blocks []guideBlock
	var cur *guideBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```graphql":
			cur = &guideBlock{line: n + 1}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: ```graphql block not closed", name, cur.line-1)
	}
	return blocks
}

// TestAPIGuideExamplesValidate: every ```graphql block of docs/api.md is an
// operation document that the served schema (graph/schema/*.graphqls)
// accepts, so the guide cannot drift from the contract (SPEC §4).
func TestAPIGuideExamplesValidate(t *testing.T) {
	files, err := filepath.Glob("schema/*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatalf("schema files: %v (found %d)", err, len(files))
	}
	var sources []*ast.Source
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: name, Input: string(b)})
	}
	schema, err := validator.LoadSchema(append([]*ast.Source{validator.Prelude}, sources...)...)
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	blocks := graphqlBlocks(t, apiGuide)
	if len(blocks) < 10 {
		t.Fatalf("got %d ```graphql blocks in %s, want the guide's examples (at least 10)", len(blocks), apiGuide)
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("line %d", b.line), func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: apiGuide, Input: b.text})
			if err != nil {
				t.Fatalf("%s:%d: does not parse: %v", apiGuide, b.line, err)
			}
			if len(doc.Operations) == 0 {
				t.Fatalf("%s:%d: no operation in the block", apiGuide, b.line)
			}
			for _, e := range validator.Validate(schema, doc) {
				line := b.line
				if len(e.Locations) > 0 {
					line += e.Locations[0].Line - 1
				}
				t.Errorf("%s:%d: %s", apiGuide, line, e.Message)
			}
		})
	}
}
