package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/server"
)

type serveConfig struct {
	db          dbConfig
	log         logConfig
	Listen      string
	AutoMigrate bool
	// BrokerURL turns on the NATS JetStream fan-out (docs/analytics.md).
	BrokerURL string
}

func (c serveConfig) Validate() error {
	var errs []error
	errs = append(errs, c.db.Validate(), c.log.Validate())
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen (ABSENDER_LISTEN): %q is not host:port", c.Listen))
	}
	if c.BrokerURL != "" {
		if err := fanout.ValidateURL(c.BrokerURL); err != nil {
			errs = append(errs, fmt.Errorf("--broker-url (ABSENDER_BROKER_URL): %w", err))
		}
	}
	return errors.Join(errs...)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlagSet("serve", "Run the Absender server: opens the database, applies migrations, and serves HTTP until SIGINT or SIGTERM.")
	c.db.register(fs)
	c.log.register(fs)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", true, "apply pending migrations on start (false: refuse to become ready until `absender migrate up` ran)")
	fs.StringVar(&c.BrokerURL, "broker-url", "", "NATS JetStream to publish every event to, e.g. nats://127.0.0.1:4222 (empty: off; see docs/analytics.md)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return usageError{err.Error()}
	}
	log := c.log.logger(stderr)

	db, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.AutoMigrate {
		applied, err := migrations.Up(ctx, db)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("applied migrations", "migrations", applied)
		}
	}
	ring, err := c.db.keyring(db)
	if err != nil {
		return err
	}
	app, err := server.New(server.Options{DB: db, Keyring: ring, Log: log})
	if err != nil {
		return err
	}
	// The fan-out runs beside the projections as consumer group "broker";
	// a broker that is down delays events, it does not stop the server.
	var fwd *fanout.Forwarder
	if c.BrokerURL != "" {
		if fwd, err = fanout.New(app.Store, fanout.Config{URL: c.BrokerURL, Logger: log}); err != nil {
			return usageError{fmt.Sprintf("--broker-url (ABSENDER_BROKER_URL): %v", err)}
		}
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- app.Run(runCtx, nil) }()
	fanoutErr := make(chan error, 1)
	if fwd != nil {
		go func() { fanoutErr <- fwd.Run(runCtx) }()
	}

	srv := &http.Server{
		Addr:              c.Listen,
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("--listen (ABSENDER_LISTEN): %w", err)
	}
	where := db.Path
	if db.Kind == database.Postgres {
		where = database.Redact(db.URL)
	} else {
		where = displayPath(where)
	}
	log.Info("absender serving", "version", version, "listen", ln.Addr().String(), "database", string(db.Kind), "at", where, "keyring", ring.String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case err := <-runErr:
		return fmt.Errorf("projections stopped: %w", err)
	case err := <-fanoutErr:
		return fmt.Errorf("--broker-url (ABSENDER_BROKER_URL): fan-out stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopRun()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("projections: %w", err)
	}
	if fwd != nil {
		if err := <-fanoutErr; err != nil {
			return fmt.Errorf("fan-out: %w", err)
		}
	}
	return nil
}
