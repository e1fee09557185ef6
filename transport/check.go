package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/absender/absender/domain"
)

// The names of the steps of a connection check, in the order they run.
const (
	StepDNS     = "DNS"     // the host's addresses (SMTP) or the token endpoint's (Graph)
	StepConnect = "CONNECT" // TCP, R24, and for SMTP the greeting and EHLO
	StepTLS     = "TLS"     // STARTTLS or implicit TLS with certificate verification
	StepAuth    = "AUTH"    // AUTH PLAIN or LOGIN with the credentials
	StepToken   = "TOKEN"   // Graph: the client-credentials token request
)

// CheckStep is one step of a connection check: whether it succeeded, what
// happened in plain words (server replies included, never a secret) and
// how long it took.
type CheckStep struct {
	Name     string
	OK       bool
	Detail   string
	Duration time.Duration
}

// CheckResult is a connection check: its steps in order, up to and
// including the first that failed.
type CheckResult struct {
	OK    bool
	Steps []CheckStep
}

// FailedStep is the name of the step that failed, "" when none did.
func (r CheckResult) FailedStep() string {
	for _, s := range r.Steps {
		if !s.OK {
			return s.Name
		}
	}
	return ""
}

// DefaultCheckTimeout bounds a whole connection check by default.
const DefaultCheckTimeout = 15 * time.Second

// checkRun collects the steps of one check.
type checkRun struct {
	res     CheckResult
	secrets []string
}

// step runs fn as the step name; fn returns its detail or an error. It
// reports whether the step succeeded.
func (c *checkRun) step(name string, fn func() (string, error)) bool {
	start := time.Now()
	detail, err := fn()
	s := CheckStep{Name: name, OK: err == nil, Detail: detail, Duration: time.Since(start)}
	if err != nil {
		s.Detail = checkDetail(err)
	}
	for _, sec := range c.secrets {
		if sec != "" {
			s.Detail = strings.ReplaceAll(s.Detail, sec, "[redacted]")
		}
	}
	c.res.Steps = append(c.res.Steps, s)
	return s.OK
}

// checkDetail is an error in plain words: the *Error's reason (without
// "permanent delivery failure", which means nothing to a check), a timeout
// as such.
func checkDetail(err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "timed out: " + err.Error()
	}
	var te *Error
	if errors.As(err, &te) {
		return te.Reason
	}
	return err.Error()
}

// Check connects to the server of settings and authenticates with creds,
// step by step, and sends nothing: SMTP ends with QUIT after AUTH, Graph
// after the token request. It is bounded by the check timeout
// (Options.CheckTimeout) and by ctx. R24 applies as for sending: a
// refused address is a failed CONNECT step. The result's details never
// contain a secret of creds.
func (t *Transport) Check(ctx context.Context, s domain.ServerSettings, creds Credentials) CheckResult {
	ctx, cancel := context.WithTimeout(ctx, t.opts.CheckTimeout)
	defer cancel()
	run := &checkRun{secrets: creds.secrets()}
	if s.Auth == domain.AuthMicrosoftGraph {
		t.checkGraph(ctx, run, s, creds)
	} else {
		t.checkSMTP(ctx, run, s, creds)
	}
	run.res.OK = run.res.FailedStep() == ""
	return run.res
}

// lookup resolves host (an IP address resolves to itself).
func (t *Transport) lookup(ctx context.Context, host string) (string, error) {
	if isIP(host) {
		return host + " is an IP address, no lookup needed", nil
	}
	r := t.dialer.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		// Without the resolver's address ("on 10.0.0.53:53"), an
		// internal one.
		return "", fmt.Errorf("cannot resolve %s: %s", host, dnsErr.Err)
	case err != nil:
		return "", fmt.Errorf("cannot resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("%s has no addresses", host)
	}
	// Without --allow-private-hosts the addresses R24 refuses are only
	// counted: a check must not tell which internal addresses a name has.
	var list []string
	hidden := 0
	for _, a := range addrs {
		if !t.dialer.AllowPrivateHosts && privateKind(a) != "" {
			hidden++
			continue
		}
		list = append(list, a.Unmap().String())
	}
	detail := host + " resolves to " + strings.Join(list, ", ")
	switch {
	case hidden > 0 && len(list) == 0:
		detail = fmt.Sprintf("%s resolves to %d address(es) that R24 refuses (not shown)", host, hidden)
	case hidden > 0:
		detail += fmt.Sprintf(" and %d address(es) that R24 refuses (not shown)", hidden)
	}
	return detail, nil
}

// dial connects to addr ("host:port") for a check. A refusal by R24 names
// addr, not the internal address its host resolved to (see lookup).
func (t *Transport) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err == nil {
		return c, nil
	}
	if host, _, _ := net.SplitHostPort(addr); errors.Is(err, ErrHostRefused) && !isIP(host) {
		return nil, &Error{Reason: fmt.Sprintf("R24: connection to %s refused: it resolves to a loopback, private, link-local or unspecified address (allow with --allow-private-hosts)", addr),
			cause: ErrHostRefused}
	}
	return nil, classify("connect to "+addr, err)
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

func (t *Transport) checkSMTP(ctx context.Context, run *checkRun, s domain.ServerSettings, creds Credentials) {
	host := domain.NormalHost(s.Host)
	if host == "" {
		run.step(StepDNS, func() (string, error) { return "", errors.New("the settings have no host") })
		return
	}
	addr := net.JoinHostPort(host, strconv.Itoa(s.EffectivePort()))
	if !run.step(StepDNS, func() (string, error) { return t.lookup(ctx, host) }) {
		return
	}

	var (
		raw net.Conn
		sc  *gosmtp.Client
	)
	defer func() {
		if sc != nil {
			_ = sc.Quit() // nothing was sent; QUIT ends the session politely
			_ = sc.Close()
		}
		if raw != nil {
			_ = raw.Close()
		}
	}()
	helo := t.opts.HELOName
	if helo == "" {
		if helo, _ = os.Hostname(); helo == "" {
			helo = "localhost"
		}
	}
	// greet reads the greeting and says EHLO on conn.
	greet := func(conn net.Conn) (string, error) {
		c, err := gosmtp.NewClient(conn, host)
		if err != nil {
			return "", classify("greeting", err)
		}
		sc = c
		if err := c.Hello(helo); err != nil {
			return "", classify("EHLO", err)
		}
		return fmt.Sprintf("the server greeted and answered EHLO: %s", firstLine(c.HelloResponse())), nil
	}

	implicit := s.Encryption == domain.EncryptionTLS
	if !run.step(StepConnect, func() (string, error) {
		c, err := t.dial(ctx, addr)
		if err != nil {
			return "", err
		}
		raw = c
		// The check's deadline bounds every read and write; a cancelled
		// request interrupts them.
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
		detail := "connected to " + c.RemoteAddr().String()
		if implicit {
			return detail + " (the greeting follows the TLS handshake)", nil
		}
		g, err := greet(c)
		if err != nil {
			return "", err
		}
		return detail + "; " + g, nil
	}) {
		return
	}

	tlsConf := t.tlsConfig(host)
	if !run.step(StepTLS, func() (string, error) {
		switch s.Encryption {
		case domain.EncryptionTLS:
			tc := tls.Client(raw, tlsConf)
			if err := tc.HandshakeContext(ctx); err != nil {
				return "", classify("TLS handshake", err)
			}
			g, err := greet(tc)
			if err != nil {
				return "", err
			}
			return tlsDetail("implicit TLS", tc.ConnectionState()) + "; " + g, nil
		case domain.EncryptionSTARTTLS:
			if ok, _ := sc.Extension("STARTTLS"); !ok {
				return "", errors.New("the server does not offer STARTTLS")
			}
			if err := sc.StartTLS(tlsConf); err != nil {
				return "", classify("STARTTLS", err)
			}
			st, _ := sc.TLSConnectionState()
			return tlsDetail("STARTTLS", st), nil
		}
		return "not used (encryption NONE)", nil
	}) {
		return
	}

	run.step(StepAuth, func() (string, error) {
		if s.Auth != domain.AuthPassword {
			return "not used (auth NONE)", nil
		}
		if creds.Password == "" {
			return "", errors.New("no password to authenticate with")
		}
		a := &passwordAuth{host: host, username: s.Username, password: creds.Password}
		if err := sc.Auth(a); err != nil {
			return "", authFailure(err)
		}
		return "authenticated as " + s.Username, nil
	})
}

func tlsDetail(how string, st tls.ConnectionState) string {
	d := fmt.Sprintf("%s: %s, %s", how, tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	if len(st.PeerCertificates) > 0 {
		c := st.PeerCertificates[0]
		d += fmt.Sprintf("; certificate for %s verified, valid until %s", c.Subject.CommonName, c.NotAfter.UTC().Format(time.DateOnly))
	}
	return d
}

func (t *Transport) checkGraph(ctx context.Context, run *checkRun, s domain.ServerSettings, creds Credentials) {
	tokenURL := strings.ReplaceAll(t.opts.GraphTokenURL, "{tenant}", url.PathEscape(s.GraphTenantID))
	u, err := url.Parse(tokenURL)
	if err != nil || u.Hostname() == "" {
		run.step(StepDNS, func() (string, error) {
			return "", fmt.Errorf("the token endpoint %q is not a URL", t.opts.GraphTokenURL)
		})
		return
	}
	if !run.step(StepDNS, func() (string, error) { return t.lookup(ctx, u.Hostname()) }) {
		return
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	if !run.step(StepConnect, func() (string, error) {
		c, err := t.dial(ctx, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		return "connected to " + c.RemoteAddr().String(), nil
	}) {
		return
	}
	run.step(StepToken, func() (string, error) {
		if s.GraphTenantID == "" || s.GraphClientID == "" || creds.GraphClientSecret == "" {
			return "", errors.New("the settings need a directory id, a client id and a client secret")
		}
		// Not from the cache: the check asks the endpoint now.
		tok, err := t.graph.fetchToken(ctx, s, creds.GraphClientSecret)
		if err != nil {
			return "", err
		}
		d := "access token received for client " + s.GraphClientID
		if !tok.Expiry.IsZero() {
			d += fmt.Sprintf(", valid for %s", time.Until(tok.Expiry).Round(time.Second))
		}
		return d, nil
	})
}

// fetchToken asks the token endpoint for an access token (client
// credentials), bypassing the cache.
func (g *graphClient) fetchToken(ctx context.Context, s domain.ServerSettings, secret string) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{
		ClientID:     s.GraphClientID,
		ClientSecret: secret,
		TokenURL:     strings.ReplaceAll(g.opts.GraphTokenURL, "{tenant}", url.PathEscape(s.GraphTenantID)),
		Scopes:       []string{graphScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, g.http))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			code := re.Response.StatusCode
			reason := fmt.Sprintf("graph token: HTTP %d %s %s", code, re.ErrorCode, firstLine(re.ErrorDescription))
			return nil, &Error{Temporary: code == http.StatusTooManyRequests || code >= 500, Code: code, Reason: reason}
		}
		return nil, classify("graph token", err)
	}
	return tok, nil
}
