// Package clienttest holds what the client packages' end-to-end tests share: a real server
// in-process over a fresh SQLite store, agent registration, and a TCP proxy whose
// connections a test can cut to force a reconnect.
package clienttest

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// Server is a running server behind httptest; it stops with the test.
type Server struct {
	URL   string // http:// base URL
	Owner string // every agent Register creates is claimed by this user
}

// NewServer starts a server over a fresh store; mod adjusts its configuration.
func NewServer(t testing.TB, mod ...func(*server.Config)) *Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cfg := server.Config{}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := server.New(cfg, st)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		_ = st.Close()
	})
	return &Server{URL: hs.URL, Owner: uuid.NewString()}
}

// UniqueName returns a valid agent name that no other call returns.
func UniqueName(prefix string) string {
	return prefix + "-" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
}

// Register registers an agent named after prefix and claims it for s.Owner.
func (s *Server) Register(t testing.TB, prefix string) client.Registration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := UniqueName(prefix)
	reg, err := client.RegisterAgent(ctx, s.URL, name, client.RegisterOptions{})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if err := client.Claim(ctx, s.URL, reg.ClaimToken, s.Owner, ""); err != nil {
		t.Fatalf("claim %s: %v", name, err)
	}
	return reg
}

// Proxy relays TCP connections to a target. Cut closes every relayed connection (the
// client sees a socket ending without a close handshake, 1006); Pause refuses new ones.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	paused bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

// NewProxy relays to targetURL (http://host:port) until the test ends.
func NewProxy(t testing.TB, targetURL string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: strings.TrimPrefix(targetURL, "http://")}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// URL is the proxy's http:// base URL.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			_ = in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

// Cut closes every relayed connection, both sides.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Pause refuses new connections while on is true.
func (p *Proxy) Pause(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
}
