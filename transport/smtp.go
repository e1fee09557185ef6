package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/absender/absender/domain"
)

// sendSMTP delivers p through an SMTP server (R4). go-mail connects,
// greets, negotiates TLS and authenticates; the transaction itself is
// driven here on go-mail's SMTP client so that a recipient the server
// refuses does not stop delivery to the others.
func (t *Transport) sendSMTP(ctx context.Context, s domain.ServerSettings, creds Credentials, p *prepared) (Result, error) {
	if s.Host == "" {
		return Result{}, permanent(0, "server settings have no host")
	}
	key := poolKey(s, creds)
	pc := t.pool.get(key)
	if pc != nil {
		// A pooled connection may have been closed by the server: RSET
		// proves it alive, else a fresh one is dialled.
		_ = pc.conn.SetDeadline(time.Now().Add(t.opts.ConnectTimeout))
		if err := pc.sc.Reset(); err != nil {
			pc.close()
			pc = nil
		}
	}
	if pc == nil {
		var err error
		if pc, err = t.dialSMTP(ctx, s, creds); err != nil {
			return Result{}, err
		}
	}
	// The connection deadline is the send deadline, and a cancelled
	// context interrupts any read or write.
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(t.opts.SendTimeout)
	}
	_ = pc.conn.SetDeadline(dl)
	interrupted := false
	stop := context.AfterFunc(ctx, func() { _ = pc.conn.SetDeadline(time.Unix(1, 0)) })
	res, err := transact(pc.sc, s, p)
	if !stop() {
		interrupted = true
	}
	if err != nil || interrupted {
		pc.close()
		return res, err
	}
	_ = pc.conn.SetDeadline(time.Time{})
	t.pool.put(key, pc)
	return res, nil
}

// dialSMTP connects, says EHLO, starts TLS and authenticates as s says.
func (t *Transport) dialSMTP(ctx context.Context, s domain.ServerSettings, creds Credentials) (*smtpConn, error) {
	port := s.EffectivePort()
	host := domain.NormalHost(s.Host) // settings stored before R4 had one form may hold "[::1]"
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	tlsConf := t.tlsConfig(host)

	var (
		mu   sync.Mutex
		conn net.Conn
	)
	// go-mail joins host and port with "%s:%d", which a bare IPv6 address
	// turns into "::1:25" ("too many colons"): dial addr instead (R4).
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		c, err := t.dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if s.Encryption == domain.EncryptionTLS { // implicit TLS (go-mail's WithSSL ignores a custom dialer)
			tc := tls.Client(c, tlsConf)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
				return nil, err
			}
			c = tc
		}
		mu.Lock()
		conn = c
		mu.Unlock()
		return c, nil
	}

	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(t.opts.ConnectTimeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(tlsConf),
		gomail.WithTLSPolicy(gomail.NoTLS),
	}
	if s.Encryption == domain.EncryptionSTARTTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if t.opts.HELOName != "" {
		opts = append(opts, gomail.WithHELO(t.opts.HELOName))
	}
	if !s.SMTPUTF8 {
		opts = append(opts, gomail.WithoutSMTPUTF8())
	}
	var auth *passwordAuth
	if s.Auth == domain.AuthPassword {
		auth = &passwordAuth{host: host, username: s.Username, password: creds.Password}
		opts = append(opts, gomail.WithSMTPAuthCustom(auth))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, permanent(0, "smtp client: "+err.Error())
	}

	sc, err := client.DialToSMTPClientWithContext(ctx)
	mu.Lock()
	c := conn
	mu.Unlock()
	if err != nil {
		if c != nil {
			_ = c.Close() // go-mail leaves it open when EHLO, STARTTLS or AUTH fail
		}
		if auth != nil && auth.started {
			return nil, authFailure(err)
		}
		return nil, classify("connect to "+addr, err)
	}
	return &smtpConn{sc: sc, conn: c}, nil
}

// transact runs MAIL FROM, RCPT TO for every recipient, and DATA.
func transact(sc *gosmtp.Client, s domain.ServerSettings, p *prepared) (Result, error) {
	if p.needsUTF8 {
		if ok, _ := sc.Extension("SMTPUTF8"); !ok || !s.SMTPUTF8 {
			return Result{}, permanent(0, "message has an internationalised address but the server settings or the server do not support SMTPUTF8 (R5)")
		}
	}
	msg, err := buildMIME(p)
	if err != nil {
		return Result{}, err
	}

	if err := sc.Mail("<" + p.from.addr + ">"); err != nil {
		return Result{}, classify("MAIL FROM", err)
	}
	var refused []Refusal
	for _, rcpt := range p.recipients {
		err := sc.Rcpt("<" + rcpt + ">")
		var pe *textproto.Error
		switch {
		case err == nil:
		case errors.As(err, &pe):
			refused = append(refused, Refusal{Recipient: rcpt, Code: pe.Code, Reply: pe.Msg, Temporary: pe.Code >= 400 && pe.Code < 500})
		default:
			return Result{}, classify("RCPT TO", err)
		}
	}
	if len(refused) == len(p.recipients) {
		_ = sc.Reset()
		e := &Error{Code: refused[0].Code, Reason: "every recipient was refused: " + describe(refused)}
		e.Temporary = slices.ContainsFunc(refused, func(r Refusal) bool { return r.Temporary })
		return Result{}, e
	}

	w, err := sc.Data()
	if err != nil {
		return Result{}, classify("DATA", err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		_ = w.Close()
		return Result{}, classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return Result{}, classify("end of DATA", err)
	}
	reply := ""
	if dc, ok := w.(*gosmtp.DataCloser); ok {
		reply = dc.ServerResponse()
	}
	return Result{Code: 250, Reply: reply, MessageID: "<" + p.messageID + ">", Refused: refused}, nil
}

func describe(rs []Refusal) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s (%d %s)", r.Recipient, r.Code, r.Reply)
	}
	return strings.Join(parts, ", ")
}

// buildMIME renders the message with go-mail. Bcc recipients are not
// added: they are in the envelope only (R22). Non-ASCII subjects and
// display names are RFC 2047 encoded by go-mail.
func buildMIME(p *prepared) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(&mail.Address{Name: p.from.name, Address: p.from.addr})
	addrs := func(ws []wireAddress) []*mail.Address {
		out := make([]*mail.Address, len(ws))
		for i, w := range ws {
			out[i] = &mail.Address{Name: w.name, Address: w.addr}
		}
		return out
	}
	if len(p.to) > 0 {
		m.ToMailAddress(addrs(p.to)...)
	}
	if len(p.cc) > 0 {
		m.CcMailAddress(addrs(p.cc)...)
	}
	if p.replyTo != nil {
		m.ReplyToMailAddress(&mail.Address{Name: p.replyTo.name, Address: p.replyTo.addr})
	}
	m.Subject(p.msg.Subject)
	m.SetMessageIDWithValue(p.messageID)
	m.SetDate()
	switch {
	case p.msg.Text != "" && p.msg.HTML != "":
		m.SetBodyString(gomail.TypeTextPlain, p.msg.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, p.msg.HTML)
	case p.msg.HTML != "":
		m.SetBodyString(gomail.TypeTextHTML, p.msg.HTML)
	default:
		m.SetBodyString(gomail.TypeTextPlain, p.msg.Text)
	}
	for _, a := range p.msg.Attachments {
		if err := m.AttachReader(a.Filename, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(contentType(a)))); err != nil {
			return nil, permanent(0, fmt.Sprintf("attachment %q: %v", a.Filename, err))
		}
	}
	return m, nil
}

func (t *Transport) tlsConfig(host string) *tls.Config {
	c := t.opts.TLSConfig.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	c.ServerName = strings.Trim(host, "[]")
	return c
}

// passwordAuth is PASSWORD auth (R4): AUTH PLAIN when the server offers
// it, else AUTH LOGIN. The settings decide whether the connection is
// encrypted, so credentials are sent as configured.
type passwordAuth struct {
	host, username, password string
	started                  bool
	mech                     gosmtp.Auth
}

func (a *passwordAuth) Start(info *gosmtp.ServerInfo) (string, []byte, error) {
	a.started = true
	switch {
	case slices.Contains(info.Auth, "PLAIN"):
		a.mech = gosmtp.PlainAuth("", a.username, a.password, a.host, true)
	case slices.Contains(info.Auth, "LOGIN"):
		a.mech = gosmtp.LoginAuth(a.username, a.password, a.host, true)
	default:
		return "", nil, fmt.Errorf("server offers neither AUTH PLAIN nor AUTH LOGIN (offers %q)", strings.Join(info.Auth, " "))
	}
	return a.mech.Start(info)
}

func (a *passwordAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.mech.Next(fromServer, more)
}

// authFailure classifies a failed AUTH: permanent (R23), except a 4xx
// reply such as 454 "temporary authentication failure".
func authFailure(err error) *Error {
	var pe *textproto.Error
	if errors.As(err, &pe) {
		e := smtpReply("SMTP authentication", pe)
		return e
	}
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if c := classify("SMTP authentication", err); c.Temporary {
		return c // the connection broke during AUTH
	}
	return permanent(0, "SMTP authentication: "+err.Error())
}
