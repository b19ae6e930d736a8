package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// loopback answers every request frame a Peer sends with the frame reply(id) returns, as
// a TaskMaster would, and records the params it saw.
type loopback struct {
	peer  *rpc.Peer
	reply func(id string) []byte
	mu    sync.Mutex
	seen  []json.RawMessage
}

func (l *loopback) Send(frame []byte) error {
	var req struct {
		ID     string          `json:"id"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(frame, &req); err != nil {
		return err
	}
	l.mu.Lock()
	l.seen = append(l.seen, req.Params)
	l.mu.Unlock()
	go l.peer.HandleFrame(context.Background(), l.reply(req.ID))
	return nil
}

func newLoopbackConn(t *testing.T, reply func(id string) []byte) (*Conn, *loopback) {
	t.Helper()
	lb := &loopback{reply: reply}
	lb.peer = rpc.NewPeer(lb, nil, rpc.Options{Role: rpc.RoleServer, IDPrefix: "srv-test", CallTimeout: -1})
	t.Cleanup(func() { lb.peer.Close(nil) })
	return &Conn{id: "tm", srv: &Server{metrics: newMetrics()}, peer: lb.peer}, lb
}

// TestCallbackInvoker: encoded params go out byte for byte, other values are encoded, a
// valid result decodes through the typed client, an error response becomes its registry
// type and a result that fails its schema is an error (the callers fail closed on it).
func TestCallbackInvoker(t *testing.T) {
	ctx := context.Background()
	grant := func(id string) []byte {
		return wire.EncodeResult(id, json.RawMessage(`{"admission":{"decision":"grant"}}`))
	}
	c, lb := newLoopbackConn(t, grant)
	inv := callbackInvoker{c}

	raw := json.RawMessage(`{"already":"encoded"}`)
	if _, err := inv.Invoke(ctx, protocol.CallbackDispatchAuthorize, raw); err != nil {
		t.Fatalf("Invoke(raw): %v", err)
	}
	if _, err := inv.Invoke(ctx, protocol.CallbackDispatchAuthorize, map[string]int{"n": 1}); err != nil {
		t.Fatalf("Invoke(map): %v", err)
	}
	if got := string(lb.seen[0]); got != string(raw) {
		t.Fatalf("raw params sent as %s", got)
	}
	if got := string(lb.seen[1]); got != `{"n":1}` {
		t.Fatalf("map params sent as %s", got)
	}

	tm := protocol.NewTaskMasterClient(inv)
	res, err := tm.DispatchAuthorize(ctx, protocol.DispatchAuthorizeParams{})
	if err != nil {
		t.Fatalf("DispatchAuthorize: %v", err)
	}
	if _, ok := res.Admission.(protocol.DispatchGrant); !ok {
		t.Fatalf("admission %T, want DispatchGrant", res.Admission)
	}

	lb.reply = func(id string) []byte {
		return wire.EncodeError(&id, wire.Error{Code: protocol.CodeForbidden, Message: "no"})
	}
	_, err = tm.DispatchAuthorize(ctx, protocol.DispatchAuthorizeParams{})
	var forbidden protocol.ForbiddenError
	if !errors.As(err, &forbidden) || forbidden.Message != "no" {
		t.Fatalf("error response = %v (%T), want ForbiddenError", err, err)
	}

	lb.reply = func(id string) []byte {
		return wire.EncodeResult(id, json.RawMessage(`{"admission":{"decision":"maybe"}}`))
	}
	if res, err := tm.DispatchAuthorize(ctx, protocol.DispatchAuthorizeParams{}); err == nil {
		t.Fatalf("invalid result accepted: %+v", res)
	}
}
