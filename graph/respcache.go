package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/absender/absender/authz"
)

// The response cache keeps whole HTTP answers of the queries that are pure
// functions of the read models and the caller (issue 13, item 6: a user with
// hundreds of options): the top-level senderOptions and replyToOptions
// without at:, alone or together. Such an answer changes only when a read
// model does, and every read model change moves Store.Generation (an append
// or a projection commit in this process, or NOTIFY from another), so an
// answer is kept until the generation moves — exactly as the reader keeps
// the option lists it is built from — and the whole cache is dropped then.
//
// What the cache does not skip: the request is bounded (limitBodySize) and
// its token authenticated (withRequest, requireToken) on every call, so a
// revoked token or a blocked user (R20, R21) is refused at once though its
// answer is cached (the revocation moves the generation too). What it does
// skip on a hit: parsing, validation, execution and JSON encoding, and with
// them the operation's span and the resolvers' metrics; the HTTP span stays.
//
// Never cached: mutations and subscriptions, any other field (a query mixing
// a cacheable field with another is not cached), at: (history answers are
// pure too, but rare), answers with errors or extensions (warnings), any
// status but 200, the WebSocket. The key is the principal (token, user,
// tenant, role, blocked), the method, the URL's query string (GET), the
// Content-Type and Accept headers and the request body — so the query
// document, its variables and operation name — byte for byte; different
// spellings of one query are different entries.
//
// Bounds: at most responseCacheEntries answers and responseCacheBytes bytes
// between two changes (a request whose body exceeds responseCacheKeyBytes,
// or an answer above responseCacheEntryBytes, passes by uncached); when full,
// new answers are not kept until the next change empties it. Only an answer
// the operation has marked cacheable before it is written is copied on its
// way out (up to responseCacheEntryBytes); every other answer streams
// through uncopied.
const (
	responseCacheEntries    = 10000
	responseCacheBytes      = 64 << 20
	responseCacheEntryBytes = 4 << 20
	responseCacheKeyBytes   = 128 << 10
)

// cacheableFields are the Query fields whose answers the cache keeps: pure
// functions of the read models (Reader.OptionsOf) and the principal.
var cacheableFields = map[string]bool{"senderOptions": true, "replyToOptions": true, "__typename": true}

type responseCache struct {
	generation func() uint64
	maxEntries int
	maxBytes   int
	maxEntry   int

	mu      sync.Mutex
	gen     uint64
	bytes   int
	entries map[[sha256.Size]byte]*cachedResponse
}

type cachedResponse struct {
	header http.Header // what the handler set, beside what outer layers did
	body   []byte
}

func newResponseCache(generation func() uint64) *responseCache {
	return &responseCache{generation: generation, maxEntries: responseCacheEntries, maxBytes: responseCacheBytes,
		maxEntry: responseCacheEntryBytes, entries: map[[sha256.Size]byte]*cachedResponse{}}
}

func (c *responseCache) get(gen uint64, key [sha256.Size]byte) *cachedResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	return c.entries[key]
}

// put keeps an answer computed at generation gen, unless the generation has
// moved on since (the answer may be older than the read models then) or the
// cache is full.
func (c *responseCache) put(gen uint64, key [sha256.Size]byte, e *cachedResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation() != gen {
		return
	}
	if c.gen != gen {
		c.gen, c.bytes = gen, 0
		clear(c.entries)
	}
	size := len(e.body) + len(key)
	if _, ok := c.entries[key]; ok || len(c.entries) >= c.maxEntries || c.bytes+size > c.maxBytes {
		return
	}
	c.entries[key] = e
	c.bytes += size
}

// len reports how many answers are kept and their size.
func (c *responseCache) len() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

type cacheSlotKey struct{}

// cacheSlot is where the operation interceptor tells the HTTP layer that
// the request's answer may be kept. It says so before the answer is
// written (gqlgen's POST and GET transports check the whole response, then
// write it), so the recorder copies only such answers; it may take it back
// (a second response of one operation) while the answer is written.
type cacheSlot struct{ cacheable atomic.Bool }

// handler answers from the cache or lets next answer and keeps the answer
// when the operation said it may. It runs after the token check.
func (c *responseCache) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodPost && r.Method != http.MethodGet) || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			body, err = io.ReadAll(io.LimitReader(r.Body, responseCacheKeyBytes+1))
			if err != nil || len(body) > responseCacheKeyBytes {
				// too large to key (or unreadable): passed on uncached, as read
				r.Body = readCloser{io.MultiReader(bytes.NewReader(body), errReader{err}, r.Body), r.Body}
				next.ServeHTTP(w, r)
				return
			}
			r.Body = readCloser{bytes.NewReader(body), r.Body}
		}
		gen := c.generation()
		key := responseKey(PrincipalFrom(r.Context()), r, body)
		if e := c.get(gen, key); e != nil {
			h := w.Header()
			for k, v := range e.header {
				h[k] = slices.Clone(v)
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(e.body)
			return
		}
		slot := &cacheSlot{}
		rec := &recorder{ResponseWriter: w, slot: slot, before: w.Header().Clone(), max: c.maxEntry}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), cacheSlotKey{}, slot)))
		if rec.keep && slot.cacheable.Load() {
			c.put(gen, key, &cachedResponse{header: rec.header, body: rec.body.Bytes()})
		}
	})
}

// responseKey hashes what the answer may depend on; each part is length-
// prefixed, so no two requests share a key by moving bytes between parts.
func responseKey(p authz.Principal, r *http.Request, body []byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	part := func(s []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write(s)
	}
	blocked := "0"
	if p.Blocked {
		blocked = "1"
	}
	for _, s := range []string{p.TokenID, p.UserID, p.TenantID, p.Role.String(), blocked, r.Method, r.URL.RawQuery,
		r.Header.Get("Content-Type"), r.Header.Get("Accept")} {
		part([]byte(s))
	}
	part(body)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// recorder passes an answer through and keeps a copy of it (up to max
// bytes) with the headers the inner handler set — only when the answer
// starts (WriteHeader) with status 200 while slot says it may be kept.
// Every other answer (a mutation, history, a page of 500 nodes, an error)
// streams through without a byte copied, so it costs no memory beyond its
// own (R34); a kept answer costs at most max bytes more.
type recorder struct {
	http.ResponseWriter
	slot   *cacheSlot
	before http.Header
	status int
	keep   bool // the answer is being copied into header and body
	header http.Header
	body   bytes.Buffer
	max    int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		r.keep = status == http.StatusOK && r.slot.cacheable.Load()
		if r.keep {
			r.header = http.Header{}
			for k, v := range r.ResponseWriter.Header() {
				if !slices.Equal(r.before[k], v) {
					r.header[k] = slices.Clone(v)
				}
			}
		}
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.keep {
		if r.body.Len()+len(b) > r.max || !r.slot.cacheable.Load() {
			r.keep = false
			r.header, r.body = nil, bytes.Buffer{}
		} else {
			r.body.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type readCloser struct {
	io.Reader
	io.Closer
}

// errReader returns err (when not nil) where the body's first read failed.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// cacheableQuery is the gqlgen extension that marks an answer as one the
// response cache may keep: a query of cacheableFields only, without at:,
// answered in one response without errors or extensions. It marks the
// answer when gqlgen has it and before the transport writes it, so the
// recorder knows from the first byte whether to copy it.
type cacheableQuery struct{}

var _ graphql.OperationInterceptor = cacheableQuery{}

func (cacheableQuery) ExtensionName() string                   { return "CacheableQuery" }
func (cacheableQuery) Validate(graphql.ExecutableSchema) error { return nil }

func (cacheableQuery) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	slot, _ := ctx.Value(cacheSlotKey{}).(*cacheSlot)
	if slot == nil || !cacheableOperation(graphql.GetOperationContext(ctx)) {
		return next(ctx)
	}
	respond := next(ctx)
	answered := false
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		switch {
		case resp == nil:
		case answered, len(resp.Errors) > 0, len(resp.Extensions) > 0, resp.HasNext != nil && *resp.HasNext:
			slot.cacheable.Store(false)
		default:
			slot.cacheable.Store(true)
		}
		answered = answered || resp != nil
		return resp
	}
}

func cacheableOperation(oc *graphql.OperationContext) bool {
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query || len(oc.Operation.SelectionSet) == 0 {
		return false
	}
	for _, sel := range oc.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !cacheableFields[f.Name] || f.Arguments.ForName("at") != nil {
			return false
		}
	}
	return true
}
