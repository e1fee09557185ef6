package graph

import (
	"io"
	"log/slog"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestPresentErrorCodes: a parse or validation error is the request's
// fault (INVALID_INPUT, field query), a limit names its own field, and an
// error gqlgen raises while executing ("must not be null") is ours:
// INTERNAL, with nothing of it in the answer.
func TestPresentErrorCodes(t *testing.T) {
	present := presentError(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name      string
		err       error
		code      string
		field     string
		wantInMsg bool
	}{
		{"parse error", &gqlerror.Error{Message: "Unexpected Name \"x\""}, "INVALID_INPUT", "query", true},
		{"variable of the wrong type", &gqlerror.Error{Message: "cannot use a list as String",
			Path: ast.Path{ast.PathName("variable"), ast.PathName("n")}}, "INVALID_INPUT", "n", true},
		{"part of a variable", &gqlerror.Error{Message: "cannot use null as String!",
			Path: ast.Path{ast.PathName("variable"), ast.PathName("i"), ast.PathName("to"), ast.PathIndex(1)}}, "INVALID_INPUT", "i.to[1]", true},
		{"limit during execution", &gqlerror.Error{Message: "too many fields", Path: ast.Path{ast.PathName("tenant")},
			Extensions: map[string]any{"code": "INVALID_INPUT", "field": limitResults, "limit": MaxResultFields}}, "INVALID_INPUT", limitResults, true},
		{"non-null violated while executing", &gqlerror.Error{Message: "the requested element is null which the schema does not allow",
			Path: ast.Path{ast.PathName("viewer"), ast.PathName("email")}}, "INTERNAL", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			original := tc.err.(*gqlerror.Error).Message // the presenter may change tc.err in place
			got := present(t.Context(), tc.err)
			if got.Extensions["code"] != tc.code {
				t.Fatalf("got code %v, want %s", got.Extensions["code"], tc.code)
			}
			if f, _ := got.Extensions["field"].(string); f != tc.field {
				t.Fatalf("got field %q, want %q", f, tc.field)
			}
			if in := got.Message == original; in != tc.wantInMsg {
				t.Fatalf("got message %q, want the original message kept: %v", got.Message, tc.wantInMsg)
			}
		})
	}
}
