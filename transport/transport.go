package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/telemetry"
)

// Options configure the transports. The zero value is usable: every
// field has a default.
type Options struct {
	// AllowPrivateHosts turns off the R24 check (--allow-private-hosts).
	AllowPrivateHosts bool
	// ConnectTimeout bounds connecting and the SMTP greeting, STARTTLS and
	// AUTH (default 10 s). SendTimeout bounds a whole send (default 60 s).
	ConnectTimeout, SendTimeout time.Duration
	// TLSConfig is the base TLS configuration (e.g. RootCAs); it is cloned
	// and ServerName set to the server's host. Default: system roots, TLS 1.2+.
	TLSConfig *tls.Config
	// CheckTimeout bounds a whole connection check (Check; default
	// DefaultCheckTimeout, 15 s).
	CheckTimeout time.Duration
	// HELOName is the name sent in EHLO (default: the machine's host name).
	HELOName string

	// GraphBaseURL is the Microsoft Graph endpoint (default https://graph.microsoft.com).
	GraphBaseURL string
	// GraphTokenURL is the OAuth2 token endpoint; "{tenant}" is replaced by
	// the tenant id (default https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token).
	GraphTokenURL string
	// MaxIdlePerServer is how many idle SMTP sessions are kept per server
	// and credentials for reuse (default 4; negative: none).
	// IdleTimeout closes a session idle that long (default 30 s).
	MaxIdlePerServer int
	IdleTimeout      time.Duration
	// GraphLargeAttachment is the total attachment size above which Graph
	// uses a draft and upload sessions instead of sendMail (default 3 MB);
	// attachments of at least this size are uploaded in chunks of
	// GraphUploadChunk bytes (default 3200 KiB, a multiple of 320 KiB).
	GraphLargeAttachment, GraphUploadChunk int
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 60 * time.Second
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.MaxIdlePerServer == 0 {
		o.MaxIdlePerServer = 4
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.GraphBaseURL == "" {
		o.GraphBaseURL = "https://graph.microsoft.com"
	}
	o.GraphBaseURL = strings.TrimRight(o.GraphBaseURL, "/")
	if o.GraphTokenURL == "" {
		o.GraphTokenURL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
	}
	if o.GraphLargeAttachment <= 0 {
		o.GraphLargeAttachment = 3 << 20
	}
	if o.GraphUploadChunk <= 0 {
		o.GraphUploadChunk = 10 * 320 << 10
	}
	return o
}

// Validate reports every invalid option.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	for name, u := range map[string]string{"GraphBaseURL": o.GraphBaseURL, "GraphTokenURL": o.GraphTokenURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			errs = append(errs, fmt.Errorf("transport option %s: %q is not an http(s) URL", name, u))
		}
	}
	if !strings.Contains(o.GraphTokenURL, "{tenant}") {
		errs = append(errs, fmt.Errorf("transport option GraphTokenURL: %q has no {tenant}", o.GraphTokenURL))
	}
	return errors.Join(errs...)
}

// Transport sends messages through server settings. It is safe for
// concurrent use; the state it keeps is Graph access tokens and idle SMTP
// sessions for reuse.
type Transport struct {
	opts   Options
	dialer *Dialer
	graph  *graphClient
	pool   *connPool
}

// New returns a Transport; opts should have passed Validate.
func New(opts Options) *Transport {
	opts = opts.withDefaults()
	d := &Dialer{AllowPrivateHosts: opts.AllowPrivateHosts, Timeout: opts.ConnectTimeout}
	t := &Transport{opts: opts, dialer: d, pool: newConnPool(opts.MaxIdlePerServer, opts.IdleTimeout)}
	t.graph = newGraphClient(opts, &http.Client{Transport: &http.Transport{
		Proxy:               nil, // a proxy would bypass the R24 check
		DialContext:         d.DialContext,
		TLSClientConfig:     opts.TLSConfig.Clone(),
		TLSHandshakeTimeout: opts.ConnectTimeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        10,
		IdleConnTimeout:     90 * time.Second,
	}})
	return t
}

// Close closes the idle SMTP sessions.
func (t *Transport) Close() { t.pool.closeAll() }

// Send delivers m through settings (SMTP for NONE and PASSWORD auth, Graph
// for MICROSOFT_GRAPH) with the plain secrets in creds. A failure is an
// *Error (errors.As) saying whether it is temporary (R23); it never
// contains a secret.
func (t *Transport) Send(ctx context.Context, settings domain.ServerSettings, creds Credentials, m Message) (res Result, err error) {
	name, kind := "smtp.send", "smtp"
	if settings.Auth == domain.AuthMicrosoftGraph {
		name, kind = "graph.send", "microsoft-graph"
	}
	ctx, span := telemetry.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("absender.transport.protocol", kind), attribute.String("server.address", settings.Host),
			attribute.Int("server.port", settings.Port), attribute.String("absender.transport.encryption", settings.Encryption.String())))
	defer func() {
		if err == nil {
			span.SetAttributes(attribute.Int("absender.transport.reply_code", res.Code), attribute.Int("absender.transport.refused", len(res.Refused)))
		}
		telemetry.End(span, err) // errors are redacted below
	}()
	ctx, cancel := context.WithTimeout(ctx, t.opts.SendTimeout)
	defer cancel()
	p, err := prepare(m)
	if err != nil {
		return Result{}, err
	}
	switch settings.Auth {
	case domain.AuthNone, domain.AuthPassword:
		res, err = t.sendSMTP(ctx, settings, creds, p)
	case domain.AuthMicrosoftGraph:
		res, err = t.graph.send(ctx, settings, creds, p)
	default:
		err = permanent(0, fmt.Sprintf("unknown auth %q in server settings", settings.Auth))
	}
	if err != nil {
		return Result{}, redact(err, creds.secrets()...)
	}
	return res, nil
}
