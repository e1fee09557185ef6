package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/absender/absender/database"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/keyring"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/telemetry"
)

// Config is everything one serving process (`absender serve`) is built
// from: the composition root. The command line fills it from its flags and
// the environment; NewProcess builds every part from it and Run runs them.
type Config struct {
	// Version is the binary's version (telemetry resource, start line).
	Version string
	// Log is the process's logger. Required.
	Log *slog.Logger
	// OpenDB opens the database (serve creates it when it is missing); its
	// errors are returned as they are. Required.
	OpenDB func(ctx context.Context) (*database.DB, error)
	// Keyring loads the key ring for secrets of the open database; its
	// errors are returned as they are. Required.
	Keyring func(db *database.DB) (*keyring.Ring, error)
	// AutoMigrate applies pending migrations before anything starts (off:
	// /readyz stays unready until `absender migrate up` ran).
	AutoMigrate bool
	// Listen is the HTTP address, host:port. Required.
	Listen string
	// BrokerURL turns on the NATS JetStream fan-out (empty: off).
	BrokerURL string
	// ShutdownTimeout bounds the draining of HTTP requests at shutdown
	// (default 15 s).
	ShutdownTimeout time.Duration
	// CatchUpAfter is how many events a read model may be behind at the
	// start before it is caught up the rebuild's way (Server.CatchUp;
	// 0: projections.DefaultCatchUpAfter, 5,000; below 0: no catch-up at
	// start, the live consumers catch up event by event).
	CatchUpAfter int64
	// Server configures the parts (read-your-writes, CORS, transports,
	// command layer, saga); DB, Keyring, Log, Metrics and BrokerCheck are
	// filled in by NewProcess.
	Server Options
}

// Validate reports every missing or bad setting, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.Log == nil {
		errs = append(errs, errors.New("server: Config.Log is required"))
	}
	if c.OpenDB == nil {
		errs = append(errs, errors.New("server: Config.OpenDB is required"))
	}
	if c.Keyring == nil {
		errs = append(errs, errors.New("server: Config.Keyring is required"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("server: Config.Listen %q is not host:port", c.Listen))
	}
	if c.BrokerURL != "" {
		if err := fanout.ValidateURL(c.BrokerURL); err != nil {
			errs = append(errs, fmt.Errorf("server: Config.BrokerURL: %w", err))
		}
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("server: Config.ShutdownTimeout %s must not be negative", c.ShutdownTimeout))
	}
	errs = append(errs, c.Server.validateSettings())
	return errors.Join(errs...)
}

// SettingError is a failure to start or run that one setting of Config
// caused, so the command line can name its flag. Usage says the value is
// wrong (a usage error); otherwise the value is fine and the environment
// failed (the address is taken, the broker connection gave up).
type SettingError struct {
	// Setting is the Config field: "Telemetry" (the OTEL_* environment),
	// "Listen" or "BrokerURL".
	Setting string
	Usage   bool
	Err     error
}

func (e *SettingError) Error() string { return "server: " + e.Setting + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Process is one serving Absender: the database, the parts Server holds,
// the fan-out, the HTTP listener and telemetry, built by NewProcess and
// run by Run.
type Process struct {
	*Server
	cfg  Config
	db   *database.DB
	tel  *telemetry.Telemetry
	ring *keyring.Ring
	fwd  *fanout.Forwarder // nil without a broker
	http *http.Server
	ln   net.Listener
}

// NewProcess builds everything serve runs, in order: telemetry, the
// database (migrated when Config.AutoMigrate), the key ring, the event
// store, command layer, projections and saga (New), the fan-out and the
// HTTP listener. On an error it releases what it built. Run runs it.
func NewProcess(ctx context.Context, cfg Config) (_ *Process, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	p := &Process{cfg: cfg}
	defer func() {
		if err != nil {
			p.close(ctx)
		}
	}()
	if p.tel, err = telemetry.Setup(ctx, telemetry.Options{Version: cfg.Version}); err != nil {
		return nil, &SettingError{Setting: "Telemetry", Usage: true, Err: err} // names the OTEL_* variable
	}
	if p.db, err = cfg.OpenDB(ctx); err != nil {
		return nil, err
	}
	if cfg.AutoMigrate {
		applied, err := migrations.Up(ctx, p.db)
		if err != nil {
			return nil, err
		}
		if len(applied) > 0 {
			cfg.Log.Info("applied migrations", "migrations", applied)
		}
	}
	if p.ring, err = cfg.Keyring(p.db); err != nil {
		return nil, err
	}
	opt := cfg.Server
	opt.DB, opt.Keyring, opt.Log, opt.Metrics = p.db, p.ring, cfg.Log, p.tel.Metrics
	if cfg.BrokerURL != "" {
		// /readyz asks the fan-out, created once the store exists, whether
		// the broker is reachable.
		opt.BrokerCheck = func(ctx context.Context) error {
			if p.fwd == nil {
				return errors.New("fan-out not created")
			}
			return p.fwd.Ready(ctx)
		}
	}
	if p.Server, err = New(opt); err != nil {
		return nil, err
	}
	// The fan-out runs beside the projections as consumer group "broker";
	// a broker that is down delays events, it does not stop the server.
	if cfg.BrokerURL != "" {
		if p.fwd, err = fanout.New(p.Store, fanout.Config{URL: cfg.BrokerURL, Logger: cfg.Log}); err != nil {
			return nil, &SettingError{Setting: "BrokerURL", Usage: true, Err: err}
		}
	}
	if p.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, &SettingError{Setting: "Listen", Err: err}
	}
	p.http = &http.Server{Addr: cfg.Listen, Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return p, nil
}

// Addr is the address the process listens on.
func (p *Process) Addr() net.Addr { return p.ln.Addr() }

// Run serves until ctx ends or a part fails, then shuts down in order and
// releases everything NewProcess built. Every long-lived part runs in one
// errgroup: HTTP, the projections and the saga (Server.Run), and the
// fan-out. The first part to fail, or the end of ctx, starts the
// shutdown: HTTP stops accepting and drains its requests (at most
// Config.ShutdownTimeout), and only then the consumers stop and the saga's
// deliveries under way finish, so no request is cut off from the parts it
// uses. Run returns the first failure (nil after a clean shutdown).
func (p *Process) Run(ctx context.Context) error {
	defer p.close(ctx)
	g, failed := errgroup.WithContext(ctx)
	// The parts behind HTTP run until HTTP is drained (or one fails).
	parts, stopParts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopParts()
	p.cfg.Log.Info("absender serving", "version", p.cfg.Version, "listen", p.ln.Addr().String(),
		"database", string(p.db.Kind), "at", where(p.db), "keyring", p.ring.String())
	g.Go(func() error {
		if err := p.http.Serve(p.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-failed.Done()
		if ctx.Err() != nil {
			p.cfg.Log.Info("shutting down")
		}
		drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.ShutdownTimeout)
		defer cancel()
		err := p.http.Shutdown(drain)
		stopParts()
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// Read models far behind (after a bulk seed or import, a restore,
		// a new projection) catch up the rebuild's way first; the live
		// consumers go on from there.
		if err := p.Server.CatchUp(parts, p.cfg.CatchUpAfter); err != nil && parts.Err() == nil {
			p.cfg.Log.Warn("catching up the read models failed; the live consumers catch up instead", "err", err)
		}
		err := p.Server.Run(parts, nil)
		if parts.Err() == nil { // stopped by itself
			if err == nil {
				err = errors.New("stopped without an error")
			}
			return fmt.Errorf("projections or send saga stopped: %w", err)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("projections: %w", err)
		}
		return nil
	})
	if p.fwd != nil {
		g.Go(func() error {
			err := p.fwd.Run(parts)
			if parts.Err() == nil {
				if err == nil {
					err = errors.New("stopped without an error")
				}
				return &SettingError{Setting: "BrokerURL", Err: fmt.Errorf("fan-out stopped: %w", err)}
			}
			if err != nil {
				return fmt.Errorf("fan-out: %w", err)
			}
			return nil
		})
	}
	return g.Wait()
}

// close releases the listener, the database and telemetry (flushing
// spans and metrics).
func (p *Process) close(ctx context.Context) {
	if p.ln != nil {
		_ = p.ln.Close()
	}
	if p.db != nil {
		_ = p.db.Close()
	}
	if p.tel != nil {
		_ = p.tel.Shutdown(context.WithoutCancel(ctx))
	}
}

// where shows the database in the start line: a SQLite file relative to
// the working directory when it is below it, a PostgreSQL URL without its
// password.
func where(db *database.DB) string {
	if db.Kind == database.Postgres {
		return database.Redact(db.URL)
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, db.Path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return db.Path
}
