package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/absender/absender/domain"
)

// The HTTP layer's bounds (R34): what one request may cost before any
// work is done. README "Limits" names them.
const (
	// MaxBodyBytes bounds a request body: a 25 MiB message in base64
	// plus room. Above it the answer is 413.
	MaxBodyBytes = 40 << 20
	// MaxQueryBytes bounds the query text.
	MaxQueryBytes = 64 << 10
	// MaxSelections bounds the field selections of a document (aliases
	// and repeats counted, fragment spreads counted as expanded); checked
	// before validation, whose cost grows faster than the document.
	MaxSelections = 2000
	// MaxDepth bounds how deeply selections nest (the introspection query
	// of GraphiQL nests 15 deep).
	MaxDepth = 20
	// MaxComplexity bounds the estimated cost of an operation (see cost).
	MaxComplexity = 50_000
	// MaxMutations bounds the mutation fields of one request.
	MaxMutations = 10
	// MaxResultFields bounds the fields one answer resolves. The
	// complexity bound estimates a list without first at listCost
	// items; this bound holds whatever the lists really hold (a page of
	// 500 nodes of 20 scalars is about 11,000).
	MaxResultFields = 200_000

	// listCost is what a list field without first is assumed to return.
	listCost = 20
	// defaultPage is a connection's page without first (SPEC §4: 50).
	defaultPage = 50
	// maxPage is the largest page a connection serves (SPEC §4).
	maxPage = 500
	// atCost is what an at: argument adds: a replay of the history.
	atCost = 50
)

// The names refusals give in extensions.field.
const (
	limitBody       = "body"
	limitQuery      = "query"
	limitSelections = "selections"
	limitDepth      = "depth"
	limitComplexity = "complexity"
	limitMutations  = "mutations"
	limitResults    = "results"
)

// limitError is the INVALID_INPUT a refused request answers with; it names
// the limit in extensions.field.
func limitError(field string, limit int, reason string) *gqlerror.Error {
	return &gqlerror.Error{Message: reason, Extensions: map[string]any{
		"code": string(domain.CodeInvalidInput), "field": field, "limit": limit}}
}

// writeError answers a request that never reaches GraphQL with one error,
// naming nothing of the request.
func writeError(w http.ResponseWriter, status int, code domain.Code, field, message string) {
	ext := map[string]any{"code": string(code)}
	if field != "" {
		ext["field"] = field
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": message, "extensions": ext}}})
}

// limitBodySize answers 413 to a body above MaxBodyBytes without reading
// it when its length is declared, and makes every read of a longer body
// (chunked) fail past the bound.
func limitBodySize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestEntityTooLarge, domain.CodeInvalidInput, limitBody,
				fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken answers UNAUTHENTICATED before the request is read or its
// query parsed (R34), so introspection and field suggestions need a valid
// token too. The WebSocket checks the token of its connection_init
// instead; OPTIONS carries no operation.
func requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions && r.Header.Get("Upgrade") == "" && !PrincipalFrom(r.Context()).Authenticated() {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeError(w, http.StatusUnauthorized, domain.CodeUnauthenticated, "", "a valid token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// postJSON is gqlgen's POST transport with a bounded body and short
// answers to a body that is too large (413) or not a GraphQL request: the
// stock transport echoes the whole body and names Go types.
type postJSON struct{ transport.POST }

func (h postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestEntityTooLarge, domain.CodeInvalidInput, limitBody,
			fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes))
		return
	case errors.Is(err, errBodyNotUTF8):
		writeError(w, http.StatusBadRequest, domain.CodeInvalidInput, limitBody, errBodyNotUTF8.Error())
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, domain.CodeInvalidInput, limitBody, "the request body could not be read")
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		writeError(w, http.StatusBadRequest, domain.CodeInvalidInput, limitBody,
			"the request body is not a GraphQL request: a JSON object with query, variables, operationName")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.POST.Do(w, r, exec)
}

// limits is the gqlgen extension that refuses a costly operation before
// it runs: the query's length and selections before it is parsed and
// validated, its complexity, depth and mutations before it executes.
type limits struct {
	// validated are the documents gqlgen already parsed and validated
	// (they passed these checks before).
	validated graphql.Cache[*ast.QueryDocument]
}

var (
	_ graphql.OperationParameterMutator = limits{}
	_ graphql.OperationContextMutator   = limits{}
)

func (limits) ExtensionName() string                   { return "Limits" }
func (limits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters bounds the query text and, for a query not
// validated before, counts its selections on a parse only.
func (l limits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if len(p.Query) > MaxQueryBytes {
		return limitError(limitQuery, MaxQueryBytes, fmt.Sprintf("the query exceeds %d bytes", MaxQueryBytes))
	}
	if l.validated != nil {
		if _, ok := l.validated.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil // gqlgen answers the parse error
	}
	c := counter{frags: map[string]*ast.FragmentDefinition{}, counted: map[string]selections{}, visiting: map[string]bool{}}
	for _, f := range doc.Fragments {
		c.frags[f.Name] = f
	}
	var total selections
	for _, op := range doc.Operations {
		total = total.plus(c.set(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		total = total.plus(c.fragment(f.Name)) // unused fragments are validated too
	}
	switch {
	case total.n > MaxSelections:
		return limitError(limitSelections, MaxSelections, fmt.Sprintf("the query has more than %d field selections", MaxSelections))
	case total.depth > MaxDepth:
		return limitError(limitDepth, MaxDepth, fmt.Sprintf("the query nests deeper than %d", MaxDepth))
	}
	return nil
}

// counter counts the field selections of a parsed, unvalidated document,
// fragment spreads as expanded. Each fragment is counted once and its
// count reused wherever it is spread, so the work is linear in the
// document's size however the fragments multiply (R34) — also when they
// spread nothing but other fragments and never reach a field.
type counter struct {
	frags    map[string]*ast.FragmentDefinition
	counted  map[string]selections
	visiting map[string]bool // the fragments being counted (no cycles)
}

// selections are the fields of a selection set, counted as expanded (at
// most MaxSelections+1), and how deeply they nest.
type selections struct{ n, depth int }

func (s selections) plus(t selections) selections {
	return selections{n: min(s.n+t.n, MaxSelections+1), depth: max(s.depth, t.depth)}
}

func (c *counter) set(set ast.SelectionSet) selections {
	var total selections
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			sub := c.set(s.SelectionSet)
			total = total.plus(selections{n: 1 + sub.n, depth: 1 + sub.depth})
		case *ast.InlineFragment:
			total = total.plus(c.set(s.SelectionSet))
		case *ast.FragmentSpread:
			total = total.plus(c.fragment(s.Name))
		}
	}
	return total
}

func (c *counter) fragment(name string) selections {
	if s, ok := c.counted[name]; ok {
		return s
	}
	f := c.frags[name]
	if f == nil || c.visiting[name] {
		return selections{} // validation refuses it
	}
	c.visiting[name] = true
	s := c.set(f.SelectionSet)
	delete(c.visiting, name)
	c.counted[name] = s
	return s
}

// MutateOperationContext refuses an operation whose complexity is too
// high and a request of more than MaxMutations mutations.
func (limits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation.Operation == ast.Mutation {
		if n := len(graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Mutation"})); n > MaxMutations {
			return limitError(limitMutations, MaxMutations, fmt.Sprintf("a request may run at most %d mutations", MaxMutations))
		}
	}
	if c := cost(rc.Operation.SelectionSet, rc.Variables, false); c > MaxComplexity {
		return limitError(limitComplexity, MaxComplexity, fmt.Sprintf("the operation's complexity exceeds %d", MaxComplexity))
	}
	return nil
}

// cost estimates what a validated selection set costs: every field 1 plus
// its selections times how many objects it returns — a connection's first
// (default 50, at most 500; its edges are that page), a list's listCost —
// and atCost for an at: argument (a replay). Introspection is cheap, and
// gqlparser bounds how deeply it nests. inPage: set is a connection's
// page, whose lists the connection's first already counts.
func cost(set ast.SelectionSet, vars map[string]any, inPage bool) int {
	total := 0
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			total += fieldCost(s, vars, inPage)
		case *ast.InlineFragment:
			total += cost(s.SelectionSet, vars, inPage)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total += cost(s.Definition.SelectionSet, vars, inPage)
			}
		}
		total = min(total, MaxComplexity+1) // enough to refuse; no overflow
	}
	return total
}

func fieldCost(f *ast.Field, vars map[string]any, inPage bool) int {
	def := f.Definition
	if def == nil || strings.HasPrefix(f.Name, "__") || strings.HasPrefix(f.ObjectDefinition.Name, "__") {
		return 1 + cost(f.SelectionSet, vars, false)
	}
	args := f.ArgumentMap(vars)
	per, page := 1, false
	switch {
	case def.Arguments.ForName("first") != nil:
		per, page = defaultPage, true
		if n, ok := intArg(args["first"]); ok {
			per = max(0, min(n, maxPage))
		}
	case def.Type.Elem != nil && !inPage:
		per = listCost
	}
	c := 1 + per*cost(f.SelectionSet, vars, page)
	if def.Arguments.ForName("at") != nil && args["at"] != nil {
		c += atCost
	}
	return min(c, MaxComplexity+1)
}

// intArg reads an Int argument as a literal (int64) or a variable
// (json.Number, or a float from a client that sent one).
func intArg(v any) (int, bool) {
	switch v := v.(type) {
	case int64:
		return int(v), true
	case int:
		return v, true
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		return int(n), err == nil
	case float64:
		return int(v), true
	}
	return 0, false
}

// resultLimit counts the fields an answer resolves (one subscription
// event is one answer) and stops past MaxResultFields: every further
// field fails at once, so no list is read or walked any more, and the
// answer is the one limit error instead of a partial result.
type resultLimit struct{}

var _ graphql.ResponseInterceptor = resultLimit{}

type resultFieldsKey struct{}

// tooManyResults is what every field past the bound answers; a GraphQL
// error, so the presenter neither logs it nor calls it INTERNAL (and a
// new one each time: the presenter rewrites it, maybe concurrently).
func tooManyResults() *gqlerror.Error {
	return limitError(limitResults, MaxResultFields,
		fmt.Sprintf("the answer exceeds %d fields: ask for fewer (use first, or fewer nested lists)", MaxResultFields))
}

func (resultLimit) ExtensionName() string                   { return "ResultLimit" }
func (resultLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (resultLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	n := new(atomic.Int64)
	resp := next(context.WithValue(ctx, resultFieldsKey{}, n))
	if resp != nil && n.Load() > MaxResultFields {
		return &graphql.Response{Errors: gqlerror.List{tooManyResults()}}
	}
	return resp
}

// countResult counts one field of the answer; past the bound it is the
// limit's error. It runs in fieldChecks.
func countResult(ctx context.Context) error {
	if n, ok := ctx.Value(resultFieldsKey{}).(*atomic.Int64); ok && n.Add(1) > MaxResultFields {
		return tooManyResults()
	}
	return nil
}
