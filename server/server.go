// Package server is Absender's HTTP surface: health and readiness now, the
// GraphQL API and metrics as they arrive.
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/migrations"
)

// Server holds what the HTTP handlers need.
type Server struct {
	db  *database.DB
	log *slog.Logger
	// migrated is set once every migration was seen applied; migrations
	// are never unapplied by a running system.
	migrated atomic.Bool
}

// New returns the server for an open database.
func New(db *database.DB, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{db: db, log: log}
}

// Handler routes the server's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
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
