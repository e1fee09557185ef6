package transport_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/transport"
	"github.com/absender/absender/transport/smtptest"
)

// Connection reuse: messages to one server share one authenticated SMTP
// session; other credentials get their own; a session the server dropped
// is replaced transparently.
func TestSMTPReusesSessionsPerServerAndCredentials(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{Mechs: []string{sasl.Plain}, Users: map[string]string{"a": "pw-a", "b": "pw-b"}})
	tr := transport.New(transport.Options{AllowPrivateHosts: true, IdleTimeout: time.Minute})
	defer tr.Close()
	settings := domain.ServerSettings{Host: srv.Host, Port: srv.Port, Encryption: domain.EncryptionNone, Auth: domain.AuthPassword,
		Username: "a", SenderAddress: "x@example.org"}
	msg := transport.Message{From: transport.Mailbox{Address: "x@example.org"}, To: []transport.Mailbox{{Address: "y@example.org"}}, Subject: "s", Text: "t"}
	send := func(s domain.ServerSettings, pw string) {
		t.Helper()
		if _, err := tr.Send(context.Background(), s, transport.Credentials{Password: pw}, msg); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		send(settings, "pw-a")
	}
	if n, a := srv.Sessions(), len(srv.Auths()); n != 1 || a != 1 {
		t.Fatalf("3 messages used %d connections and %d AUTHs, want 1 and 1", n, a)
	}
	other := settings
	other.Username = "b"
	send(other, "pw-b")
	if n := srv.Sessions(); n != 2 {
		t.Fatalf("other credentials: %d connections, want 2", n)
	}
	if got := len(srv.Deliveries()); got != 4 {
		t.Fatalf("delivered %d, want 4", got)
	}
}

// A pooled session the server closed meanwhile is noticed (RSET fails)
// and replaced by a new connection; the message is sent once.
func TestSMTPReplacesADroppedSession(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{ReadTimeout: 100 * time.Millisecond})
	tr := transport.New(transport.Options{AllowPrivateHosts: true, IdleTimeout: time.Minute})
	defer tr.Close()
	settings := domain.ServerSettings{Host: srv.Host, Port: srv.Port, Encryption: domain.EncryptionNone, Auth: domain.AuthNone, SenderAddress: "x@example.org"}
	msg := transport.Message{From: transport.Mailbox{Address: "x@example.org"}, To: []transport.Mailbox{{Address: "y@example.org"}}, Subject: "s", Text: "t"}
	for i := range 2 {
		if _, err := tr.Send(context.Background(), settings, transport.Credentials{}, msg); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		time.Sleep(300 * time.Millisecond) // the server drops the idle session
	}
	if n, d := srv.Sessions(), len(srv.Deliveries()); n != 2 || d != 2 {
		t.Fatalf("connections %d, deliveries %d; want 2 and 2", n, d)
	}
}
