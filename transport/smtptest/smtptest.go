// Package smtptest runs a real SMTP server (emersion/go-smtp) on 127.0.0.1
// (or Config.Listen, e.g. [::1]) for tests: plain text, STARTTLS or implicit TLS with a generated
// certificate, AUTH PLAIN and LOGIN, scripted replies to DATA, refused
// recipients, and a record of everything it received.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Delivery is what the server received in one transaction.
type Delivery struct {
	From  string
	UTF8  bool
	TLS   bool
	Rcpts []string
	Data  []byte
}

// AuthAttempt is one AUTH exchange the server saw.
type AuthAttempt struct {
	Mech, Username, Password string
}

// Server is a running SMTP server.
type Server struct {
	Host string
	Port int
	Cert *x509.Certificate

	mu          sync.Mutex
	mechs       []string
	users       map[string]string
	dataReplies []error // popped per DATA; nil or empty accepts
	hang        chan struct{}
	held        int                        // DATA received and held by hang
	refuse      map[string]*smtp.SMTPError // by RCPT address
	deliveries  []Delivery
	sessions    int
	auths       []AuthAttempt
}

// Mode is how the server protects connections.
type Mode int

// The modes.
const (
	PlainText Mode = iota
	StartTLS
	ImplicitTLS
)

// Config configures a server.
type Config struct {
	Mode  Mode
	Mechs []string          // AUTH mechanisms offered (sasl.Plain, sasl.Login)
	Users map[string]string // user name → password
	// DataReplies are popped one per DATA: a non-nil error is the reply
	// (e.g. &smtp.SMTPError{Code: 451, …}); nil or none accepts.
	DataReplies []error
	Refuse      map[string]*smtp.SMTPError // RCPT replies by address
	SMTPUTF8    bool
	Hang        chan struct{} // when set, DATA blocks until it is closed
	// ReadTimeout drops a client silent that long (default 10 s).
	ReadTimeout time.Duration
	// Listen is the address to listen on (default "127.0.0.1:0"; "[::1]:0"
	// for IPv6 loopback).
	Listen string
}

// Start starts a server on cfg.Listen (127.0.0.1 by default) and stops it when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv := &Server{mechs: cfg.Mechs, users: cfg.Users, dataReplies: cfg.DataReplies, refuse: cfg.Refuse, hang: cfg.Hang}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		srv.mu.Lock()
		srv.sessions++
		srv.mu.Unlock()
		return &session{srv: srv, conn: c}, nil
	}))
	s.Domain = "mx.test"
	s.AllowInsecureAuth = true
	s.EnableSMTPUTF8 = cfg.SMTPUTF8
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if cfg.ReadTimeout > 0 {
		s.ReadTimeout = cfg.ReadTimeout
	}
	logger := &testLogger{t: t}
	s.ErrorLog = logger

	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != PlainText {
		cert, leaf := selfSignedCert(t)
		srv.Cert = leaf
		tc := &tls.Config{Certificates: []tls.Certificate{cert}}
		if cfg.Mode == StartTLS {
			s.TLSConfig = tc
		} else {
			l = tls.NewListener(l, tc)
		}
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() {
		logger.stop() // connections may still log after the test
		_ = s.Close()
	})
	host, port, _ := net.SplitHostPort(l.Addr().String())
	srv.Host = host
	srv.Port, _ = strconv.Atoi(port)
	return srv
}

// Held returns how many messages the server received in full and holds
// until Config.Hang is closed (then it accepts them, client gone or not).
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Deliveries returns what the server accepted so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Sessions is the number of connections the server accepted.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Auths returns the AUTH exchanges so far.
func (s *Server) Auths() []AuthAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auths)
}

// SetDataReplies replaces the scripted DATA replies.
func (s *Server) SetDataReplies(replies ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataReplies = replies
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s *Server) checkAuth(mech, user, pass string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auths = append(s.auths, AuthAttempt{mech, user, pass})
	if want, ok := s.users[user]; !ok || want != pass {
		return smtp.ErrAuthFailed
	}
	return nil
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	cur  Delivery
}

func (s *session) AuthMechanisms() []string { return s.srv.mechs }

func (s *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.srv.checkAuth(mech, user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: func(user, pass string) error { return s.srv.checkAuth(mech, user, pass) }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = Delivery{From: from, UTF8: opts != nil && opts.UTF8, TLS: isTLS}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	refusal := s.srv.refuse[to]
	s.srv.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	s.cur.Rcpts = append(s.cur.Rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.hang != nil {
		s.srv.mu.Lock()
		s.srv.held++
		s.srv.mu.Unlock()
		<-s.srv.hang
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if len(s.srv.dataReplies) > 0 {
		reply := s.srv.dataReplies[0]
		s.srv.dataReplies = s.srv.dataReplies[1:]
		if reply != nil {
			return reply
		}
	}
	s.cur.Data = b
	s.srv.deliveries = append(s.srv.deliveries, s.cur)
	return nil
}

func (s *session) Reset()        { s.cur = Delivery{} }
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the client).
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) == 0 {
			return []byte("Username:"), false, nil
		}
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, errors.New("unexpected LOGIN step")
}

func selfSignedCert(t testing.TB) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// testLogger logs the server's errors to the test until the test ends.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("smtp server: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(append([]any{"smtp server:"}, v...)...)
	}
}
