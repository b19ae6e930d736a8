package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// TestKeyRotationEndsOldSessions: rotating an agent's key (admin registration of an existing
// name) closes the sockets authenticated with the old key, 1008 "credentials revoked".
func TestKeyRotationEndsOldSessions(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AdminSecret = "s3cret" })
	body := map[string]any{"name": "rot-bot", "inviteCode": "s3cret", "ownerUserId": "5b0e7c1a-3d2f-4e6a-9b8c-1f2e3d4c5b6a"}
	code, first := e.post("/api/v1/admin/register-agent", body)
	if code != 201 {
		t.Fatalf("admin create: %d %v", code, first)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := transport.Dial(ctx, e.ws, transport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	frames := make(chan []byte, 4)
	closed := make(chan transport.CloseInfo, 1)
	go func() { closed <- ws.Serve(ctx, func(b []byte) { frames <- append([]byte(nil), b...) }) }()
	hello, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "c-1", "method": "network/connect",
		"params": connectParams(first["apiKey"].(string), "0", "9999")})
	if err := ws.Send(hello); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-frames:
		if !strings.Contains(string(b), `"result"`) {
			t.Fatalf("connect: %s", b)
		}
	case <-ctx.Done():
		t.Fatal("no connect answer")
	}
	if code, rotated := e.post("/api/v1/admin/register-agent", body); code != 200 {
		t.Fatalf("rotate: %d %v", code, rotated)
	}
	select {
	case info := <-closed:
		if info.Code != transport.ClosePolicyViolation || info.Reason != "credentials revoked" {
			t.Fatalf("closed with %v, want 1008 credentials revoked", info)
		}
	case <-ctx.Done():
		t.Fatal("the socket of the rotated key stayed open")
	}
}
