package transport

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/absender/absender/domain"
)

// smtpConn is an open, authenticated SMTP session.
type smtpConn struct {
	sc   *gosmtp.Client
	conn interface {
		SetDeadline(time.Time) error
		Close() error
	}
	evict *time.Timer
}

// close ends the session politely (QUIT) or, failing that, the connection.
func (c *smtpConn) close() {
	_ = c.conn.SetDeadline(time.Now().Add(2 * time.Second))
	if err := c.sc.Quit(); err != nil {
		_ = c.sc.Close()
	}
	_ = c.conn.Close()
}

// connPool keeps idle SMTP sessions per server and credentials, so a
// burst of messages to one server does not pay a connection, TLS
// handshake and AUTH per message. A session idle longer than the idle
// timeout is closed (servers drop idle clients after a minute or more).
type connPool struct {
	mu      sync.Mutex
	idle    map[string][]*smtpConn
	maxIdle int
	timeout time.Duration
	closed  bool
}

func newConnPool(maxIdle int, timeout time.Duration) *connPool {
	return &connPool{idle: map[string][]*smtpConn{}, maxIdle: maxIdle, timeout: timeout}
}

// poolKey identifies a server and the credentials used on it; the
// password enters only as a hash.
func poolKey(s domain.ServerSettings, creds Credentials) string {
	h := sha256.Sum256([]byte(creds.Password))
	return s.Host + "\x00" + strconv.Itoa(s.Port) + "\x00" + s.Encryption.String() + "\x00" + s.Auth.String() + "\x00" +
		s.Username + "\x00" + strconv.FormatBool(s.SMTPUTF8) + "\x00" + hex.EncodeToString(h[:8])
}

// get takes the most recently used idle session of key (nil: none).
func (p *connPool) get(key string) *smtpConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[key]
	for len(list) > 0 {
		c := list[len(list)-1]
		list = list[:len(list)-1]
		p.idle[key] = list
		if c.evict.Stop() {
			return c
		}
		// The eviction is running: it closes c.
	}
	return nil
}

// put returns a session for reuse, or closes it when the pool is full.
func (p *connPool) put(key string, c *smtpConn) {
	p.mu.Lock()
	if p.closed || p.maxIdle <= 0 || len(p.idle[key]) >= p.maxIdle {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle[key] = append(p.idle[key], c)
	c.evict = time.AfterFunc(p.timeout, func() { p.drop(key, c) })
	p.mu.Unlock()
}

func (p *connPool) drop(key string, c *smtpConn) {
	p.mu.Lock()
	list := p.idle[key]
	for i, x := range list {
		if x == c {
			p.idle[key] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(p.idle[key]) == 0 {
		delete(p.idle, key)
	}
	p.mu.Unlock()
	c.close()
}

// closeAll closes every idle session; later puts close theirs.
func (p *connPool) closeAll() {
	p.mu.Lock()
	p.closed = true
	var all []*smtpConn
	for _, list := range p.idle {
		for _, c := range list {
			if c.evict.Stop() {
				all = append(all, c)
			}
		}
	}
	p.idle = map[string][]*smtpConn{}
	p.mu.Unlock()
	for _, c := range all {
		c.close()
	}
}
