package channel_test

import (
	"context"
	"net/http/httptest"
	"strings"
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

// dial connects an agent.
func (s *liveServer) dial(t *testing.T, key string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{URL: s.url, AgentKey: key})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
