package transport_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/transport"
	"github.com/absender/absender/transport/smtptest"
)

const checkPassword = "check-s3cret-pw"

func checkTransport(srv *smtptest.Server, allowPrivate bool, timeout time.Duration) *transport.Transport {
	opts := transport.Options{AllowPrivateHosts: allowPrivate, CheckTimeout: timeout, HELOName: "client.test"}
	if srv != nil && srv.Cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Cert)
		opts.TLSConfig = &tls.Config{RootCAs: pool}
	}
	return transport.New(opts)
}

func stepNames(r transport.CheckResult) string {
	names := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		names[i] = s.Name
		if !s.OK {
			names[i] += "!"
		}
	}
	return strings.Join(names, " ")
}

func wantSteps(t *testing.T, r transport.CheckResult, want string) {
	t.Helper()
	if got := stepNames(r); got != want {
		t.Fatalf("got steps %q, want %q (%+v)", got, want, r.Steps)
	}
	if wantOK := !strings.Contains(want, "!"); r.OK != wantOK {
		t.Fatalf("got ok %v, want %v", r.OK, wantOK)
	}
}

func wantNoSecretIn(t *testing.T, r transport.CheckResult, secret string) {
	t.Helper()
	for _, s := range r.Steps {
		if strings.Contains(s.Detail, secret) {
			t.Fatalf("step %s detail contains the secret: %q", s.Name, s.Detail)
		}
	}
}

// TestCheckSMTP proves checkMailServer's SMTP steps (issue 11): DNS,
// CONNECT, TLS, AUTH in order, stopping at the first failure, and nothing
// sent (no MAIL FROM, no DATA reaches the server).
func TestCheckSMTP(t *testing.T) {
	users := map[string]string{"mailer": checkPassword}
	mechs := []string{sasl.Plain, sasl.Login}
	for _, tc := range []struct {
		name     string
		cfg      smtptest.Config
		enc      domain.Encryption
		password string
		want     string
		detail   string // in the failed (or last) step's detail
	}{
		{"starttls and password", smtptest.Config{Mode: smtptest.StartTLS, Mechs: mechs, Users: users}, domain.EncryptionSTARTTLS, checkPassword, "DNS CONNECT TLS AUTH", "authenticated as mailer"},
		{"implicit tls", smtptest.Config{Mode: smtptest.ImplicitTLS, Mechs: mechs, Users: users}, domain.EncryptionTLS, checkPassword, "DNS CONNECT TLS AUTH", "authenticated as mailer"},
		{"plain text AUTH LOGIN", smtptest.Config{Mechs: []string{sasl.Login}, Users: users}, domain.EncryptionNone, checkPassword, "DNS CONNECT TLS AUTH", "authenticated as mailer"},
		{"wrong password", smtptest.Config{Mode: smtptest.StartTLS, Mechs: mechs, Users: users}, domain.EncryptionSTARTTLS, "wrong-" + checkPassword, "DNS CONNECT TLS AUTH!", "535"},
		{"STARTTLS to a server without it", smtptest.Config{Mechs: mechs, Users: users}, domain.EncryptionSTARTTLS, checkPassword, "DNS CONNECT TLS!", "does not offer STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.cfg)
			s := smtpSettings(srv, tc.enc)
			s.Auth, s.Username = domain.AuthPassword, "mailer"
			r := checkTransport(srv, true, 0).Check(t.Context(), s, transport.Credentials{Password: tc.password})
			wantSteps(t, r, tc.want)
			last := r.Steps[len(r.Steps)-1]
			if !strings.Contains(last.Detail, tc.detail) {
				t.Errorf("step %s detail: got %q, want it to contain %q", last.Name, last.Detail, tc.detail)
			}
			wantNoSecretIn(t, r, tc.password)
			if d := srv.Deliveries(); len(d) != 0 {
				t.Errorf("got %d deliveries, want none: a check sends nothing", len(d))
			}
		})
	}
}

// TestCheckSMTPNotUsed: encryption NONE and auth NONE are reported as ok
// steps that say "not used", so every successful SMTP check has four steps.
func TestCheckSMTPNotUsed(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	r := checkTransport(srv, true, 0).Check(t.Context(), smtpSettings(srv, domain.EncryptionNone), transport.Credentials{})
	wantSteps(t, r, "DNS CONNECT TLS AUTH")
	for _, s := range r.Steps {
		t.Logf("%s: %s", s.Name, s.Detail)
	}
	for _, s := range r.Steps[2:] {
		if !strings.Contains(s.Detail, "not used") {
			t.Errorf("step %s detail: got %q, want \"not used\"", s.Name, s.Detail)
		}
	}
}

// TestCheckClosedPort: nothing listens, so CONNECT fails and no later step runs.
func TestCheckClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := domain.ServerSettings{Host: "127.0.0.1", Port: port, Encryption: domain.EncryptionNone, Auth: domain.AuthNone}
	r := checkTransport(nil, true, 0).Check(t.Context(), s, transport.Credentials{})
	wantSteps(t, r, "DNS CONNECT!")
}

// TestCheckR24 proves R24 for checks: without --allow-private-hosts a
// loopback server is refused at CONNECT, naming R24, and never contacted.
func TestCheckR24(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	r := checkTransport(srv, false, 0).Check(t.Context(), smtpSettings(srv, domain.EncryptionNone), transport.Credentials{})
	wantSteps(t, r, "DNS CONNECT!")
	if d := r.Steps[1].Detail; !strings.Contains(d, "R24") || !strings.Contains(d, "loopback") {
		t.Errorf("CONNECT detail: got %q, want it to name R24 and loopback", d)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("got %d sessions, want 0 (refused before connecting)", n)
	}
}

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) (host string, port int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; _ = c.Close() }()
		}
	}()
	a := l.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// TestCheckBounded: a server that never greets ends the check at its
// timeout (a short one here) with CONNECT failed as timed out; a
// cancelled request ends it too.
func TestCheckBounded(t *testing.T) {
	host, port := silentServer(t)
	s := domain.ServerSettings{Host: host, Port: port, Encryption: domain.EncryptionNone, Auth: domain.AuthNone}

	r := checkTransport(nil, true, 300*time.Millisecond).Check(t.Context(), s, transport.Credentials{})
	wantSteps(t, r, "DNS CONNECT!")
	if d := r.Steps[1].Detail; !strings.Contains(d, "timed out") {
		t.Errorf("CONNECT detail: got %q, want \"timed out\"", d)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan transport.CheckResult)
	go func() { done <- checkTransport(nil, true, time.Hour).Check(ctx, s, transport.Credentials{}) }()
	cancel()
	r = <-done // would hang for an hour if cancellation were ignored
	wantSteps(t, r, "DNS CONNECT!")
}

// TestCheckGraph: the token endpoint's DNS, CONNECT and TOKEN; a refused
// secret fails TOKEN and the detail does not repeat the secret even when
// the endpoint echoes it.
func TestCheckGraph(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		g := startGraphServer(t)
		r := graphTransport(g, true).Check(t.Context(), graphSettings(), transport.Credentials{GraphClientSecret: graphSecret})
		wantSteps(t, r, "DNS CONNECT TOKEN")
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.tokenRequests != 1 {
			t.Errorf("got %d token requests, want 1", g.tokenRequests)
		}
	})
	t.Run("bad secret", func(t *testing.T) {
		g := startGraphServer(t)
		g.mu.Lock()
		g.tokenStatus = http.StatusUnauthorized
		g.mu.Unlock()
		r := graphTransport(g, true).Check(t.Context(), graphSettings(), transport.Credentials{GraphClientSecret: graphSecret})
		wantSteps(t, r, "DNS CONNECT TOKEN!")
		if d := r.Steps[2].Detail; !strings.Contains(d, "401") {
			t.Errorf("TOKEN detail: got %q, want the HTTP status", d)
		}
		wantNoSecretIn(t, r, graphSecret)
	})
	t.Run("R24", func(t *testing.T) {
		g := startGraphServer(t)
		r := graphTransport(g, false).Check(t.Context(), graphSettings(), transport.Credentials{GraphClientSecret: graphSecret})
		wantSteps(t, r, "DNS CONNECT!")
		if !strings.Contains(r.Steps[1].Detail, "R24") {
			t.Errorf("CONNECT detail: got %q, want R24", r.Steps[1].Detail)
		}
	})
}

// TestCheckR24HidesAddresses: without --allow-private-hosts a check does
// not tell which internal addresses a host name resolves to — neither in
// DNS nor in the refused CONNECT — so checkMailServer cannot serve as an
// oracle for the internal DNS (R24: "mail settings cannot probe internal
// services"). The refusal still names R24 (review of issue 11).
func TestCheckR24HidesAddresses(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	s := smtpSettings(srv, domain.EncryptionNone)
	s.Host = "localhost" // resolves to 127.0.0.1 (and maybe ::1)
	r := checkTransport(srv, false, 0).Check(t.Context(), s, transport.Credentials{})
	wantSteps(t, r, "DNS CONNECT!")
	for _, st := range r.Steps {
		for _, a := range []string{"127.0.0.1", "::1"} {
			if strings.Contains(st.Detail, a) {
				t.Errorf("step %s shows the internal address %s: %q", st.Name, a, st.Detail)
			}
		}
	}
	if d := r.Steps[1].Detail; !strings.Contains(d, "R24") || !strings.Contains(d, "localhost") {
		t.Errorf("CONNECT detail: got %q, want it to name R24 and the host", d)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("got %d sessions, want 0 (refused before connecting)", n)
	}
}

// TestCheckDNSFailureHidesResolver: a name that does not resolve fails
// the DNS step naming the host and the reason, not the address of the
// server's own DNS resolver (Go's "lookup x on 10.0.0.53:53: …"), an
// internal address (R24's intent; review of issue 11).
func TestCheckDNSFailureHidesResolver(t *testing.T) {
	s := domain.ServerSettings{Host: "absender-check-nxdomain.invalid", Port: 25, Encryption: domain.EncryptionNone, Auth: domain.AuthNone}
	r := checkTransport(nil, false, 0).Check(t.Context(), s, transport.Credentials{})
	wantSteps(t, r, "DNS!")
	d := r.Steps[0].Detail
	if !strings.Contains(d, "absender-check-nxdomain.invalid") {
		t.Errorf("DNS detail %q does not name the host", d)
	}
	if ip := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|:53\b`).FindString(d); ip != "" {
		t.Errorf("DNS detail %q shows the resolver's address %s", d, ip)
	}
}
