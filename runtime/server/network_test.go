package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

func connectParams(key, lo, hi string) map[string]any {
	return map[string]any{"agentKey": key, "minProtocol": lo, "maxProtocol": hi}
}

func TestConnectHandshake(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	p := e.dial()

	p.wantError("network/ping", map[string]any{}, -32000)
	p.wantError("agents/lookup", map[string]any{"agentIds": []string{a.ID}}, -32000)

	var hello protocol.HelloOk
	p.mustCall("network/connect", connectParams(a.Key, "0", "9999"), &hello)
	if string(hello.AgentID) != a.ID || string(hello.ProtocolVersion) != protocol.ProtocolVersion {
		t.Fatalf("hello = %+v", hello)
	}
	if hello.Policy.MaxPartsPerMessage != 10 || hello.Policy.HeartbeatIntervalMs != 30000 || hello.Policy.RateLimits.MessagesPerMinute != 60 {
		t.Fatalf("policy = %+v", hello.Policy)
	}
	// A repeat on an authenticated socket is a no-op that answers a fresh HelloOk, even
	// with a wrong key (credentials are not re-checked).
	var again protocol.HelloOk
	p.mustCall("network/connect", connectParams("moltzap_agent_wrong", "0", "9999"), &again)
	if again.AgentID != hello.AgentID {
		t.Fatalf("second connect answered %+v", again)
	}
	var pong protocol.PingResult
	p.mustCall("network/ping", map[string]any{}, &pong)
	if _, err := time.Parse(time.RFC3339Nano, string(pong.Ts)); err != nil || !strings.HasSuffix(string(pong.Ts), "Z") || len(pong.Ts) != len("2026-01-02T15:04:05.000Z") {
		t.Fatalf("ts %q is not a UTC millisecond timestamp", pong.Ts)
	}
}

func TestConnectVersionGate(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.ProtocolVersion = "2026.525.0" })
	a := e.register("alice")
	p := e.dial()
	cases := []struct {
		lo, hi, reason string
	}{
		{"1", "1.0.1", "server-above-client-max"},
		{"2026.600", "2027", "server-below-client-min"},
	}
	for _, c := range cases {
		werr := p.wantError("network/connect", connectParams(a.Key, c.lo, c.hi), -32006)
		var data protocol.ProtocolMismatchData
		if err := json.Unmarshal(werr.Data, &data); err != nil || string(data.Reason) != c.reason || data.ServerVersion != "2026.525.0" ||
			string(data.ClientMinProtocol) != c.lo || string(data.ClientMaxProtocol) != c.hi {
			t.Fatalf("[%s,%s]: data %s, want reason %s", c.lo, c.hi, werr.Data, c.reason)
		}
	}
	// The version gate runs before the credential: a wrong key with a bad range is -32006.
	p.wantError("network/connect", connectParams("moltzap_agent_nope", "3000", "3001"), -32006)
	werr := p.wantError("network/connect", connectParams(a.Key, "2026.x", "2027"), -32602)
	if !strings.Contains(werr.Message, `invalid segment "x"`) {
		t.Fatalf("malformed version message %q", werr.Message)
	}
	p.wantError("network/connect", connectParams(a.Key, "", "2027"), -32602)
	// Equal bounds and a missing trailing segment both bracket 2026.525.0.
	p.mustCall("network/connect", connectParams(a.Key, "2026.525", "2026.525"), nil)
}

func TestConnectCredentials(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	p := e.dial()
	for _, key := range []string{
		"moltzap_agent_wrong",
		"moltzap_agent_0123456789abcdef_" + strings.Repeat("0", 48),
		a.Key[:len(a.Key)-1] + "x",
		strings.Replace(a.Key, a.Key[len(a.Key)-4:], "0000", 1),
	} {
		p.wantError("network/connect", connectParams(key, "0", "9999"), -32000)
	}
	werr := p.wantError("network/connect", map[string]any{"sessionToken": "tok", "minProtocol": "0", "maxProtocol": "9999"}, -32000)
	if !strings.Contains(werr.Message, "Session tokens not supported") {
		t.Fatalf("session token message %q", werr.Message)
	}
	// Both credentials, or neither, is a params error.
	p.wantError("network/connect", map[string]any{"agentKey": a.Key, "sessionToken": "t", "minProtocol": "0", "maxProtocol": "9"}, -32602)
	p.wantError("network/connect", map[string]any{"minProtocol": "0", "maxProtocol": "9"}, -32602)
	// The socket stayed open through all of that: a correct connect still works.
	p.mustCall("network/connect", connectParams(a.Key, "0", "9999"), nil)
}

func TestBadInputTable(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	r := e.dialRaw(transport.Config{})
	r.send(`{"jsonrpc":"2.0","id":"c1","method":"network/connect","params":{"agentKey":"` + a.Key + `","minProtocol":"0","maxProtocol":"9999"}}`)
	if m := r.next(); m["result"] == nil {
		t.Fatalf("connect: %v", m)
	}
	cases := []struct {
		name  string
		frame string
		code  int64
		id    any
	}{
		{"not JSON", `{not json`, -32700, nil},
		{"batch", `[{"jsonrpc":"2.0","id":"x","method":"network/ping"}]`, -32600, nil},
		{"wrong version", `{"jsonrpc":"1.0","id":"v1","method":"network/ping"}`, -32600, "v1"},
		{"numeric id", `{"jsonrpc":"2.0","id":7,"method":"network/ping"}`, -32600, nil},
		{"client notification", `{"jsonrpc":"2.0","method":"network/ping"}`, -32600, nil},
		{"result and error", `{"jsonrpc":"2.0","id":"r1","result":{},"error":{"code":1,"message":"x"}}`, -32600, "r1"},
		{"unknown method", `{"jsonrpc":"2.0","id":"m1","method":"no/such-method","params":{}}`, -32601, "m1"},
		{"retired method", `{"jsonrpc":"2.0","id":"m2","method":"agents/register","params":{}}`, -32601, "m2"},
		{"unknown param", `{"jsonrpc":"2.0","id":"p1","method":"network/ping","params":{"unexpected":1}}`, -32602, "p1"},
		{"params not an object", `{"jsonrpc":"2.0","id":"p2","method":"network/ping","params":[1]}`, -32602, "p2"},
		{"bad uuid", `{"jsonrpc":"2.0","id":"p3","method":"agents/lookup","params":{"agentIds":["nope"]}}`, -32602, "p3"},
		{"huge number (jsonschema/v5 panics on it)", `{"jsonrpc":"2.0","id":"p5","method":"agents/list","params":{"limit":1e1000001}}`, -32602, "p5"},
		{"integral float is an integer, out of range", `{"jsonrpc":"2.0","id":"p6","method":"agents/list","params":{"limit":2.01e2}}`, -32602, "p6"},
		{"too many ids", `{"jsonrpc":"2.0","id":"p4","method":"agents/lookup","params":{"agentIds":[` + strings.Repeat(`"`+a.ID+`",`, 100) + `"` + a.ID + `"]}}`, -32602, "p4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r.send(c.frame)
			code, id := errorCode(t, r.next())
			if code != c.code || id != c.id {
				t.Fatalf("got code %d id %v, want %d id %v", code, id, c.code, c.id)
			}
		})
	}
	// A response to nothing and a null-id response are ignored; the socket stays usable.
	r.send(`{"jsonrpc":"2.0","id":"nobody","result":{}}`)
	r.send(`{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}`)
	r.send(`{"jsonrpc":"2.0","id":"ok","method":"network/ping","params":{}}`)
	if m := r.next(); m["id"] != "ok" || m["result"] == nil {
		t.Fatalf("ping after ignored frames: %v", m)
	}
}

func TestOversizeFrameClosesWith1009(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.ReadLimit = 4096 })
	r := e.dialRaw(transport.Config{})
	r.send(`{"jsonrpc":"2.0","id":"big","method":"network/ping","params":{"x":"` + strings.Repeat("a", 5000) + `"}}`)
	select {
	case info := <-r.closed:
		if info.Code != transport.CloseMessageTooBig {
			t.Fatalf("close %v, want 1009", info)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not close an oversize frame")
	}
}

// TestPresenceVisibilityWithoutContactPolicy: presence/subscribe checks visibility even
// without --contact-policy: strangers are refused with -32005, siblings are watched.
func TestPresenceVisibilityWithoutContactPolicy(t *testing.T) {
	e := newEnv(t)
	owner := "7d0c7a52-0f7e-4b54-9d4c-1f0000000002"
	a, b, stranger := e.register("alice"), e.register("bob"), e.register("eve")
	e.claim(a, owner)
	e.claim(b, owner)
	pa := e.connectAs(a)
	werr := pa.wantError("presence/subscribe", map[string]any{"agentIds": []string{stranger.ID}}, -32005)
	var data protocol.NotInContactsData
	if json.Unmarshal(werr.Data, &data) != nil || len(data.AgentIDs) != 1 || string(data.AgentIDs[0]) != stranger.ID {
		t.Fatalf("refused data %s", werr.Data)
	}
	var res protocol.PresenceSubscribeResult
	pa.mustCall("presence/subscribe", map[string]any{"agentIds": []string{b.ID}}, &res)
	if len(res.Statuses) != 1 || res.Statuses[0].Status != protocol.PresenceStatusOffline {
		t.Fatalf("statuses %+v", res.Statuses)
	}
	e.connectAs(b)
	pa.waitNote("presence/changed", field("agentId", b.ID), nil)
}

func TestPresenceSubscribe(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.ContactPolicy = true })
	owner := "7d0c7a52-0f7e-4b54-9d4c-1f0000000001"
	a, b, stranger := e.register("alice"), e.register("bob"), e.register("eve")
	e.claim(a, owner)
	e.claim(b, owner)
	pa := e.connectAs(a)

	var res protocol.PresenceSubscribeResult
	pa.mustCall("presence/subscribe", map[string]any{"agentIds": []string{b.ID, a.ID}}, &res)
	if len(res.Statuses) != 2 || res.Statuses[0].Status != protocol.PresenceStatusOffline || res.Statuses[1].Status != protocol.PresenceStatusOnline {
		t.Fatalf("statuses %+v", res.Statuses)
	}
	pb := e.connectAs(b)
	pa.waitNote("presence/changed", field("status", "online"), nil)
	// A second connection of bob changes nothing; closing both makes bob offline once.
	pb2 := e.connectAs(b)
	pb.close()
	pb2.close()
	pa.waitNote("presence/changed", field("status", "offline"), nil)
	if n := len(pa.notesOf("presence/changed")); n != 2 {
		t.Fatalf("got %d presence/changed, want exactly online then offline", n)
	}
	// Outside the visibility set: -32005 listing the refused ids, subscriptions unchanged.
	werr := pa.wantError("presence/subscribe", map[string]any{"agentIds": []string{b.ID, stranger.ID}}, -32005)
	var data protocol.NotInContactsData
	if json.Unmarshal(werr.Data, &data) != nil || len(data.AgentIDs) != 1 || string(data.AgentIDs[0]) != stranger.ID {
		t.Fatalf("refused data %s", werr.Data)
	}
	pb3 := e.connectAs(b)
	pa.waitNote("presence/changed", func(raw json.RawMessage) bool {
		return field("status", "online")(raw) && len(pa.notesOf("presence/changed")) == 3
	}, nil)
	// Replace semantics: an empty list unsubscribes from everything.
	pa.mustCall("presence/subscribe", map[string]any{"agentIds": []string{}}, nil)
	pb3.close() // bob goes offline, but alice no longer watches
	pa.noNewNote("presence/changed", nil, 300*time.Millisecond)
	if n := len(pa.notesOf("presence/changed")); n != 3 {
		t.Fatalf("after unsubscribing got %d presence notifications, want 3", n)
	}
	// An unclaimed agent sees only itself.
	ps := e.connectAs(stranger)
	ps.wantError("presence/subscribe", map[string]any{"agentIds": []string{a.ID}}, -32005)
	ps.mustCall("presence/subscribe", map[string]any{"agentIds": []string{stranger.ID}}, nil)
}

func TestRequestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Limits.RequestsPerMinute = 3 })
	a := e.register("alice")
	p := e.connectAs(a) // network/connect itself is not counted: the agent is not known yet
	for i := 0; i < 3; i++ {
		p.mustCall("network/ping", map[string]any{}, nil)
	}
	werr := p.wantError("network/ping", map[string]any{}, -32004)
	var data protocol.RateLimitedData
	if err := json.Unmarshal(werr.Data, &data); err != nil || data.RetryAfterMs <= 0 || data.RetryAfterMs > 20_000 {
		t.Fatalf("rate limit data %s: want retryAfterMs in (0, 20000]", werr.Data)
	}
	// Another agent has its own bucket; the limited socket stays open.
	e.connectAs(e.register("bob")).mustCall("network/ping", map[string]any{}, nil)
	p.wantError("network/ping", map[string]any{}, -32004)
}
