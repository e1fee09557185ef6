package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/graph"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/seed"
	"github.com/absender/absender/server/servertest"
)

// The HTTP layer's bounds (R34): every refusal is small, says
// INVALID_INPUT (or UNAUTHENTICATED, or 413) naming the limit, and comes
// before the work it prevents.

// maxRefusal is how large a refusal's answer may be: nothing of the
// request comes back.
const maxRefusal = 400

// post sends body to /graphql of base and returns the status and the
// answer.
func post(t *testing.T, base, tok string, body io.Reader, length int64) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/graphql", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	if length > 0 {
		req.Header.Set("Expect", "100-continue") // as curl does for a large body
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// query is a GraphQL request body.
func query(q string) []byte {
	b, _ := json.Marshal(map[string]any{"query": q})
	return b
}

// refusal decodes a small GraphQL answer with one error and no data.
func refusal(t *testing.T, raw []byte) servertest.Response {
	t.Helper()
	if len(raw) > maxRefusal {
		t.Fatalf("answer of %d bytes (%.200s…), want at most %d", len(raw), raw, maxRefusal)
	}
	var r servertest.Response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer is not GraphQL: %s", raw)
	}
	if len(r.Errors) != 1 || (len(r.Data) > 0 && string(r.Data) != "null") {
		t.Fatalf("got %s, want one error and no data", raw)
	}
	return r
}

func repeat(s string, n int) string { return strings.TrimSpace(strings.Repeat(s+" ", n)) }

const introspectionQ = `query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }`

func TestLimitsR34Unauthenticated(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ name, q string }{
			// ~7 s of validation on the old main, growing quadratically.
			{"44 KB of __typename", "{ " + repeat("__typename", 4000) + " }"},
			{"introspection", introspectionQ},
			{"a misspelt field (no suggestion)", `{ viewr { id } }`},
			{"a parse error", `{ viewer { id `},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, raw := post(t, e.URL, "", bytes.NewReader(query(c.q)), -1)
				if r := refusal(t, raw); r.Code() != "UNAUTHENTICATED" {
					t.Fatalf("got %s, want UNAUTHENTICATED", raw)
				}
				if strings.Contains(string(raw), "__schema") || strings.Contains(strings.ToLower(string(raw)), "did you mean") {
					t.Fatalf("got %s, want nothing of the schema", raw)
				}
			})
		}
		t.Run("GET", func(t *testing.T) {
			resp, err := http.Get(e.URL + "/graphql?query=" + url.QueryEscape(introspectionQ))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if r := refusal(t, raw); r.Code() != "UNAUTHENTICATED" || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("got %d %s, want 401 UNAUTHENTICATED", resp.StatusCode, raw)
			}
		})
		t.Run("with a token, introspection works", func(t *testing.T) {
			var v struct {
				Schema struct{ Types []struct{ Name string } } `json:"__schema"`
			}
			e.must(t, e.Admin, introspectionQ, nil, &v)
			if len(v.Schema.Types) < 10 {
				t.Fatalf("got %d types, want the schema", len(v.Schema.Types))
			}
		})
	})
}

func TestLimitsR34QueryBounds(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tenantID := e.createTenant(t, e.uniq("Limits"))
		userID := e.user(t, tenantID, "Lim Its", "lim@example.com", "EMPLOYEE")
		var replays atomic.Int64
		e.Server.History.BeforeRead = func(context.Context) { replays.Add(1) }

		aliases := func(n int, f func(i int) string) string {
			var b strings.Builder
			b.WriteString("{ ")
			for i := range n {
				b.WriteString(f(i))
				b.WriteString(" ")
			}
			return b.String() + "}"
		}
		for _, c := range []struct{ name, q, field string }{
			{"44 KB of __typename: selections", "{ " + repeat("__typename", 4000) + " }", "selections"},
			// did not finish in 100 s on the old main
			{"40,000 fields: query length", "{ viewer { " + repeat("id", 40000) + " } }", "query"},
			{"fragments expanded: selections", "{ viewer { " + repeat("...F", 60) + " } } fragment F on User { " + repeat("id", 40) + " }", "selections"},
			{"21 levels: depth", "{ viewer { " + strings.Repeat("groups { members { edges { node { ", 5) + "id" + strings.Repeat(" } } } }", 5) + " } }", "depth"},
			// 4.9 s on the old main
			{"1,000 aliases of senderOptions(at:): complexity", "query($u: ID!, $at: Time) " + aliases(1000, func(i int) string {
				return fmt.Sprintf(`a%d: senderOptions(userId: $u, at: $at) { address }`, i)
			}), "complexity"},
			// ~2 min and 3.9 GB on a 2,000-user tenant on the old main
			{"nested groups and members: complexity", fmt.Sprintf(`{ tenant(id: %q) { groups { edges { node { members { edges { node { groups { members { edges { node { id } } } } } } } } } } } }`, tenantID), "complexity"},
		} {
			t.Run(c.name, func(t *testing.T) {
				body, _ := json.Marshal(map[string]any{"query": c.q, "variables": map[string]any{"u": userID, "at": "2026-01-01T00:00:00Z"}})
				_, raw := post(t, e.URL, e.Admin, bytes.NewReader(body), -1)
				r := refusal(t, raw)
				if r.Code() != "INVALID_INPUT" || r.Field() != c.field {
					t.Fatalf("got %s, want INVALID_INPUT field %s", raw, c.field)
				}
			})
		}
		if n := replays.Load(); n != 0 {
			t.Fatalf("got %d replays, want none: the refused query ran", n)
		}

		t.Run("a page of 500 audit entries passes", func(t *testing.T) {
			e.must(t, e.Admin, `{ auditLog(first: 500) { edges { cursor node { position at actor tenantId action streamId
				changes { field from to } } } pageInfo { hasNextPage endCursor } } }`, nil, nil)
		})
		t.Run("a few options with at: pass", func(t *testing.T) {
			e.must(t, e.Admin, aliases(20, func(i int) string {
				return fmt.Sprintf(`a%d: senderOptions(userId: %q, at: "2026-01-01T00:00:00Z") { address displayName source mailboxId transport }`, i, userID)
			}), nil, nil)
		})
	})
}

func TestLimitsR34AtMostTenMutations(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tenants := func() int {
			var v struct{ Tenants conn[struct{ ID string }] }
			e.must(t, e.Admin, `{ tenants { edges { node { id } } } }`, nil, &v)
			return len(v.Tenants)
		}
		before := tenants()
		var b strings.Builder
		b.WriteString("mutation { ")
		for i := range 11 {
			fmt.Fprintf(&b, "t%d: createTenant(name: %q) { id } ", i, e.uniq("Many"))
		}
		b.WriteString("}")
		_, raw := post(t, e.URL, e.Admin, bytes.NewReader(query(b.String())), -1)
		if r := refusal(t, raw); r.Code() != "INVALID_INPUT" || r.Field() != "mutations" {
			t.Fatalf("got %s, want INVALID_INPUT field mutations", raw)
		}
		if after := tenants(); after != before {
			t.Fatalf("got %d tenants, want %d: nothing committed", after, before)
		}
	})
}

// countingBody counts what the server read of a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// endless is an endless JSON string: `{"query":"xxxx…`.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	if !e.started {
		n = copy(p, `{"query":"`)
		e.started = true
	}
	for i := n; i < len(p); i++ {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestLimitsR34Body(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var read atomic.Int64
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = countingBody{r.Body, &read}
			e.Server.Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(hs.Close)
		// A chunked body is only a little larger than the bound: the client
		// sends it whole before it reads the answer, and the server closes
		// the connection after a 413 (the rest of a larger body would meet
		// a reset).
		const body, chunked = 50 << 20, graph.MaxBodyBytes + 256<<10
		for _, c := range []struct {
			name         string
			tok          string
			size, length int64
			maxRead      int64
			wantCode     int
		}{
			{"declared 50 MB: 413 unread", e.Admin, body, body, 0, http.StatusRequestEntityTooLarge},
			{"declared 50 MB without a token: 413 unread", "", body, body, 0, http.StatusRequestEntityTooLarge},
			{"chunked above the bound: 413 after the bound", e.Admin, chunked, -1, graph.MaxBodyBytes + 64<<10, http.StatusRequestEntityTooLarge},
			{"chunked 50 MB without a token: refused unread", "", body, -1, 0, http.StatusUnauthorized},
		} {
			t.Run(c.name, func(t *testing.T) {
				read.Store(0)
				status, raw := post(t, hs.URL, c.tok, io.LimitReader(&endless{}, c.size), c.length)
				if status != c.wantCode {
					t.Fatalf("got status %d (%s), want %d", status, raw, c.wantCode)
				}
				refusal(t, raw)
				if n := read.Load(); n > c.maxRead {
					t.Fatalf("the server read %d bytes, want at most %d", n, c.maxRead)
				}
			})
		}
	})
}

func TestLimitsR34ShortErrors(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		echo := strings.Repeat("ECHO", 1000)
		for _, c := range []struct {
			name string
			body string
		}{
			// 10 MB in, 10 MB out on the old main
			{"malformed JSON", `{"query": "{ viewer { id } }", "variables": {"` + strings.Repeat(echo, 2500)},
			{"wrong JSON types", `{"query": ["` + echo + `"]}`},
			{"a parse error", string(query(`{ viewer { id } ` + echo))},
			{"an unknown field", string(query(`{ ` + echo + ` }`))},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, raw := post(t, e.URL, e.Admin, strings.NewReader(c.body), int64(len(c.body)))
				r := refusal(t, raw)
				if r.Code() != "INVALID_INPUT" {
					t.Fatalf("got %s, want INVALID_INPUT", raw)
				}
				for _, leak := range []string{strings.Repeat("ECHO", 11), "RawParams", "json:", "Go ", "struct", "[]"} {
					if strings.Contains(string(raw), leak) {
						t.Fatalf("got %s, want nothing of the request and no Go type (%q)", raw, leak)
					}
				}
			})
		}
	})
}

func TestLimitsR34BadTimeIsInvalidInput(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tenantID := e.createTenant(t, e.uniq("Times"))
		userID := e.user(t, tenantID, "Tim E", "tim@example.com", "EMPLOYEE")
		for _, at := range []string{"yesterday", "2026-13-01T00:00:00Z", "2026-01-01 00:00:00", ""} {
			r := e.do(t, e.Admin, `query($u: ID!, $at: Time){ senderOptions(userId: $u, at: $at) { address } }`,
				map[string]any{"u": userID, "at": at})
			wantInvalid(t, r, "at")
			r = e.do(t, e.Admin, fmt.Sprintf(`{ senderOptions(userId: %q, at: %q) { address } }`, userID, at), nil)
			wantInvalid(t, r, "at")
		}
	})
}

// A request's work stops when its client goes away (R34): the replay
// behind at: sees its context cancelled.
func TestLimitsR34DisconnectCancels(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tenantID := e.createTenant(t, e.uniq("Gone"))
		userID := e.user(t, tenantID, "Gon E", "gone@example.com", "EMPLOYEE")
		reading := make(chan struct{}, 1)
		observed := make(chan error, 1)
		e.Server.History.BeforeRead = func(ctx context.Context) {
			select {
			case reading <- struct{}{}:
			default:
				return
			}
			select {
			case <-ctx.Done():
				observed <- ctx.Err()
			case <-time.After(time.Minute): // a guard, not a wait: the test fails
				observed <- errors.New("the replay's context was not cancelled")
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/graphql", bytes.NewReader(query(
				fmt.Sprintf(`{ senderOptions(userId: %q, at: "2026-01-01T00:00:00Z") { address } }`, userID))))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.Admin)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		<-reading
		cancel()
		<-done
		if err := <-observed; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

// TestLimitsR34ResultFields checks that the fields an answer resolves are
// bounded: lists without first are estimated at 20 items by the
// complexity bound, so a page of 400 users with their sender options on a
// tenant with 120 open mailboxes passes it, and then resolves users ×
// options objects (about 240,000 fields). It is refused with one error
// instead (R34).
func TestLimitsR34ResultFields(t *testing.T) {
	t.Parallel()
	e := &env{Instance: servertest.Start(t, dbtest.SQLite(t))}
	bt, err := seed.Benchmark(t.Context(), e.Server.App, seed.Sizes{Users: 400, Mailboxes: 120}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.caughtUp(t)
	r := e.do(t, e.Admin, `query($t:ID!){ tenant(id:$t){ users(first: 400){ edges { node {
		senderOptions { address displayName source mailboxId transport } } } } } }`, map[string]any{"t": bt.ID})
	wantInvalid(t, r, "results")
	if n := len(r.Errors); n != 1 {
		t.Fatalf("got %d errors, want 1", n)
	}
	// A page of 500 nodes of scalar fields stays within the bound.
	e.must(t, e.Admin, `query($t:ID!){ tenant(id:$t){ users(first: 500){ edges { node {
		id loginName displayName email role blocked groups { id name } } } } } }`, map[string]any{"t": bt.ID}, nil)
}
