package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// env is a running server over a fresh SQLite store, reachable over real sockets.
type env struct {
	t    *testing.T
	srv  *server.Server
	http *httptest.Server
	ws   string
}

func newEnv(t *testing.T, mod ...func(*server.Config)) *env {
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
	// As moltzap-server serves it: /ws straight from the socket, the rest through net/http.
	hs := httptest.NewUnstartedServer(srv.Handler())
	if hs.Listener, err = srv.Listener(hs.Listener, 0); err != nil {
		t.Fatalf("listener: %v", err)
	}
	hs.Start()
	e := &env{t: t, srv: srv, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
		_ = st.Close()
	})
	return e
}

// agent is a registered agent's credentials.
type agent struct {
	ID, Name, Key, ClaimToken string
}

// post sends a JSON body and decodes the JSON answer.
func (e *env) post(path string, body any) (int, map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.http.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// register creates an agent with a unique name built from prefix.
func (e *env) register(prefix string) agent {
	e.t.Helper()
	name := fmt.Sprintf("%s-%s", prefix, strings.ReplaceAll(uuid.NewString()[:8], "-", ""))
	code, body := e.post("/api/v1/auth/register", map[string]any{"name": name})
	if code != http.StatusCreated {
		e.t.Fatalf("register %s: %d %v", name, code, body)
	}
	return agent{ID: body["agentId"].(string), Name: name, Key: body["apiKey"].(string), ClaimToken: body["claimToken"].(string)}
}

// claim binds the agent to owner.
func (e *env) claim(a agent, owner string) {
	e.t.Helper()
	code, body := e.post("/api/v1/auth/claim", map[string]any{"claimToken": a.ClaimToken, "ownerUserId": owner})
	if code != http.StatusCreated && code != http.StatusOK {
		e.t.Fatalf("claim %s: %d %v", a.Name, code, body)
	}
}

// peer is a raw JSON-RPC client over a real WebSocket that records every notification and
// can answer TaskMaster callbacks.
type peer struct {
	t    *testing.T
	ws   *transport.Conn
	rpc  *rpc.Peer
	done chan struct{}

	mu       sync.Mutex
	notes    []wire.Frame
	changed  chan struct{}
	callback func(method string, params json.RawMessage) (any, error)
}

func (e *env) dial() *peer {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, err := transport.Dial(ctx, e.ws, transport.Config{})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	p := &peer{t: e.t, ws: ws, done: make(chan struct{}), changed: make(chan struct{})}
	p.rpc = rpc.NewPeer(ws, rpc.HandlerFuncs{
		Request:      p.onRequest,
		Notification: p.onNote,
	}, rpc.Options{CallTimeout: 10 * time.Second})
	go func() {
		defer close(p.done)
		ws.Serve(context.Background(), func(b []byte) { p.rpc.HandleFrame(context.Background(), b) })
		p.rpc.Close(nil)
	}()
	e.t.Cleanup(p.close)
	return p
}

// connectAs dials and authenticates.
func (e *env) connectAs(a agent) *peer {
	e.t.Helper()
	p := e.dial()
	p.mustCall("network/connect", map[string]any{"agentKey": a.Key, "minProtocol": "0", "maxProtocol": "9999.9999.9999"}, nil)
	return p
}

func (p *peer) close() {
	_ = p.ws.Close(transport.CloseNormal, "test done")
	<-p.done
}

func (p *peer) onNote(_ context.Context, method string, params json.RawMessage) {
	p.mu.Lock()
	p.notes = append(p.notes, wire.Frame{Kind: wire.KindNotification, Method: method, Params: append(json.RawMessage(nil), params...)})
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *peer) onRequest(_ context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	p.mu.Lock()
	cb := p.callback
	p.mu.Unlock()
	if cb == nil {
		return nil, protocol.MethodNotFoundError{}
	}
	v, err := cb(method, params)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// answer installs the TaskMaster callback handler.
func (p *peer) answer(cb func(method string, params json.RawMessage) (any, error)) {
	p.mu.Lock()
	p.callback = cb
	p.mu.Unlock()
}

// call sends a request; it returns the result or the wire error.
func (p *peer) call(method string, params any) (json.RawMessage, *wire.Error) {
	p.t.Helper()
	raw, err := json.Marshal(params)
	if err != nil {
		p.t.Fatalf("marshal params: %v", err)
	}
	res, err := p.rpc.Call(context.Background(), method, raw)
	if err != nil {
		if we, ok := err.(*wire.Error); ok {
			return nil, we
		}
		p.t.Fatalf("%s: %v", method, err)
	}
	return res, nil
}

// mustCall fails the test on an error response and decodes the result into out (if set).
func (p *peer) mustCall(method string, params any, out any) json.RawMessage {
	p.t.Helper()
	res, werr := p.call(method, params)
	if werr != nil {
		p.t.Fatalf("%s: unexpected error %d %s %s", method, werr.Code, werr.Message, werr.Data)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			p.t.Fatalf("%s: decode result %s: %v", method, res, err)
		}
	}
	return res
}

// wantError fails the test unless the call fails with code.
func (p *peer) wantError(method string, params any, code int64) *wire.Error {
	p.t.Helper()
	res, werr := p.call(method, params)
	if werr == nil {
		p.t.Fatalf("%s: got result %s, want error %d", method, res, code)
	}
	if werr.Code != code {
		p.t.Fatalf("%s: got error %d %q %s, want %d", method, werr.Code, werr.Message, werr.Data, code)
	}
	return werr
}

// waitNote waits for a notification of method whose params satisfy match (nil = any) and
// decodes its params into out (if set).
func (p *peer) waitNote(method string, match func(json.RawMessage) bool, out any) json.RawMessage {
	p.t.Helper()
	deadline := time.After(5 * time.Second)
	seen := 0
	for {
		p.mu.Lock()
		notes, changed := p.notes, p.changed
		p.mu.Unlock()
		for ; seen < len(notes); seen++ {
			n := notes[seen]
			if n.Method == method && (match == nil || match(n.Params)) {
				if err := protocoltest.ValidateReference(mustSchema(method), n.Params); err != nil {
					p.t.Fatalf("%s notification fails its schema: %v", method, err)
				}
				if out != nil {
					if err := json.Unmarshal(n.Params, out); err != nil {
						p.t.Fatalf("decode %s: %v", method, err)
					}
				}
				return n.Params
			}
		}
		select {
		case <-changed:
		case <-deadline:
			p.t.Fatalf("no %s notification within 5s (got %d notifications: %s)", method, len(notes), noteNames(notes))
			return nil
		}
	}
}

// noNote waits d, then asserts that no notification of method matching (nil = any) was
// ever recorded on this peer.
func (p *peer) noNote(method string, match func(json.RawMessage) bool, d time.Duration) {
	p.t.Helper()
	time.Sleep(d)
	for _, n := range p.notesOf(method) {
		if match == nil || match(n) {
			p.t.Fatalf("unexpected %s notification: %s", method, n)
		}
	}
}

// noNewNote asserts that no notification of method matching (nil = any) arrives within d
// beyond those already recorded.
func (p *peer) noNewNote(method string, match func(json.RawMessage) bool, d time.Duration) {
	p.t.Helper()
	count := func() int {
		n := 0
		for _, raw := range p.notesOf(method) {
			if match == nil || match(raw) {
				n++
			}
		}
		return n
	}
	before := count()
	time.Sleep(d)
	if after := count(); after != before {
		p.t.Fatalf("%d unexpected %s notification(s) within %s: %s", after-before, method, d, p.notesOf(method)[before:])
	}
}

// notesOf returns the params of every recorded notification of method.
func (p *peer) notesOf(method string) []json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []json.RawMessage
	for _, n := range p.notes {
		if n.Method == method {
			out = append(out, n.Params)
		}
	}
	return out
}

func noteNames(ns []wire.Frame) string {
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Method
	}
	return strings.Join(names, ",")
}

func mustSchema(method string) string {
	ref, ok := protocoltest.NotificationSchema(method)
	if !ok {
		panic("no schema for notification " + method)
	}
	return ref
}

// field matches notifications whose JSON field key (top level) equals want.
func field(key, want string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return false
		}
		v, _ := m[key].(string)
		return v == want
	}
}
