// Package web serves Absender's admin console (SPEC §6): the single-page
// app built from this directory into dist/app (make console) and embedded
// into the binary, and the bundled GraphQL IDE at /graphiql. Nothing is
// loaded from outside, and the Content-Security-Policy says so to the
// browser. Built without the console (a plain go build), the binary serves
// a page at / that says how to build it.
package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// contentSecurityPolicy allows only Absender's own origin: scripts,
// styles (the component library and GraphiQL set inline styles), images,
// fonts and the API over HTTP and WebSocket.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the console for GET requests that no other route takes:
// /assets/… with long-lived caching (their names carry a content hash),
// /graphiql, and the console's page for every other path, which the
// app's router then shows (or answers "this page does not exist").
func Handler() http.Handler { return handler(dist) }

func handler(root fs.FS) http.Handler {
	app, err := fs.Sub(root, "dist/app")
	if err != nil {
		panic(err) // a constant path
	}
	index, errIndex := fs.ReadFile(app, "index.html")
	graphiql, errGraphiQL := fs.ReadFile(app, "graphiql.html")
	if errIndex != nil || errGraphiQL != nil {
		return notBuilt()
	}
	assets := http.FileServerFS(app)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		if !getOrHead(w, r) {
			return
		}
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/assets/"):
			// A file, not a directory (no listing of the assets).
			if st, err := fs.Stat(app, strings.TrimPrefix(path.Clean(p), "/")); err != nil || st.IsDir() {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			assets.ServeHTTP(w, r)
		case p == "/graphiql" || p == "/graphiql/":
			page(w, r, graphiql)
		case path.Ext(p) != "" && p != "/":
			// A file that is not there (favicon.ico, a stale asset): not the
			// app's page, which would hide the 404 from the browser.
			http.NotFound(w, r)
		default:
			page(w, r, index)
		}
	})
}

func page(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(body))
}

// getOrHead answers 405 to any other method (the console's pages are
// read-only; the API is at /graphql).
func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// notBuilt is what a binary built without the console serves at / and
// /graphiql: how to build it. The API works all the same.
func notBuilt() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		if !getOrHead(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(notBuiltPage))
	})
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Absender — console not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>The console is not built into this binary</h1>
<p>This <code>absender</code> was built with <code>go build</code> alone, so the admin console and the
GraphQL IDE are missing. The GraphQL API at <code>/graphql</code> works as usual.</p>
<p>To build everything (needs Node.js 20 or later and npm), run in the repository:</p>
<pre>make run</pre>
<p>or <code>make console</code> and then <code>make build</code> (the console is built into
<code>web/dist/app</code> and embedded by Go).</p>
</body></html>
`
