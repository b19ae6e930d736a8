package server

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

func TestNotifyEnvelopeRoundTrip(t *testing.T) {
	in := notifyBody{gate: "conv", opConv: "conv", sub: []protocol.AgentID{"a"}, unsub: []protocol.AgentID{"b", "c"},
		agents: []protocol.AgentID{"a", "b"}, frame: []byte(`{"jsonrpc":"2.0","method":"x"}`)}
	raw := in.appendTo(appendHeader(nil, kindNotify, "node-1"))
	e, err := parseEnvelope(raw)
	if err != nil || e.kind != kindNotify || e.from != "node-1" || time.Since(e.sentAt) > time.Minute {
		t.Fatalf("header: %+v %v", e, err)
	}
	out, err := parseNotifyBody(e.body)
	if err != nil || out.gate != in.gate || out.opConv != in.opConv || !slices.Equal(out.sub, in.sub) ||
		!slices.Equal(out.unsub, in.unsub) || !slices.Equal(out.agents, in.agents) || string(out.frame) != string(in.frame) {
		t.Fatalf("body: %+v %v", out, err)
	}
	// Every truncation is an error, never a panic or a huge allocation.
	for i := range raw {
		if e, err := parseEnvelope(raw[:i]); err == nil {
			if _, err := parseNotifyBody(e.body); err == nil && i < len(raw)-len(in.frame) {
				t.Fatalf("truncated at %d of %d: accepted", i, len(raw))
			}
		}
	}
	if _, _, ok := readIDs[protocol.AgentID]([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}); ok {
		t.Fatal("a count beyond the input was accepted")
	}
}

func TestNodeOfConnAndSubjects(t *testing.T) {
	if got := nodeOfConn("node-1.550e8400-e29b-41d4-a716-446655440000"); got != "node-1" {
		t.Fatalf("nodeOfConn = %q", got)
	}
	if got := nodeOfConn("plain-uuid"); got != "" {
		t.Fatalf("nodeOfConn of an id without node = %q", got)
	}
	if got := appSubject("c1a5-01"); got != "app.c1a5-01" {
		t.Fatalf("appSubject = %q", got)
	}
	if got := appSubject("a.b*"); got != "app.x612e622a" {
		t.Fatalf("appSubject of an unsafe id = %q", got)
	}
}

// TestGapAsksForAFullState: a presence delta whose seq does not follow what was applied
// (here: from a node never heard of) makes the node ask the sender for its full state; the
// full state then replaces what the sender reported.
func TestGapAsksForAFullState(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hub := bus.NewHub()
	s, err := New(Config{Bus: hub.Connect(), NodeID: "real", ClusterHeartbeat: time.Hour}, st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	fake := hub.Connect()
	asks := make(chan envelope, 4)
	if _, err := fake.Subscribe(subjNodePrefix+"fake", func(m bus.Msg) {
		if e, err := parseEnvelope(m.Data); err == nil {
			asks <- e
		}
	}); err != nil {
		t.Fatal(err)
	}
	publish := func(kind byte, body ctlBody) {
		raw, _ := json.Marshal(body)
		if err := fake.Publish(subjCluster, append(appendHeader(nil, kind, "fake"), raw...)); err != nil {
			t.Fatal(err)
		}
	}
	publish(kindPresence, ctlBody{Seq: 7, Agent: "a", Status: protocol.PresenceStatusOnline})
	select {
	case e := <-asks:
		if e.kind != kindSyncReq || e.from != "real" {
			t.Fatalf("got %s from %s, want a sync request from real", kindName(e.kind), e.from)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no sync request after a gap")
	}
	waitStatus := func(id protocol.AgentID, want protocol.PresenceStatus) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); s.presence.Status(id) != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s is %s, want %s", id, s.presence.Status(id), want)
			}
		}
	}
	waitStatus("a", protocol.PresenceStatusOnline) // the delta itself is applied
	publish(kindState, ctlBody{Seq: 9, Agents: map[protocol.AgentID]protocol.PresenceStatus{"b": protocol.PresenceStatusWorking}})
	waitStatus("a", protocol.PresenceStatusOffline)
	waitStatus("b", protocol.PresenceStatusWorking)
	if !s.cluster.holds("b") || s.cluster.holds("a") {
		t.Fatal("the routing directory does not follow the full state")
	}
	publish(kindBye, ctlBody{})
	waitStatus("b", protocol.PresenceStatusOffline)
}
