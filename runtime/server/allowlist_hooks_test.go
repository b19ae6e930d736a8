package server_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
)

func registerApp(p *peer, appID string) (bool, int64, string) {
	p.t.Helper()
	_, werr := p.call("apps/register", map[string]any{"manifest": map[string]any{"appId": appID, "name": "allowlisted"}})
	if werr != nil {
		return false, werr.Code, werr.Message
	}
	return true, 0, ""
}

// TestAppAllowlist: a listed app may be registered only by its listed owners' agents;
// unlisted apps stay first-come without "*".
func TestAppAllowlist(t *testing.T) {
	listed, unlisted := uuid.NewString(), uuid.NewString()
	e := newEnv(t, func(c *server.Config) {
		c.AppAllowlist = map[protocol.AppID][]protocol.UserID{protocol.AppID(listed): {ownerA}}
	})
	good, bad, unclaimed := e.register("good"), e.register("bad"), e.register("unclaimed")
	e.claim(good, ownerA)
	e.claim(bad, ownerB)
	pb, pu, pg := e.connectAs(bad), e.connectAs(unclaimed), e.connectAs(good)

	for name, p := range map[string]*peer{"other owner": pb, "unclaimed": pu} {
		ok, code, msg := registerApp(p, listed)
		if ok || code != protocol.CodeForbidden || msg != "App "+listed+" is not allowed for this owner" {
			t.Fatalf("%s: register listed app: ok=%v %d %q, want -32001 not allowed", name, ok, code, msg)
		}
	}
	if ok, code, msg := registerApp(pg, listed); !ok {
		t.Fatalf("listed owner: %d %q", code, msg)
	}
	if ok, code, msg := registerApp(pb, unlisted); !ok {
		t.Fatalf("unlisted app without *: %d %q, want first-come success", code, msg)
	}
	if ok, code, _ := registerApp(pu, unlisted); ok || code != protocol.CodeForbidden { // already taken
		t.Fatalf("second registration of an unlisted app: ok=%v %d", ok, code)
	}
	if ok, code, _ := registerApp(pg, server.DefaultAppID); ok || code != protocol.CodeForbidden {
		t.Fatalf("default app: ok=%v %d", ok, code)
	}
}

// TestAppAllowlistWildcard: with "*" only listed apps (or "*"'s owners) may register.
func TestAppAllowlistWildcard(t *testing.T) {
	listed := uuid.NewString()
	e := newEnv(t, func(c *server.Config) {
		c.AppAllowlist = map[protocol.AppID][]protocol.UserID{protocol.AppID(listed): {ownerB}, server.AllowlistWildcard: {ownerA}}
	})
	a, b := e.register("a"), e.register("b")
	e.claim(a, ownerA)
	e.claim(b, ownerB)
	pa, pb := e.connectAs(a), e.connectAs(b)
	other := uuid.NewString()
	if ok, code, _ := registerApp(pb, other); ok || code != protocol.CodeForbidden {
		t.Fatalf("unlisted app by a non-* owner: ok=%v %d, want -32001", ok, code)
	}
	if ok, code, msg := registerApp(pa, other); !ok {
		t.Fatalf("unlisted app by a * owner: %d %q", code, msg)
	}
	if ok, code, _ := registerApp(pa, listed); ok || code != protocol.CodeForbidden {
		t.Fatalf("listed app by a * owner not in its list: ok=%v %d, want -32001", ok, code)
	}
	if ok, code, msg := registerApp(pb, listed); !ok {
		t.Fatalf("listed app by its owner: %d %q", code, msg)
	}
}

func hookConnect(a agent) map[string]any {
	return map[string]any{"agentKey": a.Key, "minProtocol": "0", "maxProtocol": "9999.9999.9999"}
}

// TestOnConnectRefuses: a refusing hook answers the connect with its message and nothing is
// registered (the socket stays unauthenticated); it sees the agent and its owner.
func TestOnConnectRefuses(t *testing.T) {
	var mu sync.Mutex
	var seen []server.ConnInfo
	e := newEnv(t, func(c *server.Config) {
		c.OnConnect = func(_ context.Context, info server.ConnInfo) error {
			mu.Lock()
			seen = append(seen, info)
			mu.Unlock()
			if info.Owner == ownerB {
				return errors.New("owner B is banned")
			}
			if info.Owner == ownerA {
				return protocol.UnauthorizedError{Message: "come back later"}
			}
			return nil
		}
		c.OnDisconnect = func(info server.ConnInfo) { t.Errorf("disconnect hook for a refused connection: %+v", info) }
	})
	banned, later := e.register("banned"), e.register("later")
	e.claim(banned, ownerB)
	e.claim(later, ownerA)
	p := e.dial()
	werr := p.wantError("network/connect", hookConnect(banned), protocol.CodeForbidden)
	if werr.Message != "owner B is banned" {
		t.Fatalf("message %q", werr.Message)
	}
	p.wantError("agents/list", map[string]any{}, protocol.CodeUnauthorized) // nothing registered
	werr = p.wantError("network/connect", hookConnect(later), protocol.CodeUnauthorized)
	if werr.Message != "come back later" {
		t.Fatalf("message %q", werr.Message)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || string(seen[0].AgentID) != banned.ID || seen[0].Owner != ownerB || seen[0].ConnID == "" ||
		seen[0].RemoteAddr == "" || seen[0].ConnectedAt.IsZero() || time.Since(seen[0].ConnectedAt) > time.Minute {
		t.Fatalf("hook saw %+v", seen)
	}
	p.close()
	time.Sleep(100 * time.Millisecond) // a disconnect hook would have run by now
}

// TestOnConnectTimeout: a hook that outlives its 2 s context refuses the connection.
func TestOnConnectTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	e := newEnv(t, func(c *server.Config) {
		c.OnConnect = func(ctx context.Context, _ server.ConnInfo) error {
			select { // ignores ctx on purpose: the server must stop waiting anyway
			case <-release:
			case <-time.After(10 * time.Second):
			}
			return nil
		}
	})
	a := e.register("slow")
	p := e.dial()
	start := time.Now()
	werr := p.wantError("network/connect", hookConnect(a), protocol.CodeForbidden)
	if d := time.Since(start); d < 1900*time.Millisecond || d > 4*time.Second {
		t.Fatalf("refused after %s, want about 2s", d)
	}
	if !strings.Contains(werr.Message, "timed out") {
		t.Fatalf("message %q", werr.Message)
	}
	p.wantError("agents/list", map[string]any{}, protocol.CodeUnauthorized)
}

// TestOnDisconnect: the hook runs once per admitted connection with its agent, even for
// two connections of the same agent.
func TestOnDisconnect(t *testing.T) {
	var mu sync.Mutex
	connected := map[string]server.ConnInfo{}
	disconnected := map[string][]server.ConnInfo{}
	changed := make(chan struct{}, 16)
	e := newEnv(t, func(c *server.Config) {
		c.OnConnect = func(_ context.Context, info server.ConnInfo) error {
			mu.Lock()
			connected[info.ConnID] = info
			mu.Unlock()
			return nil
		}
		c.OnDisconnect = func(info server.ConnInfo) {
			mu.Lock()
			disconnected[info.ConnID] = append(disconnected[info.ConnID], info)
			mu.Unlock()
			changed <- struct{}{}
		}
	})
	a, b := e.register("a"), e.register("b")
	e.claim(a, ownerA)
	pa1, pa2, pb := e.connectAs(a), e.connectAs(a), e.connectAs(b)
	unauth := e.dial() // never authenticates: no hook
	pa1.close()
	pb.close()
	pa2.close()
	unauth.close()
	for range 3 {
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			t.Fatal("disconnect hook not called for every connection")
		}
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(connected) != 3 || len(disconnected) != 3 {
		t.Fatalf("connected %d, disconnected %d, want 3 and 3", len(connected), len(disconnected))
	}
	perAgent := map[string]int{}
	for id, infos := range disconnected {
		if len(infos) != 1 {
			t.Fatalf("connection %s: disconnect hook ran %d times", id, len(infos))
		}
		got, want := infos[0], connected[id]
		if got != want {
			t.Fatalf("disconnect info %+v, connect info %+v", got, want)
		}
		perAgent[string(got.AgentID)]++
	}
	if perAgent[a.ID] != 2 || perAgent[b.ID] != 1 {
		t.Fatalf("per agent %v", perAgent)
	}
}

// TestOnDisconnectDoesNotBlockShutdown: a hook that never returns does not hold Shutdown.
func TestOnDisconnectDoesNotBlockShutdown(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	called := make(chan struct{}, 1)
	e := newEnv(t, func(c *server.Config) {
		c.OnDisconnect = func(server.ConnInfo) { called <- struct{}{}; <-block }
	})
	_ = e.connectAs(e.register("a"))
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("shutdown took %s", d)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("disconnect hook not called on shutdown")
	}
}
