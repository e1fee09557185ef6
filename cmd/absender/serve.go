package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/graph"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/saga"
	"github.com/absender/absender/server"
	"github.com/absender/absender/telemetry"
	"github.com/absender/absender/transport"
)

type serveConfig struct {
	db          dbConfig
	log         logConfig
	Listen      string
	AutoMigrate bool
	// BrokerURL turns on the NATS JetStream fan-out (docs/analytics.md).
	BrokerURL string
	// Sending (issue 4): R25 retention, R24, the delivery pool, Graph.
	MessageRetention  days
	AllowPrivateHosts bool
	DeliveryWorkers   int
	GraphURL          string
	GraphTokenURL     string
	// ReadYourWrites bounds how long a mutation waits for the read models
	// (R36).
	ReadYourWrites time.Duration
	// CORSOrigins are the browser origins besides the server's own
	// (comma-separated; issue 11).
	CORSOrigins string
}

// days is a duration flag that also takes whole days ("30d").
type days time.Duration

func (d *days) String() string {
	if v := time.Duration(*d); v > 0 && v%(24*time.Hour) == 0 {
		return strconv.Itoa(int(v/(24*time.Hour))) + "d"
	}
	return time.Duration(*d).String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			return fmt.Errorf("%q is not a number of days", s)
		}
		*d = days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither a duration (720h) nor days (30d)", s)
	}
	*d = days(v)
	return nil
}

func (c serveConfig) transport() transport.Options {
	return transport.Options{AllowPrivateHosts: c.AllowPrivateHosts, GraphBaseURL: c.GraphURL, GraphTokenURL: c.GraphTokenURL}
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
	if c.MessageRetention <= 0 {
		errs = append(errs, fmt.Errorf("--message-retention (ABSENDER_MESSAGE_RETENTION): must be positive, e.g. 30d"))
	}
	if c.DeliveryWorkers < 1 || c.DeliveryWorkers > 1000 {
		errs = append(errs, fmt.Errorf("--delivery-workers (ABSENDER_DELIVERY_WORKERS): %d is not between 1 and 1000", c.DeliveryWorkers))
	}
	if c.ReadYourWrites <= 0 || c.ReadYourWrites > time.Minute {
		errs = append(errs, fmt.Errorf("--read-your-writes (ABSENDER_READ_YOUR_WRITES): %s must be above 0 and at most 1m, e.g. 5s", c.ReadYourWrites))
	}
	if _, err := server.ParseCORSOrigins(c.CORSOrigins); err != nil {
		errs = append(errs, fmt.Errorf("--cors-origins (ABSENDER_CORS_ORIGINS): %w", err))
	}
	if err := c.transport().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--graph-url / --graph-token-url: %w", err))
	}
	return errors.Join(errs...)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlagSet("serve", "Run the Absender server: opens the database, applies migrations, and serves HTTP (GraphQL at /graphql,\n"+
		"/healthz, /readyz, Prometheus /metrics) and the send saga until SIGINT or SIGTERM. Telemetry follows the\n"+
		"standard OTEL_* environment: traces are exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.")
	c.db.register(fs)
	c.log.register(fs)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", true, "apply pending migrations on start (false: refuse to become ready until `absender migrate up` ran)")
	fs.StringVar(&c.BrokerURL, "broker-url", "", "NATS JetStream to publish every event to, e.g. nats://127.0.0.1:4222 (empty: off; see docs/analytics.md)")
	c.MessageRetention = days(30 * 24 * time.Hour)
	fs.Var(&c.MessageRetention, "message-retention", "how long message bodies and attachments are kept, e.g. 30d or 720h (R25)")
	fs.BoolVar(&c.AllowPrivateHosts, "allow-private-hosts", false, "let mail settings reach loopback, private and link-local addresses (R24; off: refused)")
	fs.IntVar(&c.DeliveryWorkers, "delivery-workers", 8, "concurrent delivery attempts of this process")
	fs.StringVar(&c.GraphURL, "graph-url", "https://graph.microsoft.com", "Microsoft Graph endpoint for MICROSOFT_GRAPH servers")
	fs.StringVar(&c.GraphTokenURL, "graph-token-url", "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", "OAuth2 token endpoint for Microsoft Graph; {tenant} is replaced by the directory id")
	fs.DurationVar(&c.ReadYourWrites, "read-your-writes", graph.DefaultWaitTimeout, "how long a mutation waits for the read models before it answers from the committed events with a READ_MODEL_BEHIND warning (R36)")
	fs.StringVar(&c.CORSOrigins, "cors-origins", "", "comma-separated browser origins besides the server's own that may call the API over HTTP and WebSocket, e.g. https://console.example.com (scheme://host[:port]; * for any; empty: same origin only)")
	checkConfig := fs.Bool("check-config", false, "validate the configuration, print it (secrets masked) with where each value came from, and exit without opening the database or listening")
	fs.allSettings() // every flag of serve has its variable (SPEC §5)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if *checkConfig {
		return printServeConfig(stdout, fs, c)
	}
	log := c.log.logger(stderr)
	tel, err := telemetry.Setup(ctx, telemetry.Options{Version: version})
	if err != nil {
		return usageError{err.Error()} // names the OTEL_* variable
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()

	db, err := c.db.open(ctx, true)
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
	// /readyz asks the fan-out (created below, once the store exists)
	// whether the broker is reachable.
	var fwd *fanout.Forwarder
	var brokerCheck func(context.Context) error
	if c.BrokerURL != "" {
		brokerCheck = func(ctx context.Context) error {
			if fwd == nil {
				return errors.New("fan-out not created")
			}
			return fwd.Ready(ctx)
		}
	}
	origins, _ := server.ParseCORSOrigins(c.CORSOrigins) // validated above
	app, err := server.New(server.Options{DB: db, CORSOrigins: origins, Keyring: ring, Log: log, Transport: c.transport(), Metrics: tel.Metrics, BrokerCheck: brokerCheck,
		WaitTimeout: c.ReadYourWrites,
		App:         appConfig(time.Duration(c.MessageRetention)),
		Saga:        saga.Options{Workers: c.DeliveryWorkers}})
	if err != nil {
		return err
	}
	// The fan-out runs beside the projections as consumer group "broker";
	// a broker that is down delays events, it does not stop the server.
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
		return fmt.Errorf("projections or send saga stopped: %w", err)
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
