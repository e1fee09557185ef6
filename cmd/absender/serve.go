package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/fanout"
	"github.com/absender/absender/graph"
	"github.com/absender/absender/server"
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
	origins, _ := server.ParseCORSOrigins(c.CORSOrigins) // validated above
	p, err := server.NewProcess(ctx, server.Config{
		Version:     version,
		Log:         c.log.logger(stderr),
		OpenDB:      func(ctx context.Context) (*database.DB, error) { return c.db.open(ctx, true) },
		Keyring:     c.db.keyring,
		AutoMigrate: c.AutoMigrate,
		Listen:      c.Listen,
		BrokerURL:   c.BrokerURL,
		Server: server.Options{CORSOrigins: origins, Transport: c.transport(), WaitTimeout: c.ReadYourWrites,
			App: appConfig(time.Duration(c.MessageRetention)), Saga: sagaOptions(c.DeliveryWorkers)},
	})
	if err != nil {
		return serveError(err)
	}
	return serveError(p.Run(ctx))
}

// serveError names the flag of the setting a serving process failed on:
// a wrong value is a usage error (exit code 2), a failure of the
// environment (the address is taken, the fan-out gave up) is not.
func serveError(err error) error {
	var se *server.SettingError
	if !errors.As(err, &se) {
		return err
	}
	flag := map[string]string{"Listen": "--listen (ABSENDER_LISTEN): ", "BrokerURL": "--broker-url (ABSENDER_BROKER_URL): "}[se.Setting]
	if se.Usage {
		return usageError{flag + se.Err.Error()} // Telemetry: the error names the OTEL_* variable
	}
	return fmt.Errorf("%s%w", flag, se.Err)
}
