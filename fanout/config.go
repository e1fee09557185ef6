package fanout

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults of Config.
const (
	DefaultConsumerGroup    = "broker"
	DefaultStream           = "ABSENDER"
	DefaultSubjectPrefix    = "absender.events"
	DefaultDuplicateWindow  = 2 * time.Minute
	DefaultPublishTimeout   = time.Second
	DefaultAckDeadline      = 2 * time.Second
	DefaultRetryInterval    = time.Second
	DefaultMaxRetryInterval = 30 * time.Second
	DefaultPollInterval     = time.Second
	DefaultBatchSize        = 10
)

// Config configures a Forwarder. Only URL is required.
type Config struct {
	// URL names the NATS server: nats://[user:pass@]host:4222, tls://…,
	// ws://… or wss://…; several, comma-separated, for a cluster.
	URL string
	// Stream is the JetStream stream, created when missing (default
	// ABSENDER) with the subjects SubjectPrefix.>.
	Stream string
	// SubjectPrefix starts every subject: an event of stream type t is
	// published to SubjectPrefix.t (default absender.events).
	SubjectPrefix string
	// ConsumerGroup is the watermill-sql consumer group that holds the
	// forwarder's position in events_offsets (default broker).
	ConsumerGroup string
	// DuplicateWindow is the stream's deduplication window when the
	// forwarder creates the stream (default 2m, JetStream's default).
	DuplicateWindow time.Duration
	// PublishTimeout bounds one publish, waiting for JetStream's ack
	// (default 1s). It must be shorter than AckDeadline.
	PublishTimeout time.Duration
	// AckDeadline bounds one event's handling inside the consumer's
	// transaction (default 2s).
	AckDeadline time.Duration
	// RetryInterval is the first pause after a failed publish, doubled on
	// every further failure up to MaxRetryInterval (defaults 1s and 30s).
	// It is also the client's reconnect interval; a reconnect ends a pause.
	RetryInterval    time.Duration
	MaxRetryInterval time.Duration
	// PollInterval is the consumer's fallback poll (default 1s); appends in
	// this process (and, on PostgreSQL, in others) wake it at once.
	PollInterval time.Duration
	// BatchSize is how many events one consumer transaction forwards
	// (default 10; the rest of the last command's events are included).
	// Publishes are synchronous, so it bounds how long the transaction
	// stays open to about BatchSize broker round trips.
	BatchSize int
	// NatsOptions are added to the connection's options (TLS, credentials).
	NatsOptions []nats.Option
	Logger      *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.ConsumerGroup == "" {
		c.ConsumerGroup = DefaultConsumerGroup
	}
	def(&c.DuplicateWindow, DefaultDuplicateWindow)
	def(&c.PublishTimeout, DefaultPublishTimeout)
	def(&c.AckDeadline, DefaultAckDeadline)
	def(&c.RetryInterval, DefaultRetryInterval)
	def(&c.MaxRetryInterval, DefaultMaxRetryInterval)
	def(&c.PollInterval, DefaultPollInterval)
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports every problem of the configuration (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if err := ValidateURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if strings.ContainsAny(c.Stream, ".*> \t\r\n/\\") {
		errs = append(errs, fmt.Errorf("stream %q: a JetStream stream name has no '.', '*', '>', '/', '\\' or white space", c.Stream))
	}
	for _, tok := range strings.Split(c.SubjectPrefix, ".") {
		if !validToken(tok) {
			errs = append(errs, fmt.Errorf("subject prefix %q: tokens must be non-empty, without '*', '>' or white space", c.SubjectPrefix))
			break
		}
	}
	for name, d := range map[string]time.Duration{"duplicate window": c.DuplicateWindow, "publish timeout": c.PublishTimeout,
		"ack deadline": c.AckDeadline, "retry interval": c.RetryInterval, "max retry interval": c.MaxRetryInterval, "poll interval": c.PollInterval} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", name, d))
		}
	}
	if c.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("batch size %d is negative", c.BatchSize))
	}
	if c.PublishTimeout >= c.AckDeadline {
		errs = append(errs, fmt.Errorf("publish timeout %s must be shorter than the ack deadline %s", c.PublishTimeout, c.AckDeadline))
	}
	if c.MaxRetryInterval < c.RetryInterval {
		errs = append(errs, fmt.Errorf("max retry interval %s is shorter than the retry interval %s", c.MaxRetryInterval, c.RetryInterval))
	}
	return errors.Join(errs...)
}

// ValidateURL checks a broker URL (or a comma-separated list of them):
// each must be nats://, tls://, ws:// or wss:// with a host.
func ValidateURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("broker URL is empty")
	}
	for i, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil {
			return fmt.Errorf("broker URL (entry %d) is not a URL", i+1)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("broker URL %q: scheme must be nats, tls, ws or wss, e.g. nats://127.0.0.1:4222", redactURL(u))
		}
		if u.Hostname() == "" {
			return fmt.Errorf("broker URL %q has no host", redactURL(u))
		}
	}
	return nil
}

// Subject is where an event of the given stream type is published:
// SubjectPrefix.streamType, with characters a subject token cannot hold
// replaced by '_'.
func (c Config) Subject(streamType string) string {
	prefix := c.SubjectPrefix
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	tok := strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, streamType)
	if tok == "" {
		tok = "_"
	}
	return prefix + "." + tok
}

func validToken(tok string) bool {
	return tok != "" && !strings.ContainsAny(tok, "*> \t\r\n")
}

// redact hides passwords in a URL list for logs and messages.
func redact(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil {
			parts[i] = redactURL(u)
		} else {
			parts[i] = "(unparsable URL)"
		}
	}
	return strings.Join(parts, ",")
}

// redactURL hides a URL's credentials: the password, or a user name that
// stands alone (NATS token authentication, nats://TOKEN@host).
func redactURL(u *url.URL) string {
	if _, ok := u.User.Password(); !ok && u.User != nil {
		c := *u
		c.User = url.User("xxxxx")
		return c.String()
	}
	return u.Redacted()
}
