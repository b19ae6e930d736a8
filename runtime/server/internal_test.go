package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// TestPromoteRollsBackOnClosedConnection: a connection that closed while network/connect
// was in flight is not promoted; nothing is left in the endpoint resolver.
func TestPromoteRollsBackOnClosedConnection(t *testing.T) {
	m := newConnManager()
	c := &Conn{id: "c1"}
	m.add(c)
	m.remove(c) // the socket ended first
	a := store.Agent{ID: "a1", Status: protocol.AgentStatusActive}
	if m.promote(c, a, []protocol.ConversationID{"conv"}) {
		t.Fatal("a closed connection was promoted")
	}
	if c.Authenticated() || len(m.ofAgent("a1")) != 0 || m.online("a1") {
		t.Fatal("a failed promotion left the connection registered")
	}
	// An open connection is promoted once; a second promotion changes nothing.
	d := &Conn{id: "c2"}
	m.add(d)
	if !m.promote(d, a, []protocol.ConversationID{"conv"}) || !d.Authenticated() || !d.subscribed("conv") || len(m.ofAgent("a1")) != 1 {
		t.Fatal("promotion of an open connection failed")
	}
	if m.promote(d, store.Agent{ID: "other"}, nil) || d.AgentID() != "a1" {
		t.Fatal("an authenticated connection was promoted again")
	}
	if agent := m.remove(d); agent != "a1" || m.online("a1") {
		t.Fatalf("remove returned %q, online %v", agent, m.online("a1"))
	}
}

// BenchmarkDispatchPing measures one request through the generated dispatch table and the
// server's handler, without sockets.
func BenchmarkDispatchPing(b *testing.B) {
	st, err := sqlite.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := New(Config{}, st)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	c := &Conn{id: "bench", srv: s, authed: true, agentID: "a", status: protocol.AgentStatusActive}
	params := json.RawMessage(`{}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.dispatcher.Dispatch(ctx, c, "network/ping", params); err != nil {
			b.Fatal(err)
		}
	}
}
