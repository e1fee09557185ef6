package transport_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/transport"
)

// TestOutboundHostsRefused checks R24: settings that point at a loopback
// address, directly or through a name that resolves to one, are refused
// before any connection, unless AllowPrivateHosts is set.
func TestOutboundHostsRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	tr := transport.New(transport.Options{ConnectTimeout: 2 * time.Second, SendTimeout: 5 * time.Second})

	for _, tc := range []struct{ name, host string }{
		{"loopback IP", "127.0.0.1"},
		{"name resolving to loopback", "localhost"},
	} {
		for _, p := range []int{port, 5432} {
			t.Run(fmt.Sprintf("%s port %d", tc.name, p), func(t *testing.T) {
				s := domain.ServerSettings{Host: tc.host, Port: p, Encryption: domain.EncryptionNone, Auth: domain.AuthNone}
				_, err := tr.Send(t.Context(), s, transport.Credentials{}, simpleMessage())
				var te *transport.Error
				if !errors.As(err, &te) || te.Temporary || !errors.Is(err, transport.ErrHostRefused) {
					t.Fatalf("Send: got %v, want permanent *Error wrapping ErrHostRefused", err)
				}
				if !strings.Contains(te.Reason, "R24") {
					t.Errorf("reason: got %q, want it to name R24", te.Reason)
				}
			})
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("connections accepted: got %d, want 0", n)
	}
}

// TestDialerAddressRanges checks which resolved addresses R24 refuses.
func TestDialerAddressRanges(t *testing.T) {
	d := &transport.Dialer{Timeout: time.Second}
	for _, tc := range []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", true}, {"127.1.2.3", true}, {"::1", true},
		{"10.1.2.3", true}, {"172.16.0.1", true}, {"172.31.255.254", true}, {"192.168.1.1", true},
		{"fc00::1", true}, {"fd12:3456::1", true},
		{"169.254.169.254", true}, {"fe80::1", true},
		{"0.0.0.0", true}, {"::", true}, {"0.1.2.3", true},
		{"100.64.0.1", true}, {"100.127.255.254", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			// Refused addresses fail in Control, before connect(2).
			_, err := d.DialContext(t.Context(), "tcp", net.JoinHostPort(tc.addr, "25"))
			if got := errors.Is(err, transport.ErrHostRefused); got != tc.refused {
				t.Errorf("refused: got %v (%v), want %v", got, err, tc.refused)
			}
		})
	}
}

// TestDialerAllowsPublicAndAllowedPrivate checks the two ways through:
// AllowPrivateHosts, and a public address (connect is attempted; whether
// it succeeds does not matter, only that R24 did not refuse it).
func TestDialerAllowsPublicAndAllowedPrivate(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := &transport.Dialer{AllowPrivateHosts: true, Timeout: time.Second}
	c, err := d.DialContext(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial with AllowPrivateHosts: got %v, want nil", err)
	}
	_ = c.Close()

	pub := &transport.Dialer{Timeout: 200 * time.Millisecond}
	_, err = pub.DialContext(t.Context(), "tcp", "192.0.2.1:25") // TEST-NET-1, unroutable
	if errors.Is(err, transport.ErrHostRefused) {
		t.Errorf("dial public address: got %v, want no R24 refusal", err)
	}
}

// TestCredentialsRedacted checks that secrets do not leak through fmt,
// slog or JSON (SPEC §3).
func TestCredentialsRedacted(t *testing.T) {
	c := transport.Credentials{Password: "hunter2", GraphClientSecret: "graph-secret"}
	var b strings.Builder
	logger := slog.New(slog.NewJSONHandler(&b, nil))
	logger.Info("send", "creds", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), b.String()} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "graph-secret") {
			t.Errorf("formatted credentials: got %q, want secrets redacted", s)
		}
	}
}
