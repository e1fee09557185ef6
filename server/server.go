// Package server assembles Absender: the event store, the command layer,
// the projections and the HTTP surface (GraphQL API, playground, health).
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/absender/absender/app"
	"github.com/absender/absender/database"
	"github.com/absender/absender/domain/message"
	"github.com/absender/absender/eventstore"
	"github.com/absender/absender/graph"
	"github.com/absender/absender/history"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/projections"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/transport"
)

// Options configure a Server.
type Options struct {
	DB      *database.DB
	Keyring *keyring.Ring
	Log     *slog.Logger
	// WaitTimeout bounds read-your-writes (default 10 s).
	WaitTimeout time.Duration
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
}

// Server is one Absender process.
type Server struct {
	db  *database.DB
	log *slog.Logger
	// migrated is set once every migration was seen applied; migrations
	// are never unapplied by a running system.
	migrated atomic.Bool

	Store   *eventstore.Store
	App     *app.Service
	Reader  *projections.Reader
	Runner  *projections.Runner
	History *history.Service
	Saga    *saga.Saga
	sender  saga.Sender
	handler http.Handler
}

// New assembles a server on an open, migrated database.
func New(opt Options) (*Server, error) {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Server{db: opt.DB, log: opt.Log}
	reg, err := app.NewRegistry()
	if err != nil {
		return nil, err
	}
	s.Store = eventstore.New(opt.DB, eventstore.Options{Registry: reg, Logger: opt.Log})
	if opt.Keyring != nil {
		cfg := opt.App
		cfg.Store, cfg.Keyring = s.Store, opt.Keyring
		if !opt.NoSaga && cfg.OnQueued == nil {
			cfg.OnQueued = func(id string) { s.Saga.Due(id) }
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
			so.App, so.Store, so.Log, so.Sender = s.App, s.Store, opt.Log, opt.Sender
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
	s.Reader = projections.NewReader(opt.DB.Read, s.Store.Generation)
	s.History = history.NewService(s.Store)
	s.Runner = projections.NewRunner(s.Store, opt.Log, projectionsOf(projections.All())...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.App != nil {
		mux.Handle("/graphql", graph.Handler(graph.Deps{App: s.App, Reader: s.Reader, Runner: s.Runner, Store: s.Store,
			History: s.History, Log: opt.Log, WaitTimeout: opt.WaitTimeout}))
		mux.Handle("GET /{$}", graph.Playground())
	}
	s.handler = mux
	return s, nil
}

// Handler routes the server's endpoints: /graphql, the playground at /,
// /healthz and /readyz.
func (s *Server) Handler() http.Handler { return s.handler }

// Run runs the projections and the cross-process wake-ups until ctx ends.
// running is closed once the projections consume.
func (s *Server) Run(ctx context.Context, running chan<- struct{}) error {
	go s.Store.Listen(ctx)
	if s.Saga == nil {
		return s.Runner.Run(ctx, running)
	}
	// Projections and saga run together; the first to stop stops the other.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	projRunning, sagaRunning := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	go func() { errs <- s.Runner.Run(ctx, projRunning) }()
	go func() { errs <- s.Saga.Run(ctx, sagaRunning) }()
	var err error
	pending := 2
	for started := 0; started < 2 && pending == 2; {
		select {
		case <-projRunning:
			projRunning = nil
			started++
		case <-sagaRunning:
			sagaRunning = nil
			started++
		case err = <-errs:
			pending--
		}
	}
	if pending == 2 && running != nil {
		close(running)
	}
	if pending == 2 {
		err = <-errs
		pending--
	}
	cancel()
	for ; pending > 0; pending-- {
		if err2 := <-errs; err == nil {
			err = err2
		}
	}
	if c, ok := s.sender.(interface{ Close() }); ok {
		c.Close() // idle SMTP sessions
	}
	return err
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

// readiness is /readyz's answer: each check is "ok" or what is wrong.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyz answers 200 when the database is reachable and migrated, else 503
// naming the failing part.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	res := readiness{Status: "ready", Checks: map[string]string{}}
	fail := func(check, msg string) {
		res.Status = "unready"
		res.Checks[check] = msg
	}
	if err := s.db.Write.PingContext(ctx); err != nil {
		fail("database", "unreachable")
		s.log.Warn("readiness: database unreachable", "err", err)
	} else {
		res.Checks["database"] = "ok"
	}
	switch {
	case s.migrated.Load():
		res.Checks["migrations"] = "ok"
	case res.Checks["database"] != "ok":
		fail("migrations", "unknown (database unreachable)")
	default:
		pending, err := migrations.Pending(ctx, s.db)
		switch {
		case err != nil:
			fail("migrations", "cannot read migration status")
			s.log.Warn("readiness: migration status", "err", err)
		case len(pending) > 0:
			fail("migrations", "pending: run absender migrate up")
		default:
			s.migrated.Store(true)
			res.Checks["migrations"] = "ok"
		}
	}
	code := http.StatusOK
	if res.Status != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, res)
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
