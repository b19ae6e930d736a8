package presence

import (
	"slices"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestUnknownAgentIsOffline(t *testing.T) {
	e, r := newEngine()
	expectStatus(t, e, "nobody", offline)
	e.Disconnected("nope")
	e.SetActivity("nope", 3)
	expect(t, r, "nobody")
}

func TestFirstConnectOnlineLastDisconnectOffline(t *testing.T) {
	e, r := newEngine()
	e.Connected("a", "c1")
	expect(t, r, "a", online)
	expectStatus(t, e, "a", online)

	e.Connected("a", "c2")
	expect(t, r, "a") // second connection: no change
	e.Connected("a", "c2")
	expect(t, r, "a") // repeated Connected: no-op

	e.Disconnected("c1")
	expect(t, r, "a") // one connection left
	expectStatus(t, e, "a", online)

	e.Disconnected("c2")
	expect(t, r, "a", offline)
	expectStatus(t, e, "a", offline)

	e.Disconnected("c2")
	expect(t, r, "a") // double disconnect: nothing

	e.Connected("a", "c3")
	expect(t, r, "a", online)
}

func TestWorkingViaActivity(t *testing.T) {
	e, r := newEngine()
	e.Connected("a", "c1")
	e.Connected("a", "c2")
	expect(t, r, "a", online)

	e.SetActivity("c1", 1)
	expect(t, r, "a", working)
	expectStatus(t, e, "a", working)

	e.SetActivity("c1", 3) // still busy: deduplicated
	e.SetActivity("c2", 1) // second busy connection: still working
	expect(t, r, "a")

	e.SetActivity("c1", 0)
	expect(t, r, "a") // c2 still busy
	e.SetActivity("c2", 0)
	expect(t, r, "a", online)

	e.SetActivity("c2", -4) // negative counts as zero
	expect(t, r, "a")
	expectStatus(t, e, "a", online)
}

func TestBusyConnectionClosing(t *testing.T) {
	e, r := newEngine()
	e.Connected("a", "c1")
	e.Connected("a", "c2")
	e.SetActivity("c2", 2)
	expect(t, r, "a", online, working)

	e.Disconnected("c2") // the busy connection goes: re-derived from c1
	expect(t, r, "a", online)

	e.SetActivity("c1", 1)
	e.Disconnected("c1") // last connection, busy: straight to offline
	expect(t, r, "a", working, offline)
}

func TestActivityOnDeadConnectionIgnored(t *testing.T) {
	e, r := newEngine()
	e.SetActivity("ghost", 1)
	expect(t, r, "a")
	expectStatus(t, e, "a", offline)

	e.Connected("a", "c1")
	e.Connected("a", "c2")
	e.Disconnected("c2")
	expect(t, r, "a", online)

	e.SetActivity("c2", 1) // c2 already gone
	expect(t, r, "a")
	expectStatus(t, e, "a", online)

	// A later connection reusing nothing from c2 starts idle.
	e.Connected("a", "c2")
	expect(t, r, "a")
	expectStatus(t, e, "a", online)
}

func TestEmitReceivesExactlySubscribers(t *testing.T) {
	e, r := newEngine()
	e.Connected("w", "w1")
	e.Connected("w", "w2")
	e.Connected("x", "x1")
	e.Subscribe("w1", []protocol.AgentID{"a"})
	e.Subscribe("x1", []protocol.AgentID{"a", "b"})
	e.Subscribe("w2", []protocol.AgentID{"b"})

	e.Connected("a", "a1")
	got := expect(t, r, "a", online)
	if want := []string{"w1", "x1"}; !slices.Equal(got[0].subs, want) {
		t.Fatalf("subscribers = %v, want %v", got[0].subs, want)
	}

	e.Connected("b", "b1")
	got = expect(t, r, "b", online)
	if want := []string{"w2", "x1"}; !slices.Equal(got[0].subs, want) {
		t.Fatalf("subscribers = %v, want %v", got[0].subs, want)
	}

	got = expect(t, r, "w", online)
	if got[0].subs != nil {
		t.Fatalf("unwatched agent: subscribers = %v, want none", got[0].subs)
	}
}

func TestNilEmit(t *testing.T) {
	e := New(nil)
	e.Connected("a", "c1")
	e.SetActivity("c1", 1)
	expectStatus(t, e, "a", working)
	e.Disconnected("c1")
	expectStatus(t, e, "a", offline)
}

func TestEmitMayCallBack(t *testing.T) {
	var e *Engine
	var seen []protocol.PresenceStatus
	e = New(func(agentID protocol.AgentID, status protocol.PresenceStatus, _ []string) {
		// Re-entrant calls must not deadlock; the nested change is
		// delivered after this one.
		seen = append(seen, e.Status(agentID))
		if status == online && agentID == "a" {
			e.Connected("b", "b1")
		}
	})
	e.Connected("a", "a1")
	want := []protocol.PresenceStatus{online, online}
	if !slices.Equal(seen, want) {
		t.Fatalf("seen = %v, want %v", seen, want)
	}
	expectStatus(t, e, "b", online)
}

func TestEmitPanicDoesNotWedge(t *testing.T) {
	r := &recorder{}
	fail := true
	e := New(func(agentID protocol.AgentID, status protocol.PresenceStatus, subs []string) {
		if fail {
			fail = false
			panic("boom")
		}
		r.emit(agentID, status, subs)
	})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic was swallowed")
			}
		}()
		e.Connected("a", "a1")
	}()
	expectStatus(t, e, "a", online)
	e.SetActivity("a1", 1)
	expect(t, r, "a", working)
}

func TestMemoryReleased(t *testing.T) {
	e, _ := newEngine()
	e.Connected("a", "a1")
	e.Connected("b", "b1")
	e.Subscribe("a1", []protocol.AgentID{"b", "c"})
	e.SetActivity("b1", 1)
	e.Disconnected("a1")
	e.Disconnected("b1")
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.conns)+len(e.agents)+len(e.watchers) != 0 {
		t.Fatalf("leftover state: conns=%d agents=%d watchers=%d", len(e.conns), len(e.agents), len(e.watchers))
	}
}
