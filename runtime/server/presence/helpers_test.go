package presence

import (
	"slices"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

const (
	online  = protocol.PresenceStatusOnline
	working = protocol.PresenceStatusWorking
	offline = protocol.PresenceStatusOffline
)

// rec is one recorded emit call.
type rec struct {
	agentID protocol.AgentID
	status  protocol.PresenceStatus
	subs    []string
}

// recorder collects emit calls.
type recorder struct {
	mu     sync.Mutex
	events []rec
}

func (r *recorder) emit(agentID protocol.AgentID, status protocol.PresenceStatus, subs []string) {
	s := slices.Clone(subs)
	slices.Sort(s)
	r.mu.Lock()
	r.events = append(r.events, rec{agentID, status, s})
	r.mu.Unlock()
}

// take returns and clears the recorded events for agentID.
func (r *recorder) take(agentID protocol.AgentID) []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out, rest []rec
	for _, ev := range r.events {
		if ev.agentID == agentID {
			out = append(out, ev)
		} else {
			rest = append(rest, ev)
		}
	}
	r.events = rest
	return out
}

func newEngine() (*Engine, *recorder) {
	r := &recorder{}
	return New(r.emit), r
}

// expect checks that exactly the given statuses were emitted for agentID
// since the last take.
func expect(t *testing.T, r *recorder, agentID protocol.AgentID, want ...protocol.PresenceStatus) []rec {
	t.Helper()
	got := r.take(agentID)
	var statuses []protocol.PresenceStatus
	for _, ev := range got {
		statuses = append(statuses, ev.status)
	}
	if !slices.Equal(statuses, want) {
		t.Fatalf("events for %s = %v, want %v", agentID, statuses, want)
	}
	return got
}

func expectStatus(t *testing.T, e *Engine, agentID protocol.AgentID, want protocol.PresenceStatus) {
	t.Helper()
	if got := e.Status(agentID); got != want {
		t.Fatalf("Status(%s) = %s, want %s", agentID, got, want)
	}
}
