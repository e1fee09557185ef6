package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/absender/absender/app"
	"github.com/absender/absender/domain"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/history"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/telemetry"
)

// Deps are what the API needs.
type Deps struct {
	App    *app.App
	Reader *projections.Reader
	Runner *projections.Runner
	Store  *eventstore.Store
	// History answers questions about the past (at:).
	History *history.Service
	Log     *slog.Logger
	// WaitTimeout bounds read-your-writes: how long a mutation waits for
	// the read models (default DefaultWaitTimeout); past it the mutation
	// answers from the committed events with a READ_MODEL_BEHIND warning
	// (R36).
	WaitTimeout time.Duration
	// Checker runs checkMailServer's connection checks (nil: the mutation
	// answers INTERNAL).
	Checker ServerChecker
	// CORSOrigins are the origins besides the server's own whose pages may
	// open the WebSocket (server.ParseCORSOrigins; "*": any). A request
	// without an Origin header is allowed.
	CORSOrigins []string
}

// WSInitTimeout bounds how long a WebSocket may wait before its
// connection_init (graphql-ws's default is 3 s).
const WSInitTimeout = 5 * time.Second

// DefaultWaitTimeout is how long a mutation waits for the read models by
// default (R36).
const DefaultWaitTimeout = 5 * time.Second

// Validate reports every missing or bad dependency (Log and WaitTimeout
// take defaults when zero).
func (d Deps) Validate() error {
	var errs []error
	for _, r := range []struct {
		name    string
		missing bool
	}{{"App", d.App == nil}, {"Reader", d.Reader == nil}, {"Runner", d.Runner == nil},
		{"Store", d.Store == nil}, {"History", d.History == nil}} {
		if r.missing {
			errs = append(errs, fmt.Errorf("graph: %s is required", r.name))
		}
	}
	if d.WaitTimeout < 0 {
		errs = append(errs, fmt.Errorf("graph: WaitTimeout %s must not be negative", d.WaitTimeout))
	}
	return errors.Join(errs...)
}

// Handler serves POST/GET /graphql and the graphql-transport-ws
// subscriptions; mount Playground at "/". A request is bounded (R34, see
// limits.go) before any work is done: its body's size, then its token,
// then its query's size, selections, depth, complexity and mutations.
//
// Handler panics when d fails Validate: the server wires the dependencies,
// so a missing one is a bug to stop at construction, not at the first
// request.
func Handler(d Deps) http.Handler {
	if err := d.Validate(); err != nil {
		panic(err)
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.WaitTimeout <= 0 {
		d.WaitTimeout = DefaultWaitTimeout
	}
	auth := NewAuthenticator(d.App, d.Reader, d.Store.Generation)
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{deps: d, auth: auth, checks: &checkLimiter{}}}))
	srv.AddTransport(transport.Websocket{
		Implementation:        wsOrigins(d.CORSOrigins),
		KeepAlivePingInterval: 15 * time.Second,
		// R34: a connection that shows no token in time is closed
		// ("connection initialisation timeout"), so idle unauthenticated
		// connections cannot pile up.
		InitTimeout: WSInitTimeout,
		InitFunc: func(ctx context.Context, init transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			tok := bearerToken(init.Authorization())
			if tok == "" {
				tok = init.GetString("token")
			}
			p, err := auth.Authenticate(ctx, tok)
			if err != nil || !p.Authenticated() {
				telemetry.AuthFailure(ctx, "refused")
				// gqlgen closes the connection (graphql-transport-ws: 4403).
				return ctx, nil, errors.New("UNAUTHENTICATED: a valid token is required in connection_init")
			}
			ctx = WithPrincipal(ctx, p)
			ctx = context.WithValue(ctx, tokenKey{}, tok)
			return ctx, nil, nil
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postJSON{})
	validated := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(validated) // parse and validate each distinct query once
	srv.Use(limits{validated: validated})
	srv.Use(resultLimit{})
	srv.Use(recheckToken{auth: auth, log: d.Log})
	srv.Use(loaderScope{reader: d.Reader})
	srv.Use(extension.Introspection{})
	srv.Use(operationSpans{})
	srv.Use(fieldChecks{reader: d.Reader, log: d.Log})
	srv.Use(cacheableQuery{})
	srv.SetErrorPresenter(presentError(d.Log))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		d.Log.ErrorContext(ctx, "graphql resolver panicked", "panic", fmt.Sprint(v))
		return errInternal
	})
	answers := newResponseCache(d.Store.Generation)
	return limitBodySize(withRequest(auth, d.Log, requireToken(answers.handler(requireUTF8(srv)))))
}

// wsOrigins accepts WebSocket upgrades from the server's own origin, from
// requests without an Origin header, and from the listed origins; others
// are refused with 403.
func wsOrigins(origins []string) transport.CoderWebsocketImplementation {
	var opts coderws.AcceptOptions
	for _, o := range origins {
		if o == "*" {
			opts.InsecureSkipVerify = true // any origin: tokens are never ambient
			continue
		}
		// Matched as "scheme://host" with path.Match: escape its metacharacters.
		opts.OriginPatterns = append(opts.OriginPatterns, strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(o))
	}
	return transport.CoderWebsocketImplementation{AcceptOptions: opts}
}

type tokenKey struct{}

// recheckToken authenticates a WebSocket connection's token again for
// every operation the connection carries: queries and mutations run for
// the token as it is now, so a user blocked (R20) or demoted (R19), or a
// token revoked, after connection_init changes and reads nothing more.
// (The subscriptions re-check it at every wake-up too.) An HTTP request
// was authenticated by withRequest and carries no tokenKey.
type recheckToken struct {
	auth Authenticator
	log  *slog.Logger
}

var _ graphql.OperationInterceptor = recheckToken{}

func (recheckToken) ExtensionName() string                   { return "RecheckToken" }
func (recheckToken) Validate(graphql.ExecutableSchema) error { return nil }

func (c recheckToken) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	tok, ok := ctx.Value(tokenKey{}).(string)
	if !ok {
		return next(ctx)
	}
	p, err := c.auth.Authenticate(ctx, tok)
	switch {
	case err != nil && !errors.Is(err, ErrBadToken):
		c.log.ErrorContext(ctx, "authenticate", "err", err)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: "internal error",
			Extensions: map[string]any{"code": string(domain.CodeInternal)}}}})
	case err != nil || !p.Authenticated():
		telemetry.AuthFailure(ctx, "refused")
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: "a valid token is required",
			Extensions: map[string]any{"code": string(domain.CodeUnauthenticated)}}}})
	}
	return next(WithPrincipal(ctx, p))
}

var errInternal = errors.New("internal error")

// withRequest authenticates the bearer token and gives the request a
// correlation id (X-Correlation-ID when the client sends one).
func withRequest(auth Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		corr := r.Header.Get("X-Correlation-ID")
		if corr == "" || len(corr) > 100 {
			corr = uuid.NewString()
		}
		w.Header().Set("X-Correlation-ID", corr)
		ctx = app.WithRequest(ctx, app.Request{CorrelationID: corr})
		if tok := bearerToken(r.Header.Get("Authorization")); tok != "" {
			p, err := auth.Authenticate(ctx, tok)
			switch {
			case errors.Is(err, ErrBadToken):
				// the zero principal: every operation answers UNAUTHENTICATED
				telemetry.AuthFailure(ctx, "refused")
			case err != nil:
				log.ErrorContext(ctx, "authenticate", "err", err)
				http.Error(w, `{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`, http.StatusInternalServerError)
				return
			default:
				if !p.Authenticated() {
					telemetry.AuthFailure(ctx, "refused")
				}
				ctx = WithPrincipal(ctx, p)
				// Log lines of this request name its tenant and actor.
				ctx = app.WithRequest(ctx, app.Request{CorrelationID: corr, Actor: p.Actor(), Principal: PrincipalName(p)})
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// presentError maps typed errors to extensions.code (and field); anything
// unexpected becomes INTERNAL, logged once with the correlation id, with
// no internals in the response.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var derr *domain.Error
		switch {
		case errors.As(err, &derr):
			gerr.Message = derr.Error()
			gerr.Extensions = map[string]any{"code": string(derr.Code)}
			if derr.Field != "" {
				gerr.Extensions["field"] = derr.Field
			}
		case errors.Is(err, projections.ErrNotFound):
			gerr.Message = "not found"
			gerr.Extensions = map[string]any{"code": string(domain.CodeNotFound)}
		case isGraphQLError(err):
			// Parse and validation errors, and the refusals of limits.go:
			// INVALID_INPUT (not gqlgen's GRAPHQL_PARSE_FAILED/_VALIDATION_
			// FAILED) naming the limit or the query, the message short.
			field, _ := gerr.Extensions["field"].(string)
			if field == "" {
				field = variablePath(gerr.Path)
			}
			limit := gerr.Extensions["limit"]
			gerr.Extensions = map[string]any{"code": string(domain.CodeInvalidInput), "field": field}
			if limit != nil {
				gerr.Extensions["limit"] = limit
			}
			gerr.Message = shorten(longName.ReplaceAllStringFunc(gerr.Message, func(q string) string {
				return shorten(q[:len(q)-1], maxName) + `"`
			}), maxMessage)
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			// the client went away (R34): nobody reads this answer
			log.DebugContext(ctx, "graphql request cancelled", "err", err)
			gerr.Message = "request cancelled"
			gerr.Extensions = map[string]any{"code": string(domain.CodeInternal)}
		default:
			log.ErrorContext(ctx, "graphql request failed", "err", err)
			gerr.Message = "internal error (correlation id " + app.RequestFrom(ctx).CorrelationID + ")"
			gerr.Extensions = map[string]any{"code": string(domain.CodeInternal)}
		}
		return gerr
	}
}

// maxMessage bounds the message of a parse or validation error; a name it
// quotes from the query is cut to maxName bytes, so nothing of the request
// comes back beyond a short name (R34).
const (
	maxMessage = 200
	maxName    = 40
)

var longName = regexp.MustCompile(`"[^"]{41,}"`)

// shorten cuts s to at most n bytes, at a character boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// variablePath names what a request error is about: the variable (and the
// part of it) that does not fit its type, e.g. "i.to", or else "query".
func variablePath(p ast.Path) string {
	if len(p) < 2 || p[0] != ast.PathName("variable") {
		return "query"
	}
	return shorten(strings.TrimPrefix(p[1:].String(), "."), maxName)
}

// isGraphQLError reports whether err is a parse or validation error or a
// refusal of limits.go: the request's fault. An error gqlgen raises while
// executing (it has a path: "must not be null", a resolver's nil) is ours,
// INTERNAL; limits.go's refusals during execution carry their own code.
func isGraphQLError(err error) bool {
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) || gerr.Err != nil {
		return false
	}
	if len(gerr.Path) == 0 || gerr.Extensions["code"] == string(domain.CodeInvalidInput) {
		return true
	}
	// A variable that does not fit its type: the path is ["variable", name].
	first, ok := gerr.Path[0].(ast.PathName)
	return ok && first == "variable"
}
