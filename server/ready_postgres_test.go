package server_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/absender/absender/database"
	"github.com/absender/absender/internal/dbtest"
	"github.com/absender/absender/migrations"
	"github.com/absender/absender/server"
	"github.com/absender/absender/server/servertest"
)

// /readyz turns unready when the connection to PostgreSQL is cut and ready
// again when it returns. The connection runs through a TCP proxy this test
// starts and cuts; the machine's PostgreSQL is never touched.
func TestReadinessFollowsDatabaseConnection(t *testing.T) {
	raw := dbtest.NewPostgresDatabase(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() == "" {
		t.Skipf("%s names no TCP host to proxy", dbtest.EnvPostgres)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	p := startProxy(t, net.JoinHostPort(u.Hostname(), port))
	u.Host = p.addr()

	ctx := t.Context()
	db, err := database.Open(ctx, u.String(), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	in := servertest.StartWith(t, db, server.Options{})
	readyz := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(in.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, decode(t, resp.Body)
	}
	waitFor := func(want int, when string) map[string]any {
		t.Helper()
		start := time.Now()
		polls := 0
		for {
			code, body := readyz()
			polls++
			if code == want {
				t.Logf("%s: %d after %s (%d polls)", when, code, time.Since(start).Round(time.Millisecond), polls)
				return body
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("%s: /readyz got %d %v after 20s, want %d", when, code, body, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	waitFor(http.StatusOK, "connected")
	for round := range 2 {
		p.cut()
		body := waitFor(http.StatusServiceUnavailable, "cut")
		checks, _ := body["checks"].(map[string]any)
		if body["status"] != "unready" || checks["database"] != "unreachable" {
			t.Errorf("round %d, cut: got %v, want unready with database unreachable", round, body)
		}
		// Unready for as long as the connection is cut.
		time.Sleep(300 * time.Millisecond)
		if code, body := readyz(); code != http.StatusServiceUnavailable {
			t.Errorf("round %d, still cut: got %d %v, want 503", round, code, body)
		}
		p.restore()
		body = waitFor(http.StatusOK, "restored")
		checks, _ = body["checks"].(map[string]any)
		for name, v := range checks {
			if v != "ok" {
				t.Errorf("round %d, restored: check %q is %v, want ok", round, name, v)
			}
		}
		// And it stays ready: no broken connection left in the pool.
		for range 20 {
			if code, body := readyz(); code != http.StatusOK {
				t.Fatalf("round %d, after recovery: got %d %v, want 200", round, code, body)
			}
		}
	}
}

// proxy forwards TCP connections to target. cut closes every connection
// and refuses new ones (accepted and closed at once) until restore.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.t.Logf("proxy: dial %s: %v", p.target, err)
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// track registers a connection pair unless the proxy was cut meanwhile.
func (p *proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		_, _ = c.Close(), up.Close()
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_, _ = dst.Close(), src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.NewDecoder(r).Decode(&body); err != nil {
		t.Fatalf("/readyz: body is not JSON: %v", err)
	}
	return body
}
