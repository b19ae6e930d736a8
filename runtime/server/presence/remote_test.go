package presence

import (
	"maps"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// localRec records LocalFunc calls.
type localRec struct {
	mu  sync.Mutex
	got []rec
}

func (l *localRec) local(agentID protocol.AgentID, status protocol.PresenceStatus) {
	l.mu.Lock()
	l.got = append(l.got, rec{agentID: agentID, status: status})
	l.mu.Unlock()
}

func (l *localRec) take() []rec {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

func TestAgentOnTwoNodesIsOnlineUntilBothClose(t *testing.T) {
	r, l := &recorder{}, &localRec{}
	e := NewWithLocal(r.emit, l.local)
	e.Connected("w", "w1")
	e.Subscribe("w1", []protocol.AgentID{"a"})
	r.take("w")

	e.SetRemote("n2", "a", online)
	expect(t, r, "a", online)
	e.Connected("a", "a1") // the agent also on this node: no change for watchers
	expect(t, r, "a")
	if got := l.take(); len(got) != 2 || got[1].agentID != "a" || got[1].status != online {
		t.Fatalf("local reports = %v, want w online then a online", got)
	}
	e.Disconnected("a1")
	expect(t, r, "a") // still on n2
	expectStatus(t, e, "a", online)
	if got := l.take(); len(got) != 1 || got[0].status != offline {
		t.Fatalf("local reports = %v, want a offline here", got)
	}
	e.SetRemote("n2", "a", working)
	expect(t, r, "a", working)
	e.SetRemote("n2", "a", offline)
	expect(t, r, "a", offline)
	if got := l.take(); len(got) != 0 {
		t.Fatalf("remote changes reported as local: %v", got)
	}
}

func TestWorkingAnywhereIsWorking(t *testing.T) {
	e, r := newEngine()
	e.Connected("a", "a1")
	expect(t, r, "a", online)
	e.SetRemote("n2", "a", working)
	expect(t, r, "a", working)
	e.SetActivity("a1", 1)
	e.SetRemote("n2", "a", online)
	expect(t, r, "a") // still working here
	e.SetActivity("a1", 0)
	expect(t, r, "a", online)
}

func TestDropNodeTakesItsAgentsOffline(t *testing.T) {
	e, r := newEngine()
	e.SetRemote("n2", "a", online)
	e.SetRemote("n2", "b", working)
	e.SetRemote("n3", "b", online)
	e.Connected("c", "c1")
	e.SetRemote("n2", "c", online)
	if n := e.RemoteNodes(); n != 2 {
		t.Fatalf("RemoteNodes = %d, want 2", n)
	}
	r.take("a")
	r.take("b")
	r.take("c")
	e.DropNode("n2")
	expect(t, r, "a", offline)
	expect(t, r, "b", online) // n3 still holds it
	expect(t, r, "c")         // held here
	if n := e.RemoteNodes(); n != 1 {
		t.Fatalf("RemoteNodes after drop = %d, want 1", n)
	}
	e.DropNode("n3")
	e.Disconnected("c1")
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.agents)+len(e.nodes) != 0 {
		t.Fatalf("leftover state: agents=%d nodes=%d", len(e.agents), len(e.nodes))
	}
}

func TestReplaceRemoteIsAFullState(t *testing.T) {
	e, r := newEngine()
	e.SetRemote("n2", "a", online)
	e.SetRemote("n2", "b", online)
	r.take("a")
	r.take("b")
	e.ReplaceRemote("n2", map[protocol.AgentID]protocol.PresenceStatus{"b": working, "c": online})
	expect(t, r, "a", offline)
	expect(t, r, "b", working)
	expect(t, r, "c", online)
}

func TestSnapshotIsOrderedWithLocalChanges(t *testing.T) {
	var mu sync.Mutex
	var log []string
	e := NewWithLocal(nil, func(agentID protocol.AgentID, status protocol.PresenceStatus) {
		mu.Lock()
		log = append(log, string(agentID)+"="+string(status))
		mu.Unlock()
	})
	e.Connected("a", "a1")
	e.SetActivity("a1", 1)
	e.SetRemote("n2", "z", online) // not ours: not in the snapshot
	var snap map[protocol.AgentID]protocol.PresenceStatus
	e.Snapshot(func(m map[protocol.AgentID]protocol.PresenceStatus) {
		mu.Lock()
		log = append(log, "snapshot")
		mu.Unlock()
		snap = m
	})
	e.Disconnected("a1")
	want := []string{"a=online", "a=working", "snapshot", "a=offline"}
	mu.Lock()
	defer mu.Unlock()
	if len(log) != len(want) {
		t.Fatalf("order = %v, want %v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Fatalf("order = %v, want %v", log, want)
		}
	}
	if !maps.Equal(snap, map[protocol.AgentID]protocol.PresenceStatus{"a": working}) {
		t.Fatalf("snapshot = %v, want a working", snap)
	}
}
