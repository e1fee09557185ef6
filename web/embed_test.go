package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	indexHTML    = "<!doctype html><title>console</title>"
	graphiqlHTML = "<!doctype html><title>graphiql</title>"
	assetJS      = "console.log('app')"
)

// built is dist as `make console` leaves it.
func built() fstest.MapFS {
	return fstest.MapFS{
		"dist/app/index.html":          {Data: []byte(indexHTML)},
		"dist/app/graphiql.html":       {Data: []byte(graphiqlHTML)},
		"dist/app/assets/x.js":         {Data: []byte(assetJS)},
		"dist/app/assets/style-1a.css": {Data: []byte("body{}")},
	}
}

func serve(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// SPEC §6: the console at / and at every client route (the app's router
// shows the page), GraphiQL at /graphiql, both with a policy that allows
// only Absender's own origin.
func TestServesConsolePages(t *testing.T) {
	h := handler(built())
	for _, tc := range []struct{ path, want string }{
		{"/", indexHTML},
		{"/mailboxes", indexHTML},
		{"/audit?tenant=t1", indexHTML},
		{"/users/nested/route", indexHTML},
		{"/graphiql", graphiqlHTML},
		{"/graphiql/", graphiqlHTML},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := serve(t, h, http.MethodGet, tc.path)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200", r.StatusCode)
			}
			if got := body(t, r); got != tc.want {
				t.Errorf("body: got %q, want %q", got, tc.want)
			}
			if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type: got %q, want text/html", got)
			}
			if got := r.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy: got %q, want %q", got, contentSecurityPolicy)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control: got %q, want no-cache (the page names the current assets)", got)
			}
		})
	}
}

// Assets carry a content hash in their names: cached for good.
func TestAssetsAreImmutable(t *testing.T) {
	h := handler(built())
	r := serve(t, h, http.MethodGet, "/assets/x.js")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", r.StatusCode)
	}
	if got := body(t, r); got != assetJS {
		t.Errorf("body: got %q, want %q", got, assetJS)
	}
	if got := r.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") || !strings.Contains(got, "max-age=31536000") {
		t.Errorf("Cache-Control: got %q, want immutable for a year", got)
	}
	if got := r.Header.Get("Content-Type"); !strings.Contains(got, "javascript") {
		t.Errorf("Content-Type: got %q, want JavaScript", got)
	}
	if got := r.Header.Get("Content-Security-Policy"); got == "" {
		t.Error("Content-Security-Policy missing on an asset")
	}
}

// A file that is not there is a 404, not the app's page: the browser
// (and whoever debugs a stale asset) must see it missing.
func TestMissingFilesAreNotFound(t *testing.T) {
	h := handler(built())
	for _, p := range []string{"/assets/missing.js", "/favicon.ico", "/robots.txt", "/assets/"} {
		t.Run(p, func(t *testing.T) {
			r := serve(t, h, http.MethodGet, p)
			b := body(t, r)
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("status: got %d, want 404", r.StatusCode)
			}
			if strings.Contains(b, indexHTML) {
				t.Errorf("body: got the console's page, want not found")
			}
		})
	}
}

// The console's pages are read-only: the API is at /graphql.
func TestOtherMethodsAreRefused(t *testing.T) {
	for name, h := range map[string]http.Handler{"built": handler(built()), "not built": handler(fstest.MapFS{})} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			t.Run(name+"/"+m, func(t *testing.T) {
				r := serve(t, h, m, "/")
				if r.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("status: got %d, want 405", r.StatusCode)
				}
				if got := r.Header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("Allow: got %q, want %q", got, "GET, HEAD")
				}
			})
		}
	}
	r := serve(t, handler(built()), http.MethodHead, "/mailboxes")
	if r.StatusCode != http.StatusOK {
		t.Errorf("HEAD: got %d, want 200", r.StatusCode)
	}
}

// A binary built with go build alone (no dist/app, or half of it) says
// how to build the console, at / and at /graphiql; the API still works.
func TestNotBuiltPage(t *testing.T) {
	for name, root := range map[string]fstest.MapFS{
		"no dist/app":   {"dist/README.md": {Data: []byte("built by make console")}},
		"no graphiql":   {"dist/app/index.html": {Data: []byte(indexHTML)}},
		"empty":         {},
		"no index.html": {"dist/app/graphiql.html": {Data: []byte(graphiqlHTML)}},
	} {
		h := handler(root)
		for _, p := range []string{"/", "/graphiql", "/mailboxes"} {
			t.Run(name+p, func(t *testing.T) {
				r := serve(t, h, http.MethodGet, p)
				if r.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("status: got %d, want 503", r.StatusCode)
				}
				b := body(t, r)
				if !strings.Contains(b, "make run") || !strings.Contains(b, "/graphql") {
					t.Errorf("body: got %q, want how to build it (make run) and that /graphql works", b)
				}
				if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
					t.Errorf("Content-Type: got %q, want text/html", got)
				}
				if got := r.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
					t.Errorf("Content-Security-Policy: got %q, want %q", got, contentSecurityPolicy)
				}
			})
		}
	}
}

// The embedded dist holds at least the placeholder, so Handler never
// panics, whether the console was built or not.
func TestHandlerOfTheEmbeddedFiles(t *testing.T) {
	r := serve(t, Handler(), http.MethodGet, "/")
	if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status: got %d, want 200 (built) or 503 (not built)", r.StatusCode)
	}
	if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("Content-Type: got %q, want text/html", got)
	}
}
