package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// CORSMaxAge is how long a browser may cache a preflight answer (seconds).
const CORSMaxAge = 600

// ParseCORSOrigins reads --cors-origins: a comma-separated list of
// origins, each scheme://host[:port] with scheme http or https and
// nothing after the host (no path, query or user), or "*" alone for any
// origin. "*" is acceptable because Absender has no cookies or other
// ambient credentials: every request carries its token in the
// Authorization header (or the WebSocket's connection_init), which a page
// on another origin cannot borrow. An empty list means same origin only.
// Origins are returned in their canonical form (lower case, no trailing
// slash, no default port), as browsers send them.
func ParseCORSOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		switch {
		case err != nil:
			return nil, fmt.Errorf("origin %q: %w", o, err)
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, fmt.Errorf("origin %q: the scheme must be http or https", o)
		case u.Host == "" || u.Hostname() == "":
			return nil, fmt.Errorf("origin %q has no host", o)
		case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
			return nil, fmt.Errorf("origin %q: an origin is scheme://host[:port], without path, query or user", o)
		case strings.ContainsAny(u.Host, "*?\\"):
			return nil, fmt.Errorf("origin %q: wildcards are not supported; list each origin or use * alone", o)
		}
		host := u.Host
		if p := u.Port(); p == "443" && u.Scheme == "https" || p == "80" && u.Scheme == "http" {
			host = strings.TrimSuffix(host, ":"+p) // a browser's Origin omits the default port
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+host))
	}
	for _, o := range out {
		if o == "*" && len(out) > 1 {
			return nil, fmt.Errorf("* allows every origin and cannot be combined with others")
		}
	}
	return out, nil
}

// withCORS answers preflight requests and adds the CORS headers for the
// listed origins (none: the handler as is, same origin only). Requests
// without an Origin header (CLI, server to server) are unaffected.
func withCORS(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
		MaxAge:         CORSMaxAge,
	}).Handler(h)
}
