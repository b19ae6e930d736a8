package service_test

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

// liveServer is a real server over a fresh SQLite store behind httptest.
type liveServer struct {
	url   string
	owner string // every agent registered here is claimed by this user
}

func newLiveServer(t *testing.T) *liveServer {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	srv, err := server.New(server.Config{}, st)
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
	return &liveServer{url: hs.URL, owner: uuid.NewString()}
}

// register registers and claims an agent.
func (s *liveServer) register(t *testing.T, prefix string) client.Registration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := prefix + "-" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	reg, err := client.RegisterAgent(ctx, s.url, name, client.RegisterOptions{})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if err := client.Claim(ctx, s.url, reg.ClaimToken, s.owner, ""); err != nil {
		t.Fatalf("claim %s: %v", name, err)
	}
	return reg
}

// dial connects an agent to url with a fast reconnect policy.
func dial(t *testing.T, url, key string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{
		URL: url, AgentKey: key,
		Reconnect: client.Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// proxy is a TCP relay whose connections the test can cut, and which can refuse new
// connections for a while (to keep a client disconnected).
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	paused bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, targetURL string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &proxy{ln: ln, target: strings.TrimPrefix(targetURL, "http://")}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// url is the proxy's http:// base URL.
func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) accept() {
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

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

// cut closes every relayed connection.
func (p *proxy) cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// pause refuses new connections until resume.
func (p *proxy) pause(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
}
