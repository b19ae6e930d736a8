package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// fakeConn is the server side of one connection to the fake server.
type fakeConn struct {
	conn   *transport.Conn
	peer   *rpc.Peer
	closed chan transport.CloseInfo // how the socket ended, seen from the server
}

// fakeServer is a minimal server speaking just network/connect, to observe what the client
// sends and to send it frames the real server never sends.
type fakeServer struct {
	url   string
	conns chan *fakeConn
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{conns: make(chan *fakeConn, 4)}
	hello, _ := json.Marshal(protocol.HelloOk{
		ProtocolVersion: protocol.ProtocolVersion,
		AgentID:         protocol.AgentID(uuid.NewString()),
		Policy: protocol.Policy{MaxMessageBytes: 65536, MaxPartsPerMessage: 10, MaxTextLength: 32768,
			MaxGroupParticipants: 256, HeartbeatIntervalMs: 30000,
			RateLimits: protocol.RateLimits{MessagesPerMinute: 60, RequestsPerMinute: 120}},
	})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := transport.Upgrade(w, r, transport.Config{})
		if err != nil {
			return
		}
		fc := &fakeConn{conn: conn, closed: make(chan transport.CloseInfo, 1)}
		fc.peer = rpc.NewPeer(conn, rpc.HandlerFuncs{Request: func(_ context.Context, method string, _ json.RawMessage) (json.RawMessage, error) {
			if method == protocol.MethodNetworkConnect {
				return hello, nil
			}
			return json.RawMessage(`{}`), nil
		}}, rpc.Options{Role: rpc.RoleServer})
		f.conns <- fc
		fc.closed <- conn.Serve(context.Background(), func(b []byte) { fc.peer.HandleFrame(context.Background(), b) })
		fc.peer.Close(nil)
	}))
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

var fakeKey = client.Registration{APIKey: "moltzap_agent_0123456789abcdef_" + "000000000000000000000000000000000000000000000000"}

// TestCloseIdempotent checks that Close sends 1000 "normal", is idempotent, ends calls with
// ErrNotConnected and closes Done.
func TestCloseIdempotent(t *testing.T) {
	f := newFakeServer(t)
	c := dialURL(t, f.url, fakeKey)
	fc := recv(t, f.conns, "server connection")
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	info := recv(t, fc.closed, "server-side close")
	if info.Code != transport.CloseNormal || info.Reason != "normal" || info.Local {
		t.Fatalf("server saw %v, want a peer close 1000 normal", info)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	recv(t, c.Done(), "Done")
	if c.State() != client.Closed {
		t.Fatalf("state = %v", c.State())
	}
	if _, err := c.NetworkPing(context.Background(), protocol.NetworkPingParams{}); !errors.Is(err, client.ErrNotConnected) {
		t.Fatalf("call after Close: err = %v", err)
	}
	if _, err := c.SetPresenceWatch(context.Background(), nil); !errors.Is(err, client.ErrNotConnected) {
		t.Fatalf("SetPresenceWatch after Close: err = %v", err)
	}
}

// TestMalformedFramesDropped sends frames a client must drop (REFERENCE 2.5): bad JSON,
// invalid frames, notifications failing their schema or unknown, a request to a plain
// agent client. Valid notifications around them are delivered in order.
func TestMalformedFramesDropped(t *testing.T) {
	f := newFakeServer(t)
	c := dialURL(t, f.url, fakeKey)
	fc := recv(t, f.conns, "server connection")
	got := make(chan protocol.Notification, 8)
	c.OnAny(func(n protocol.Notification) { got <- n })

	agent := uuid.NewString()
	presence := func(status string) []byte {
		return []byte(`{"jsonrpc":"2.0","method":"presence/changed","params":{"agentId":"` + agent + `","status":"` + status + `"}}`)
	}
	frames := [][]byte{
		presence("online"),
		[]byte(`{not json`),
		[]byte(`[{"jsonrpc":"2.0","method":"presence/changed"}]`),
		[]byte(`{"jsonrpc":"2.0","method":"presence/changed","params":{"agentId":"x","status":"sleeping"}}`),
		[]byte(`{"jsonrpc":"2.0","method":"no/such","params":{}}`),
		presence("working"),
	}
	for _, fr := range frames {
		if err := fc.conn.Send(fr); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	// A request outside the callback catalog is answered -32601, not executed.
	_, err := fc.peer.Call(ctxFor(t, 5*time.Second), "task/create", json.RawMessage(`{}`))
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeMethodNotFound {
		t.Fatalf("callback to an agent client: err = %v, want -32601", err)
	}

	first := recv(t, got, "first notification").(protocol.PresenceChangedNotification)
	second := recv(t, got, "second notification").(protocol.PresenceChangedNotification)
	if first.Status != protocol.PresenceStatusOnline || second.Status != protocol.PresenceStatusWorking {
		t.Fatalf("delivered %+v then %+v", first, second)
	}
	waitUntil(t, "5 malformed frames are counted", func() bool { return c.MalformedCount() == 5 })
}

// TestUnknownCallback checks that a TaskMaster answers a callback outside the catalog with
// -32601 and serves the catalog's callbacks.
func TestUnknownCallback(t *testing.T) {
	f := newFakeServer(t)
	ctx := ctxFor(t, 5*time.Second)
	tm, err := client.DialTaskMaster(ctx, options(f.url, fakeKey), &tmHandlers{})
	if err != nil {
		t.Fatalf("DialTaskMaster: %v", err)
	}
	defer tm.Close()
	fc := recv(t, f.conns, "server connection")

	_, err = fc.peer.Call(ctx, "agents/list", json.RawMessage(`{}`))
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeMethodNotFound {
		t.Fatalf("unknown callback: err = %v, want -32601", err)
	}
	params, _ := json.Marshal(protocol.TaskCreateParams{TaskID: protocol.TaskID(uuid.NewString()),
		InitiatorAgentID: protocol.AgentID(uuid.NewString()), InvitedAgentIDs: []protocol.AgentID{}})
	raw, err := fc.peer.Call(ctx, protocol.CallbackTaskCreate, params)
	if err != nil {
		t.Fatalf("task/create: %v", err)
	}
	res, err := protocol.Decode[protocol.TaskCreateResult](raw)
	if err != nil {
		t.Fatalf("decode verdict: %v", err)
	}
	if _, ok := res.Verdict.(protocol.TaskCreateAccept); !ok {
		t.Fatalf("verdict = %#v", res.Verdict)
	}
	// Bad params are refused by the dispatcher's validation.
	_, err = fc.peer.Call(ctx, protocol.CallbackTaskCreate, json.RawMessage(`{"taskId":1}`))
	if !errors.As(err, &we) || we.Code != wire.CodeInvalidParams {
		t.Fatalf("bad params: err = %v, want -32602", err)
	}
}
