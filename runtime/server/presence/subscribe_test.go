package presence

import (
	"slices"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func entries(pairs ...string) []protocol.PresenceEntry {
	var out []protocol.PresenceEntry
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, protocol.PresenceEntry{AgentID: protocol.AgentID(pairs[i]), Status: protocol.PresenceStatus(pairs[i+1])})
	}
	return out
}

func TestSubscribeReturnsStatusesInOrder(t *testing.T) {
	e, _ := newEngine()
	e.Connected("w", "w1")
	e.Connected("a", "a1")
	e.Connected("b", "b1")
	e.SetActivity("b1", 1)

	got := e.Subscribe("w1", []protocol.AgentID{"c", "b", "a", "b"})
	want := entries("c", "offline", "b", "working", "a", "online", "b", "working")
	if !slices.Equal(got, want) {
		t.Fatalf("Subscribe = %v, want %v", got, want)
	}

	got = e.Subscribe("w1", nil)
	if got == nil || len(got) != 0 {
		t.Fatalf("Subscribe(nil) = %#v, want empty non-nil", got)
	}
}

func TestSubscribeReplaceSemantics(t *testing.T) {
	e, r := newEngine()
	e.Connected("w", "w1")
	e.Subscribe("w1", []protocol.AgentID{"a", "b"})
	e.Subscribe("w1", []protocol.AgentID{"b", "c", "c"})

	e.Connected("a", "a1")
	e.Connected("b", "b1")
	e.Connected("c", "c1")
	if got := expect(t, r, "a", online); got[0].subs != nil {
		t.Fatalf("dropped watch still notified: %v", got[0].subs)
	}
	if got := expect(t, r, "b", online); !slices.Equal(got[0].subs, []string{"w1"}) {
		t.Fatalf("b subscribers = %v", got[0].subs)
	}
	if got := expect(t, r, "c", online); !slices.Equal(got[0].subs, []string{"w1"}) {
		t.Fatalf("c subscribers = %v (duplicates must be watched once)", got[0].subs)
	}

	// Idempotent.
	e.Subscribe("w1", []protocol.AgentID{"b", "c"})
	e.Subscribe("w1", []protocol.AgentID{"b", "c"})
	e.Disconnected("c1")
	if got := expect(t, r, "c", offline); !slices.Equal(got[0].subs, []string{"w1"}) {
		t.Fatalf("c subscribers = %v", got[0].subs)
	}

	// Empty list unsubscribes from everything.
	e.Subscribe("w1", []protocol.AgentID{})
	e.Disconnected("b1")
	if got := expect(t, r, "b", offline); got[0].subs != nil {
		t.Fatalf("after unsubscribe-all: %v", got[0].subs)
	}
}

func TestSubscriptionsVanishOnDisconnect(t *testing.T) {
	e, r := newEngine()
	e.Connected("w", "w1")
	e.Connected("w", "w2")
	e.Subscribe("w1", []protocol.AgentID{"a"})
	e.Subscribe("w2", []protocol.AgentID{"a"})
	e.Disconnected("w1")

	e.Connected("a", "a1")
	if got := expect(t, r, "a", online); !slices.Equal(got[0].subs, []string{"w2"}) {
		t.Fatalf("subscribers = %v, want [w2]", got[0].subs)
	}

	// A connection that watches its own agent is not told about its own
	// closing.
	e.Subscribe("a1", []protocol.AgentID{"a"})
	e.Disconnected("a1")
	if got := expect(t, r, "a", offline); !slices.Equal(got[0].subs, []string{"w2"}) {
		t.Fatalf("subscribers = %v, want [w2]", got[0].subs)
	}
}

func TestSubscribeFromDeadConnection(t *testing.T) {
	e, r := newEngine()
	e.Connected("a", "a1")
	got := e.Subscribe("gone", []protocol.AgentID{"a"})
	if want := entries("a", "online"); !slices.Equal(got, want) {
		t.Fatalf("Subscribe = %v, want %v", got, want)
	}
	r.take("a")
	e.Disconnected("a1")
	if got := expect(t, r, "a", offline); got[0].subs != nil {
		t.Fatalf("dead connection recorded as subscriber: %v", got[0].subs)
	}
	e.mu.Lock()
	n := len(e.watchers)
	e.mu.Unlock()
	if n != 0 {
		t.Fatalf("watchers left: %d", n)
	}
}
