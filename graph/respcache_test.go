package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2"

	"github.com/absender/absender/authz"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/graph/model"
)

// fakeAPI stands for gqlgen behind the response cache: it counts the
// requests that reach it, answers with the body it read and the call's
// number, and marks the answer cacheable unless told otherwise.
type fakeAPI struct {
	calls     atomic.Int64
	status    int
	cacheable bool
	size      int // pad the answer to this many bytes
	seen      []byte
	during    func() // runs while the answer is computed
	withdraw  bool   // take cacheable back after the first half of the answer
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(r.Body)
	f.seen = body.Bytes()
	if f.during != nil {
		f.during()
	}
	if slot, ok := r.Context().Value(cacheSlotKey{}).(*cacheSlot); ok && f.cacheable {
		slot.cacheable.Store(true)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Answer", "yes")
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	answer := fmt.Sprintf(`{"data":{"call":%d,"body":%q}}`, n, body.String())
	if len(answer) < f.size {
		answer += strings.Repeat(" ", f.size-len(answer))
	}
	if f.withdraw {
		_, _ = w.Write([]byte(answer[:len(answer)/2]))
		r.Context().Value(cacheSlotKey{}).(*cacheSlot).cacheable.Store(false)
		answer = answer[len(answer)/2:]
	}
	_, _ = w.Write([]byte(answer))
}

func cacheRequest(p authz.Principal, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r.WithContext(WithPrincipal(r.Context(), p))
}

var (
	alice   = authz.Principal{TokenID: "t1", UserID: "u1", TenantID: "x", Role: domain.RoleEmployee}
	alice2  = authz.Principal{TokenID: "t2", UserID: "u1", TenantID: "x", Role: domain.RoleEmployee}
	bob     = authz.Principal{TokenID: "t3", UserID: "u2", TenantID: "x", Role: domain.RoleEmployee}
	queryU1 = `{"query":"query($u: ID!) { senderOptions(userId: $u) { address } }","variables":{"u":"u1"}}`
	queryU2 = `{"query":"query($u: ID!) { senderOptions(userId: $u) { address } }","variables":{"u":"u2"}}`
)

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	w.Header().Set("X-Correlation-ID", "outer") // set by withRequest, outside the cache
	h.ServeHTTP(w, r)
	return w
}

// A kept answer is the computed one byte for byte, with the same status and
// headers; a request differing in principal (even another token of the same
// user) or in variables never shares it; a change (the generation moves)
// is seen by the next request (R13, R19, R21).
func TestResponseCacheKeysAndGenerationR13R19(t *testing.T) {
	var gen atomic.Uint64
	api := &fakeAPI{cacheable: true}
	c := newResponseCache(gen.Load)
	h := c.handler(api)

	first := serve(h, cacheRequest(alice, queryU1))
	again := serve(h, cacheRequest(alice, queryU1))
	if got := api.calls.Load(); got != 1 {
		t.Fatalf("calls after a repeat: got %d, want 1 (the answer kept)", got)
	}
	if !bytes.Equal(first.Body.Bytes(), again.Body.Bytes()) || first.Code != again.Code {
		t.Fatalf("kept answer: got %d %s, want %d %s", again.Code, again.Body, first.Code, first.Body)
	}
	if fmt.Sprint(first.Header()) != fmt.Sprint(again.Header()) {
		t.Fatalf("kept headers: got %v, want %v", again.Header(), first.Header())
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{
		{"another token of the same user", cacheRequest(alice2, queryU1)},
		{"another user", cacheRequest(bob, queryU1)},
		{"other variables", cacheRequest(alice, queryU2)},
		{"a blocked principal", cacheRequest(authz.Principal{TokenID: "t1", UserID: "u1", TenantID: "x", Role: domain.RoleEmployee, Blocked: true}, queryU1)},
		{"another role", cacheRequest(authz.Principal{TokenID: "t1", UserID: "u1", TenantID: "x", Role: domain.RoleAdministrator}, queryU1)},
	} {
		before := api.calls.Load()
		if got := serve(h, tc.r); bytes.Equal(got.Body.Bytes(), first.Body.Bytes()) || api.calls.Load() != before+1 {
			t.Errorf("%s: got %s (calls %d → %d), want its own answer", tc.name, got.Body, before, api.calls.Load())
		}
	}
	gen.Add(1)
	before := api.calls.Load()
	if got := serve(h, cacheRequest(alice, queryU1)); bytes.Equal(got.Body.Bytes(), first.Body.Bytes()) || api.calls.Load() != before+1 {
		t.Fatalf("after a change: got %s, want a new answer", got.Body)
	}
	if n, _ := c.len(); n != 1 {
		t.Fatalf("entries after a change and one answer: got %d, want 1 (the old ones dropped)", n)
	}
}

// Only answers the operation marked cacheable, with status 200, computed at
// the generation that is still current, are kept.
func TestResponseCacheKeepsOnlyCacheableAnswers(t *testing.T) {
	var gen atomic.Uint64
	for _, tc := range []struct {
		name string
		api  *fakeAPI
	}{
		{"not a cacheable operation", &fakeAPI{}},
		{"status 500", &fakeAPI{cacheable: true, status: http.StatusInternalServerError}},
		{"a change while answering", &fakeAPI{cacheable: true, during: func() { gen.Add(1) }}},
		{"an answer above the entry bound", &fakeAPI{cacheable: true, size: responseCacheEntryBytes + 1}},
		{"taken back while written", &fakeAPI{cacheable: true, withdraw: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newResponseCache(gen.Load).handler(tc.api)
			serve(h, cacheRequest(alice, queryU1))
			if got := serve(h, cacheRequest(alice, queryU1)); got.Body.Len() == 0 || tc.api.calls.Load() != 2 {
				t.Fatalf("calls: got %d, want 2 (nothing kept)", tc.api.calls.Load())
			}
		})
	}
}

// The cache is bounded in entries and bytes (R34: what a request may cost
// is bounded), and a request body too large to key passes by uncached and
// intact.
func TestResponseCacheBoundsR34(t *testing.T) {
	var gen atomic.Uint64
	t.Run("entries", func(t *testing.T) {
		api := &fakeAPI{cacheable: true}
		c := newResponseCache(gen.Load)
		c.maxEntries = 2
		h := c.handler(api)
		for i := range 5 {
			serve(h, cacheRequest(alice, fmt.Sprintf(`{"query":"{ senderOptions(userId: \"u%d\") { address } }"}`, i)))
		}
		if n, _ := c.len(); n != 2 {
			t.Fatalf("entries: got %d, want 2", n)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		api := &fakeAPI{cacheable: true, size: 1000}
		c := newResponseCache(gen.Load)
		c.maxBytes = 2500
		h := c.handler(api)
		for i := range 5 {
			serve(h, cacheRequest(alice, fmt.Sprintf(`{"query":"{ senderOptions(userId: \"u%d\") { address } }"}`, i)))
		}
		if n, size := c.len(); n != 2 || size > 2500 {
			t.Fatalf("entries, bytes: got %d, %d, want 2, ≤ 2500", n, size)
		}
	})
	t.Run("large request", func(t *testing.T) {
		api := &fakeAPI{cacheable: true}
		c := newResponseCache(gen.Load)
		h := c.handler(api)
		body := `{"query":"{ senderOptions(userId: \"u1\") { address } }","variables":{"pad":"` + strings.Repeat("x", responseCacheKeyBytes) + `"}}`
		serve(h, cacheRequest(alice, body))
		serve(h, cacheRequest(alice, body))
		if api.calls.Load() != 2 || string(api.seen) != body {
			t.Fatalf("calls: got %d, body intact %v, want 2, true", api.calls.Load(), string(api.seen) == body)
		}
		if n, _ := c.len(); n != 0 {
			t.Fatalf("entries: got %d, want 0", n)
		}
	})
}

// Which operations the cache may keep: the option lists of now, alone;
// never a mutation, a subscription, history (at:) or a query mixing in
// another field.
func TestCacheableOperation(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{`query($u: ID!) { senderOptions(userId: $u) { address displayName source mailboxId transport } }`, true},
		{`{ a: senderOptions(userId: "u") { address } b: replyToOptions(userId: "u") { address } __typename }`, true},
		{`{ senderOptions(userId: "u", at: "2026-01-01T00:00:00Z") { address } }`, false},
		{`{ senderOptions(userId: "u") { address } viewer { id } }`, false},
		{`{ viewer { senderOptions { address } } }`, false},
		{`{ ...F } fragment F on Query { senderOptions(userId: "u") { address } }`, false},
		{`mutation { revokeApiToken(tokenId: "t") }`, false},
		{`subscription { events { id } }`, false},
	} {
		doc, errs := gqlparser.LoadQuery(schema, tc.q)
		if errs != nil {
			t.Fatalf("%s: %v", tc.q, errs)
		}
		oc := &graphql.OperationContext{Operation: doc.Operations[0]}
		if got := cacheableOperation(oc); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
		}
	}
}

// stubRoot answers the few fields TestResponseCacheCopiesOnlyCacheableAnswersR34
// asks for, without read models: n sender options (now or at a time), an
// error for the user "bad", and revokeApiToken.
type stubRoot struct {
	ResolverRoot
	n     int
	calls atomic.Int64
}

func (s *stubRoot) Query() QueryResolver       { return stubQuery{s: s} }
func (s *stubRoot) Mutation() MutationResolver { return stubMutation{} }

type stubQuery struct {
	QueryResolver
	s *stubRoot
}

func (q stubQuery) SenderOptions(_ context.Context, userID string, _ *time.Time) ([]model.AddressOption, error) {
	q.s.calls.Add(1)
	if userID == "bad" {
		return nil, errors.New("no such user")
	}
	opts := make([]model.AddressOption, q.s.n)
	for i := range opts {
		opts[i] = model.AddressOption{Address: fmt.Sprintf("box%d@example.com", i), DisplayName: fmt.Sprintf("Mailbox %04d", i), Source: model.OptionSourceMailbox}
	}
	return opts, nil
}

type stubMutation struct{ MutationResolver }

func (stubMutation) RevokeAPIToken(_ context.Context, tokenID string) (string, error) {
	return tokenID, nil
}

// An answer the cache may not keep — a mutation, history (at:), another
// field, a large one (the schema), one with errors — streams through with
// not a byte copied (R34: a request costs no more than its own answer),
// and is the same byte for byte as without the cache; an answer it may keep
// is copied, kept and answered again from the cache.
func TestResponseCacheCopiesOnlyCacheableAnswersR34(t *testing.T) {
	root := &stubRoot{n: 500}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: root}))
	srv.AddTransport(postJSON{})
	srv.Use(extension.Introspection{})
	srv.Use(cacheableQuery{})
	var copied int // capacity of the recorder's copy after the last answer
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		copied = w.(*recorder).body.Cap()
	})
	h := newResponseCache(func() uint64 { return 0 }).handler(probe)
	body := func(q string) string {
		b, _ := json.Marshal(map[string]string{"query": q})
		return string(b)
	}

	for _, tc := range []struct{ name, query string }{
		{"a mutation", `mutation { revokeApiToken(tokenId: "t1") }`},
		{"history (at:)", `{ senderOptions(userId: "u1", at: "2026-01-01T00:00:00Z") { address displayName source } }`},
		{"introspection (another field)", `{ __schema { types { name fields { name args { name } } } } }`},
		{"an answer with errors", `{ senderOptions(userId: "bad") { address } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copied = -1
			got := serve(h, cacheRequest(alice, body(tc.query)))
			want := serve(srv, cacheRequest(alice, body(tc.query)))
			if copied != 0 {
				t.Errorf("bytes copied: got %d, want 0", copied)
			}
			if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) || got.Body.Len() < 20 {
				t.Errorf("answer: got %d %.200s, want %d %.200s", got.Code, got.Body, want.Code, want.Body)
			}
		})
	}

	t.Run("the options of now", func(t *testing.T) {
		q := body(`{ senderOptions(userId: "u1") { address displayName source } }`)
		calls := root.calls.Load()
		first := serve(h, cacheRequest(alice, q))
		if copied < first.Body.Len() || first.Body.Len() < 500*20 {
			t.Errorf("bytes copied: got %d, want ≥ the answer's %d", copied, first.Body.Len())
		}
		again := serve(h, cacheRequest(alice, q))
		if !bytes.Equal(first.Body.Bytes(), again.Body.Bytes()) || root.calls.Load() != calls+1 {
			t.Errorf("repeat: got %d resolver calls, same bytes %v, want 1, true", root.calls.Load()-calls, bytes.Equal(first.Body.Bytes(), again.Body.Bytes()))
		}
	})
}
