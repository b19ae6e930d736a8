package presence

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// TestConcurrentUse hammers the engine from many goroutines and checks that
// each agent's event stream is deduplicated, alternates consistently and
// ends at the agent's final status.
func TestConcurrentUse(t *testing.T) {
	e, r := newEngine()
	const agents, connsPerAgent, rounds = 8, 4, 200

	e.Connected("watcher", "w")
	var ids []protocol.AgentID
	for a := range agents {
		ids = append(ids, protocol.AgentID(fmt.Sprintf("agent-%d", a)))
	}
	e.Subscribe("w", ids)

	var wg sync.WaitGroup
	for a := range agents {
		for c := range connsPerAgent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				agentID := ids[a]
				for i := range rounds {
					connID := fmt.Sprintf("%s/%d/%d", agentID, c, i)
					e.Connected(agentID, connID)
					e.SetActivity(connID, i%3)
					e.Status(agentID)
					e.Subscribe(connID, ids[:1+(i%agents)])
					e.SetActivity(connID, 0)
					e.Disconnected(connID)
				}
			}()
		}
	}
	wg.Wait()

	for _, id := range ids {
		evs := r.take(id)
		if len(evs) == 0 {
			t.Fatalf("%s: no events", id)
		}
		prev := offline
		for i, ev := range evs {
			if ev.status == prev {
				t.Fatalf("%s: event %d repeats status %s", id, i, prev)
			}
			if !slices.Contains(ev.subs, "w") {
				t.Fatalf("%s: event %d misses the watcher: %v", id, i, ev.subs)
			}
			prev = ev.status
		}
		if prev != offline {
			t.Fatalf("%s: last event %s, want offline", id, prev)
		}
		expectStatus(t, e, id, offline)
	}
	e.Disconnected("w")
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.conns)+len(e.agents)+len(e.watchers)+len(e.pending) != 0 {
		t.Fatalf("leftover state: conns=%d agents=%d watchers=%d pending=%d",
			len(e.conns), len(e.agents), len(e.watchers), len(e.pending))
	}
}
