// Package server assembles Absender: the event store, the command layer,
// the projections and the HTTP surface (GraphQL API, console, health).
// It is the composition root: NewProcess builds everything `absender serve`
// runs, from telemetry and the database to the fan-out and the listener,
// and Process.Run runs the long-lived parts under one errgroup; New
// assembles the parts on an open database (CLI commands, tests).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"golang.org/x/sync/errgroup"

	"github.com/absender/absender/app"
	"github.com/absender/absender/content"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/graph"
	"github.com/absender/absender/history"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/telemetry"
	"github.com/absender/absender/transport"
	"github.com/absender/absender/web"
)

// Options configure a Server.
type Options struct {
	DB      *database.DB
	Keyring *keyring.Ring
	Log     *slog.Logger
	// WaitTimeout bounds read-your-writes (default graph.DefaultWaitTimeout,
	// 5 s); past it a mutation answers from its committed events (R36).
	WaitTimeout time.Duration
	// Projections are the read models (default projections.All()); tests
	// replace one, e.g. to hold it back.
	Projections []projections.Projection
	// Transport configures SMTP and Microsoft Graph (R24: AllowPrivateHosts).
	Transport transport.Options
	// Sender replaces the transports (tests); default transport.New(Transport).
	Sender saga.Sender
	// Saga tunes the send saga; App, Store, Sender and Log are filled in.
	Saga saga.Options
	// App tunes the command layer (retention, version, retry policy);
	// Store and Keyring are filled in.
	App app.Config
	// NoSaga leaves sending to other processes (e.g. a CLI command).
	NoSaga bool
	// ReadyMaxLag is how many events a consumer group (a projection, the
	// saga) may be behind while /readyz answers ready (default
	// DefaultReadyMaxLag).
	ReadyMaxLag int64
	// Metrics serves /metrics (telemetry.Setup's Prometheus handler); nil:
	// no /metrics.
	Metrics http.Handler
	// CORSOrigins are the browser origins other than the server's own that
	// may call the API, over HTTP and WebSocket (ParseCORSOrigins; empty:
	// same origin only).
	CORSOrigins []string
	// BrokerCheck, when set, tells /readyz whether the event broker is
	// reachable (nil: no broker check).
	BrokerCheck func(ctx context.Context) error
}

// Server is one Absender process.
type Server struct {
	db  *database.DB
	log *slog.Logger
	// migrated is set once every migration was seen applied; migrations
	// are never unapplied by a running system.
	migrated atomic.Bool
	// readyMaxLag and brokerCheck are Options.ReadyMaxLag and BrokerCheck.
	readyMaxLag int64
	brokerCheck func(ctx context.Context) error

	Store   *eventstore.Store
	App     *app.App
	Reader  *projections.Reader
	Runner  *projections.Runner
	History *history.Service
	Saga    *saga.Saga
	sender  saga.Sender
	// tabled are the projections that can be caught up the rebuild's way
	// (CatchUp).
	tabled []projections.Tabled

	lagMu   sync.Mutex
	lagAt   time.Time
	lagLast []telemetry.Lag
	handler http.Handler
}

// Validate reports every missing or bad option of the server itself; the
// nested App, Saga and Transport options are validated by the constructors
// they go to (Transport also here, when this process sends).
func (o Options) Validate() error {
	var errs []error
	if o.DB == nil {
		errs = append(errs, errors.New("server: DB is required"))
	}
	return errors.Join(append(errs, o.validateSettings())...)
}

// validateSettings validates what a caller sets, not the parts the
// composition root fills in (DB).
func (o Options) validateSettings() error {
	var errs []error
	if o.WaitTimeout < 0 {
		errs = append(errs, fmt.Errorf("server: WaitTimeout %s must not be negative", o.WaitTimeout))
	}
	if o.ReadyMaxLag < 0 {
		errs = append(errs, fmt.Errorf("server: ReadyMaxLag %d must not be negative", o.ReadyMaxLag))
	}
	return errors.Join(errs...)
}

// New assembles a server on an open, migrated database.
func New(opt Options) (*Server, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Server{db: opt.DB, log: opt.Log, readyMaxLag: opt.ReadyMaxLag, brokerCheck: opt.BrokerCheck}
	reg, err := app.NewRegistry()
	if err != nil {
		return nil, err
	}
	s.Store = eventstore.New(opt.DB, eventstore.Options{Registry: reg, Logger: opt.Log})
	s.Reader = projections.NewReader(opt.DB.Read, s.Store.Generation)
	if opt.Keyring != nil {
		cfg := opt.App
		cfg.Store, cfg.Keyring = s.Store, opt.Keyring
		if cfg.Log == nil {
			cfg.Log = opt.Log
		}
		if cfg.Reader == nil {
			cfg.Reader = s.Reader
		}
		if cfg.Content == nil {
			if cfg.Content, err = content.New(opt.DB.Read, opt.Keyring); err != nil {
				return nil, err
			}
		}
		if !opt.NoSaga && cfg.OnQueued == nil {
			cfg.OnQueued = func(ctx context.Context, id string) { s.Saga.Due(id, telemetry.TraceParent(ctx)) }
		}
		if s.App, err = app.New(cfg); err != nil {
			return nil, err
		}
		if !opt.NoSaga {
			if err := opt.Transport.Validate(); err != nil {
				return nil, err
			}
			so := opt.Saga
			if err := attemptOutlastsSend(so.AttemptTimeout, opt.Transport); err != nil {
				return nil, err
			}
			so.App, so.Store, so.DB, so.Log, so.Sender = app.NewSagaPort(s.App), s.Store, opt.DB, opt.Log, opt.Sender
			if so.Sender == nil {
				so.Sender = transport.New(opt.Transport)
			}
			if so.Now == nil {
				so.Now = cfg.Now
			}
			s.sender = so.Sender
			if s.Saga, err = saga.New(so); err != nil {
				return nil, err
			}
		}
	}
	s.History = history.NewService(s.Store)
	if opt.Projections == nil {
		opt.Projections = projectionsOf(projections.All())
	}
	s.Runner = projections.NewRunner(s.Store, opt.DB, opt.Log, opt.Projections...)
	for _, p := range opt.Projections {
		if t, ok := p.(projections.Tabled); ok {
			s.tabled = append(s.tabled, t)
		}
	}
	// checkMailServer checks with the transports that send, or, when this
	// process sends nothing or tests replaced them, with its own.
	checker, ok := s.sender.(graph.ServerChecker)
	if !ok {
		checker = transport.New(opt.Transport)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.App != nil {
		mux.Handle("/graphql", graph.Handler(graph.Deps{App: s.App, Reader: s.Reader, Runner: s.Runner, Store: s.Store,
			History: s.History, Log: opt.Log, WaitTimeout: opt.WaitTimeout, Checker: checker, CORSOrigins: opt.CORSOrigins}))
		// The console at / (every client route falls back to its page)
		// and the bundled GraphiQL at /graphiql (SPEC §6).
		mux.Handle("/", web.Handler())
	}
	if opt.Metrics != nil {
		mux.Handle("GET /metrics", opt.Metrics)
	}
	// Every request but the probes and the scrapes gets a span (the trace
	// context of the caller is continued) and the standard HTTP metrics.
	s.handler = otelhttp.NewHandler(withCORS(opt.CORSOrigins, mux), "absender.http",
		// A fixed server name: otherwise the client's Host header becomes a
		// metric label (unbounded).
		otelhttp.WithServerName("absender"),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/metrics", "/healthz", "/readyz":
				return false
			}
			return true
		}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
	return s, nil
}

// Database is the database the server was assembled on, for the parts a
// command composes itself (e.g. the key ring beside a SQLite file).
func (s *Server) Database() *database.DB { return s.db }

// Handler routes the server's endpoints: /graphql, the console at / and
// GraphiQL at /graphiql, /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Run runs the projections and the cross-process wake-ups until ctx ends.
// running is closed once the projections consume.
func (s *Server) Run(ctx context.Context, running chan<- struct{}) error {
	ctx, stop := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() { defer close(listening); s.Store.Listen(ctx) }()
	defer func() { stop(); <-listening }() // Listen ends before Run does
	if stop, err := telemetry.ObserveLag(s.lags); err == nil {
		defer stop()
	} else {
		s.log.Warn("projection lag metrics unavailable", "error", err)
	}
	if stop, err := telemetry.ObserveParked(s.parkedCounts); err == nil {
		defer stop()
	} else {
		s.log.Warn("parked event metrics unavailable", "error", err)
	}
	if s.Saga == nil {
		return s.Runner.Run(ctx, running)
	}
	// Projections and saga run together: the first to stop, with an error
	// or without, stops the other (a saga without read models is not
	// one), and Run returns once both have.
	g := new(errgroup.Group)
	projRunning, sagaRunning := make(chan struct{}), make(chan struct{})
	g.Go(func() error { defer stop(); return s.Runner.Run(ctx, projRunning) })
	g.Go(func() error { defer stop(); return s.Saga.Run(ctx, sagaRunning) })
	for _, started := range []chan struct{}{projRunning, sagaRunning} {
		select {
		case <-started:
		case <-ctx.Done():
		}
	}
	if ctx.Err() == nil && running != nil {
		close(running)
	}
	err := g.Wait()
	if c, ok := s.sender.(interface{ Close() }); ok {
		c.Close() // idle SMTP sessions
	}
	return err
}

// LogContext is what a log line logged with ctx says of the request or
// message being handled: its correlation id, tenant and actor (for
// telemetry.LogHandler; the trace id comes from the span).
func LogContext(ctx context.Context) []slog.Attr {
	r := app.RequestFrom(ctx)
	var out []slog.Attr
	if r.CorrelationID != "" {
		out = append(out, slog.String("correlation_id", r.CorrelationID))
	}
	if r.Actor.TenantID != "" {
		out = append(out, slog.String("tenant_id", r.Actor.TenantID))
	}
	if r.Principal != "" {
		out = append(out, slog.String("actor", r.Principal))
	}
	return out
}

// lags measures every consumer group of this process. Scrapes are
// unauthenticated and may come often: a measurement is reused for a
// second, and bounded to two seconds.
func (s *Server) lags(ctx context.Context) ([]telemetry.Lag, error) {
	s.lagMu.Lock()
	defer s.lagMu.Unlock()
	if time.Since(s.lagAt) < time.Second {
		return s.lagLast, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	groups := s.Runner.Groups()
	if s.Saga != nil {
		groups = append(groups, saga.ConsumerGroup)
	}
	out := make([]telemetry.Lag, 0, len(groups))
	var errs []error
	for _, g := range groups {
		l, err := s.Store.LagOf(ctx, g)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, telemetry.Lag{Group: g, Events: l.Events, Seconds: l.Age.Seconds()})
	}
	s.lagLast, s.lagAt = out, time.Now()
	return out, errors.Join(errs...)
}

// attemptOutlastsSend requires an attempt's timeout to exceed a whole send
// (connect and transaction): an attempt still sending when it times out
// would be counted as interrupted while it may still succeed.
func attemptOutlastsSend(attempt time.Duration, t transport.Options) error {
	if attempt <= 0 {
		attempt = message.AttemptTimeout
	}
	connect, send := t.ConnectTimeout, t.SendTimeout
	if connect <= 0 {
		connect = 10 * time.Second
	}
	if send <= 0 {
		send = 60 * time.Second
	}
	if attempt <= connect+send {
		return fmt.Errorf("server: the attempt timeout %s must exceed the connect and send timeouts (%s + %s)", attempt, connect, send)
	}
	return nil
}

// healthz answers while the process runs.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func projectionsOf(ts []projections.Tabled) []projections.Projection {
	out := make([]projections.Projection, len(ts))
	for i, p := range ts {
		out[i] = p
	}
	return out
}
