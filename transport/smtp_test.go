package transport_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/absender/absender/domain"
	"github.com/absender/absender/transport"
	"github.com/absender/absender/transport/smtptest"
)

func smtpSettings(srv *smtptest.Server, enc domain.Encryption) domain.ServerSettings {
	return domain.ServerSettings{
		Host:          srv.Host,
		Port:          srv.Port,
		Encryption:    enc,
		Auth:          domain.AuthNone,
		SenderAddress: "noreply@absender.test",
	}
}

func newTransport(srv *smtptest.Server) *transport.Transport {
	opts := transport.Options{AllowPrivateHosts: true, ConnectTimeout: 5 * time.Second, SendTimeout: 10 * time.Second, HELOName: "client.test"}
	if srv != nil && srv.Cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Cert)
		opts.TLSConfig = &tls.Config{RootCAs: pool}
	}
	return transport.New(opts)
}

func fullMessage() transport.Message {
	return transport.Message{
		From:    transport.Mailbox{Name: "Jürgen Müller", Address: "juergen@absender.test"},
		ReplyTo: transport.Mailbox{Name: "Support", Address: "support@absender.test"},
		To:      []transport.Mailbox{{Name: "Ann", Address: "ann@example.test"}, {Address: "bob@bücher.test"}},
		Cc:      []transport.Mailbox{{Address: "carol@example.test"}},
		Bcc:     []transport.Mailbox{{Address: "dave@example.test"}},
		Subject: "Grüße aus Köln – 日本語",
		Text:    "Hallo Welt",
		HTML:    "<p>Hallo Welt</p>",
		Attachments: []transport.Attachment{
			{Filename: "report.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)},
			{Filename: "notes.txt", ContentType: "text/plain", Data: []byte("some notes\n")},
		},
	}
}

// TestSMTPDelivers sends one full message over each encryption (R4) and
// checks the envelope (R22: MAIL FROM is the From address, Bcc only in
// RCPT), the IDNA-encoded domain (R5) and the headers and parts received.
func TestSMTPDelivers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    smtptest.Mode
		enc     domain.Encryption
		wantTLS bool
	}{
		{"none", smtptest.PlainText, domain.EncryptionNone, false},
		{"starttls", smtptest.StartTLS, domain.EncryptionSTARTTLS, true},
		{"implicit tls", smtptest.ImplicitTLS, domain.EncryptionTLS, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Config{Mode: tc.mode})
			res, err := newTransport(srv).Send(t.Context(), smtpSettings(srv, tc.enc), transport.Credentials{}, fullMessage())
			if err != nil {
				t.Fatalf("Send: got %v, want nil", err)
			}
			if res.Code != 250 || len(res.Refused) != 0 {
				t.Errorf("result: got code %d refused %v, want 250 and none", res.Code, res.Refused)
			}
			if !strings.HasPrefix(res.MessageID, "<") || !strings.HasSuffix(res.MessageID, "@absender.test>") {
				t.Errorf("message id: got %q, want <uuid@absender.test>", res.MessageID)
			}
			ds := srv.Deliveries()
			if len(ds) != 1 {
				t.Fatalf("deliveries: got %d, want 1", len(ds))
			}
			d := ds[0]
			if d.TLS != tc.wantTLS {
				t.Errorf("TLS: got %v, want %v", d.TLS, tc.wantTLS)
			}
			checkEnvelope(t, d)
			checkHeadersAndParts(t, d.Data, res.MessageID)
		})
	}
}

func checkEnvelope(t *testing.T, d smtptest.Delivery) {
	t.Helper()
	if d.From != "juergen@absender.test" {
		t.Errorf("MAIL FROM: got %q, want the From address", d.From)
	}
	want := []string{"ann@example.test", "bob@xn--bcher-kva.test", "carol@example.test", "dave@example.test"}
	if !slices.Equal(d.Rcpts, want) {
		t.Errorf("RCPT TO: got %v, want %v", d.Rcpts, want)
	}
}

func checkHeadersAndParts(t *testing.T, data []byte, messageID string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse received message: %v", err)
	}
	h := m.Header
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Jürgen Müller" || from.Address != "juergen@absender.test" {
		t.Errorf("From: got %q (%v), want Jürgen Müller <juergen@absender.test>", h.Get("From"), err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "ann@example.test" || to[1].Address != "bob@xn--bcher-kva.test" {
		t.Errorf("To: got %q, want ann and bob (IDNA)", h.Get("To"))
	}
	if cc := h.Get("Cc"); !strings.Contains(cc, "carol@example.test") {
		t.Errorf("Cc: got %q, want carol", cc)
	}
	if bcc, ok := h["Bcc"]; ok || strings.Contains(string(data), "dave@") {
		t.Errorf("Bcc: got header %q / dave in message, want absent (R22)", bcc)
	}
	if rt := h.Get("Reply-To"); !strings.Contains(rt, "support@absender.test") {
		t.Errorf("Reply-To: got %q, want support@absender.test", rt)
	}
	if got := h.Get("Message-Id"); got != messageID {
		t.Errorf("Message-ID: got %q, want %q", got, messageID)
	}
	rawSubject := h.Get("Subject")
	if !strings.Contains(rawSubject, "=?UTF-8?") {
		t.Errorf("Subject: got %q, want RFC 2047 encoded words", rawSubject)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != "Grüße aus Köln – 日本語" {
		t.Errorf("decoded Subject: got %q (%v), want the UTF-8 subject", subject, err)
	}

	atts := map[string][]byte{}
	var bodies []string
	walkParts(t, h.Get("Content-Type"), m.Body, atts, &bodies)
	if got := atts["report.pdf"]; !bytes.Equal(got, bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)) {
		t.Errorf("attachment report.pdf: got %d bytes, want the 4000 bytes sent", len(got))
	}
	if got := string(atts["notes.txt"]); got != "some notes\n" {
		t.Errorf("attachment notes.txt: got %q, want %q", got, "some notes\n")
	}
	if !slices.ContainsFunc(bodies, func(b string) bool { return strings.Contains(b, "<p>Hallo Welt</p>") }) {
		t.Errorf("bodies: got %q, want the HTML alternative", bodies)
	}
}

// walkParts collects attachments (decoded) by file name and text bodies.
func walkParts(t *testing.T, contentType string, body io.Reader, atts map[string][]byte, bodies *[]string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(body)
		*bodies = append(*bodies, string(b))
		return
	}
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		if p.FileName() != "" {
			var rd io.Reader = p
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
				rd = base64.NewDecoder(base64.StdEncoding, p)
			}
			b, err := io.ReadAll(rd)
			if err != nil {
				t.Fatalf("read attachment %s: %v", p.FileName(), err)
			}
			atts[p.FileName()] = b
			continue
		}
		walkParts(t, p.Header.Get("Content-Type"), p, atts, bodies)
	}
}

// TestSMTPAuth checks PASSWORD auth (R4): PLAIN preferred, LOGIN when it is
// the only mechanism, and a wrong password is a permanent failure whose
// text does not contain the password (SPEC §3).
func TestSMTPAuth(t *testing.T) {
	const secret = "s3cr3t-Pa55word"
	for _, tc := range []struct {
		name      string
		mode      smtptest.Mode
		mechs     []string
		password  string
		wantMech  string
		wantError bool
	}{
		{"plain preferred", smtptest.PlainText, []string{"LOGIN", "PLAIN"}, secret, "PLAIN", false},
		{"login only", smtptest.PlainText, []string{"LOGIN"}, secret, "LOGIN", false},
		{"plain over starttls", smtptest.StartTLS, []string{"PLAIN"}, secret, "PLAIN", false},
		{"wrong password", smtptest.PlainText, []string{"PLAIN"}, secret + "-wrong", "PLAIN", true},
		{"wrong password login", smtptest.PlainText, []string{"LOGIN"}, secret + "-wrong", "LOGIN", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Config{Mode: tc.mode, Mechs: tc.mechs, Users: map[string]string{"mailer": secret}})
			enc := domain.EncryptionNone
			if tc.mode == smtptest.StartTLS {
				enc = domain.EncryptionSTARTTLS
			}
			s := smtpSettings(srv, enc)
			s.Auth, s.Username = domain.AuthPassword, "mailer"
			_, err := newTransport(srv).Send(t.Context(), s, transport.Credentials{Password: tc.password}, simpleMessage())

			auths := srv.Auths()
			if len(auths) != 1 || auths[0] != (smtptest.AuthAttempt{Mech: tc.wantMech, Username: "mailer", Password: tc.password}) {
				t.Errorf("auth attempts: got %+v, want one %s as mailer with the given password", auths, tc.wantMech)
			}
			if !tc.wantError {
				if err != nil {
					t.Fatalf("Send: got %v, want nil", err)
				}
				if n := len(srv.Deliveries()); n != 1 {
					t.Errorf("deliveries: got %d, want 1", n)
				}
				return
			}
			var te *transport.Error
			if !errors.As(err, &te) {
				t.Fatalf("Send: got %v, want *transport.Error", err)
			}
			if te.Temporary || te.Code != 535 {
				t.Errorf("error: got temporary=%v code=%d, want permanent 535", te.Temporary, te.Code)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error text %q contains the password", err.Error())
			}
			if n := len(srv.Deliveries()); n != 0 {
				t.Errorf("deliveries: got %d, want 0", n)
			}
		})
	}
}

func simpleMessage() transport.Message {
	return transport.Message{
		From:    transport.Mailbox{Address: "sender@absender.test"},
		To:      []transport.Mailbox{{Address: "ann@example.test"}},
		Subject: "hello",
		Text:    "hello",
	}
}

// TestSMTPFailureClassification checks R23: 4xx is temporary (the saga
// retries: two 451 then success), 5xx permanent, a closed port temporary.
func TestSMTPFailureClassification(t *testing.T) {
	t.Run("451 twice then accepted", func(t *testing.T) {
		tempErr := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		srv := smtptest.Start(t, smtptest.Config{DataReplies: []error{tempErr, tempErr, nil}})
		tr := newTransport(srv)
		for attempt := 1; attempt <= 3; attempt++ {
			res, err := tr.Send(t.Context(), smtpSettings(srv, domain.EncryptionNone), transport.Credentials{}, simpleMessage())
			if attempt < 3 {
				var te *transport.Error
				if !errors.As(err, &te) || !te.Temporary || te.Code != 451 {
					t.Fatalf("attempt %d: got %v, want temporary *Error with code 451", attempt, err)
				}
				continue
			}
			if err != nil || res.Code != 250 {
				t.Fatalf("attempt 3: got %+v, %v, want 250", res, err)
			}
		}
		if n := len(srv.Deliveries()); n != 1 {
			t.Errorf("deliveries: got %d, want 1", n)
		}
	})
	t.Run("550 permanent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Config{DataReplies: []error{&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected by policy"}}})
		_, err := newTransport(srv).Send(t.Context(), smtpSettings(srv, domain.EncryptionNone), transport.Credentials{}, simpleMessage())
		var te *transport.Error
		if !errors.As(err, &te) || te.Temporary || te.Code != 550 {
			t.Fatalf("Send: got %v, want permanent *Error with code 550", err)
		}
	})
	t.Run("closed port temporary", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().(*net.TCPAddr)
		_ = l.Close()
		s := domain.ServerSettings{Host: "127.0.0.1", Port: addr.Port, Encryption: domain.EncryptionNone, Auth: domain.AuthNone}
		_, err = newTransport(nil).Send(t.Context(), s, transport.Credentials{}, simpleMessage())
		var te *transport.Error
		if !errors.As(err, &te) || !te.Temporary || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("Send: got %v, want temporary *Error caused by ECONNREFUSED", err)
		}
	})
	t.Run("send timeout temporary", func(t *testing.T) {
		hang := make(chan struct{})
		srv := smtptest.Start(t, smtptest.Config{Hang: hang})
		t.Cleanup(func() { close(hang) })
		tr := transport.New(transport.Options{AllowPrivateHosts: true, SendTimeout: 300 * time.Millisecond})
		_, err := tr.Send(t.Context(), smtpSettings(srv, domain.EncryptionNone), transport.Credentials{}, simpleMessage())
		var te *transport.Error
		if !errors.As(err, &te) || !te.Temporary {
			t.Fatalf("Send: got %v, want temporary *Error", err)
		}
	})
	t.Run("starttls required but not offered is permanent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Config{Mode: smtptest.PlainText})
		_, err := newTransport(srv).Send(t.Context(), smtpSettings(srv, domain.EncryptionSTARTTLS), transport.Credentials{}, simpleMessage())
		var te *transport.Error
		if !errors.As(err, &te) || te.Temporary {
			t.Fatalf("Send: got %v, want permanent *Error", err)
		}
		if n := len(srv.Deliveries()); n != 0 {
			t.Errorf("deliveries: got %d, want 0", n)
		}
	})
	t.Run("untrusted certificate is permanent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Config{Mode: smtptest.ImplicitTLS})
		tr := transport.New(transport.Options{AllowPrivateHosts: true}) // system roots only
		_, err := tr.Send(t.Context(), smtpSettings(srv, domain.EncryptionTLS), transport.Credentials{}, simpleMessage())
		var te *transport.Error
		if !errors.As(err, &te) || te.Temporary {
			t.Fatalf("Send: got %v, want permanent *Error", err)
		}
	})
}

// TestSMTPRefusedRecipient checks that one refused recipient is reported in
// the Result while the others get the message (R23 MessageSent).
func TestSMTPRefusedRecipient(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{Refuse: map[string]*smtp.SMTPError{
		"bob@example.test": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
	}})
	m := simpleMessage()
	m.To = []transport.Mailbox{{Address: "ann@example.test"}, {Address: "bob@example.test"}}
	m.Bcc = []transport.Mailbox{{Address: "carol@example.test"}}
	res, err := newTransport(srv).Send(t.Context(), smtpSettings(srv, domain.EncryptionNone), transport.Credentials{}, m)
	if err != nil {
		t.Fatalf("Send: got %v, want nil", err)
	}
	if len(res.Refused) != 1 || res.Refused[0].Recipient != "bob@example.test" || res.Refused[0].Code != 550 || res.Refused[0].Temporary {
		t.Errorf("refused: got %+v, want bob with permanent 550", res.Refused)
	}
	ds := srv.Deliveries()
	if len(ds) != 1 || !slices.Equal(ds[0].Rcpts, []string{"ann@example.test", "carol@example.test"}) {
		t.Errorf("delivered to: got %+v, want ann and carol", ds)
	}
}

// TestSMTPUTF8 checks R5: an internationalised local part goes out with
// SMTPUTF8 when the settings say smtpUtf8 and the server offers it, and
// is refused permanently otherwise.
func TestSMTPUTF8(t *testing.T) {
	m := simpleMessage()
	m.To = []transport.Mailbox{{Address: "山田太郎@株式.会社"}}
	for _, tc := range []struct {
		name             string
		settings, server bool
		wantErr          bool
	}{
		{"both", true, true, false},
		{"settings without smtpUtf8", false, true, true},
		{"server without SMTPUTF8", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Config{SMTPUTF8: tc.server})
			s := smtpSettings(srv, domain.EncryptionNone)
			s.SMTPUTF8 = tc.settings
			_, err := newTransport(srv).Send(t.Context(), s, transport.Credentials{}, m)
			if tc.wantErr {
				var te *transport.Error
				if !errors.As(err, &te) || te.Temporary {
					t.Fatalf("Send: got %v, want permanent *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: got %v, want nil", err)
			}
			ds := srv.Deliveries()
			if len(ds) != 1 || !ds[0].UTF8 || !slices.Equal(ds[0].Rcpts, []string{"山田太郎@xn--w0tp6r.xn--6oq404h"}) {
				t.Errorf("delivery: got %+v, want SMTPUTF8 and the punycode domain", ds)
			}
		})
	}
}

// TestSMTPBareIPv6Host: R4 an IPv6 host is dialled in brackets, whether the
// settings hold it bare (the normal form) or, stored before there was one,
// in brackets. A bare "::1" used to fail every attempt with "too many
// colons in address".
func TestSMTPBareIPv6Host(t *testing.T) {
	for _, host := range []string{"::1", "[::1]"} {
		t.Run(host, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Config{Listen: "[::1]:0"})
			s := smtpSettings(srv, domain.EncryptionNone)
			s.Host = host
			if _, err := newTransport(srv).Send(t.Context(), s, transport.Credentials{}, fullMessage()); err != nil {
				t.Fatalf("Send to host %q: got %v, want nil", host, err)
			}
			if got := len(srv.Deliveries()); got != 1 {
				t.Errorf("deliveries: got %d, want 1", got)
			}
		})
	}
}
