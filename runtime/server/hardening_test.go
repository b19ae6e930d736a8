package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// waitClosed waits for the server to close r and returns how.
func (r *rawPeer) waitClosed(within time.Duration) transport.CloseInfo {
	r.t.Helper()
	select {
	case info := <-r.closed:
		return info
	case <-time.After(within):
		r.t.Fatalf("the server did not close the socket within %s", within)
		return transport.CloseInfo{}
	}
}

func badConnect(id string) string {
	return `{"jsonrpc":"2.0","id":"` + id + `","method":"network/connect","params":{"agentKey":"moltzap_agent_0123456789abcdef_` +
		strings.Repeat("0", 48) + `","minProtocol":"0","maxProtocol":"9999"}}`
}

// A socket that answers pings but never authenticates is closed with 1008 at the deadline.
func TestAuthTimeoutClosesIdleSocket(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.AuthTimeout = 200 * time.Millisecond
		c.Limits.HeartbeatInterval = 50 * time.Millisecond // pings keep coming; the client answers them
	})
	r := e.dialRaw(transport.Config{})
	r.send(`{"jsonrpc":"2.0","id":"p","method":"network/ping","params":{}}`)
	if code, id := errorCode(t, r.next()); code != -32000 || id != "p" {
		t.Fatalf("unauthenticated ping: %d %v", code, id)
	}
	info := r.waitClosed(5 * time.Second)
	if info.Code != transport.ClosePolicyViolation || !strings.Contains(info.Reason, "authentication timeout") {
		t.Fatalf("close %v, want 1008 authentication timeout", info)
	}
}

// An authenticated socket outlives the deadline.
func TestAuthTimeoutSparesAuthenticated(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AuthTimeout = 200 * time.Millisecond })
	p := e.connectAs(e.register("alice"))
	time.Sleep(500 * time.Millisecond)
	p.mustCall("network/ping", map[string]any{}, nil)
}

// Bad keys on one socket: answered until MaxAuthAttempts, then the socket is closed 1008.
func TestFailedConnectsCloseSocket(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxAuthAttempts, c.MaxUnauthRequests = 5, 1000 })
	r := e.dialRaw(transport.Config{})
	for i := range 5 {
		r.send(badConnect(fmt.Sprint("k", i)))
		if code, id := errorCode(t, r.next()); code != -32000 || id != fmt.Sprint("k", i) {
			t.Fatalf("attempt %d: %d %v", i, code, id)
		}
	}
	// A flood after that gets nowhere: the socket closes.
	for i := range 100 {
		if r.ws.Send([]byte(badConnect(fmt.Sprint("f", i)))) != nil {
			break
		}
	}
	info := r.waitClosed(5 * time.Second)
	if info.Code != transport.ClosePolicyViolation || !strings.Contains(info.Reason, "too many failed authentication attempts") {
		t.Fatalf("close %v, want 1008 too many failed authentication attempts", info)
	}
}

// Any request counts toward MaxUnauthRequests.
func TestUnauthenticatedRequestsCloseSocket(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxUnauthRequests = 3 })
	r := e.dialRaw(transport.Config{})
	for i := range 4 {
		r.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":"p%d","method":"network/ping","params":{}}`, i))
	}
	info := r.waitClosed(5 * time.Second)
	if info.Code != transport.ClosePolicyViolation || !strings.Contains(info.Reason, "too many unauthenticated requests") {
		t.Fatalf("close %v, want 1008 too many unauthenticated requests", info)
	}
}

// Failed connects are limited per remote address across sockets: -32004 with retryAfterMs,
// even for a correct key, before any lookup; the socket stays open.
func TestFailedConnectsLimitedPerAddress(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AuthFailuresPerMinute = 3 })
	a := e.register("alice")
	for i := range 3 { // three sockets, one failure each: the bucket is empty
		e.dial().wantError("network/connect", connectParams(fmt.Sprintf("moltzap_agent_wrong%d", i), "0", "9999"), -32000)
	}
	p := e.dial()
	for _, key := range []string{"moltzap_agent_wrong", a.Key} {
		werr := p.wantError("network/connect", connectParams(key, "0", "9999"), -32004)
		var data protocol.RateLimitedData
		if err := json.Unmarshal(werr.Data, &data); err != nil || data.RetryAfterMs <= 0 || data.RetryAfterMs > 20_000 {
			t.Fatalf("rate limit data %s: want retryAfterMs in (0, 20000]", werr.Data)
		}
	}
	// Successful connects were never charged: once the bucket refills (one token per 20 s
	// here, too slow for a test) alice gets in; a fresh server shows a good key is unaffected.
	e2 := newEnv(t, func(c *server.Config) { c.AuthFailuresPerMinute = 1 })
	b := e2.register("bob")
	for range 3 {
		e2.connectAs(b)
	}
}

// Valid JSON nested beyond wire.MaxDepth is answered -32600 with the request's id, before
// and after authentication, however deep; the socket stays usable.
func TestDeepNestingAnsweredWithID(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	r := e.dialRaw(transport.Config{})
	deep := func(id string, n int) string {
		return `{"jsonrpc":"2.0","id":"` + id + `","method":"network/ping","params":{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`
	}
	check := func(id string, n int) {
		t.Helper()
		r.send(deep(id, n))
		if code, got := errorCode(t, r.next()); code != -32600 || got != id {
			t.Fatalf("nested %d: code %d id %v, want -32600 id %s", n, code, got, id)
		}
	}
	check("pre", 5000)
	r.send(`{"jsonrpc":"2.0","id":"c1","method":"network/connect","params":{"agentKey":"` + a.Key + `","minProtocol":"0","maxProtocol":"9999"}}`)
	if m := r.next(); m["result"] == nil {
		t.Fatalf("connect: %v", m)
	}
	for i, n := range []int{64, 5000, 20000} {
		check(fmt.Sprint("d", i), n)
	}
	r.send(`{"jsonrpc":"2.0","id":"ok","method":"network/ping","params":{}}`)
	if m := r.next(); m["id"] != "ok" || m["result"] == nil {
		t.Fatalf("ping after deep frames: %v", m)
	}
}
