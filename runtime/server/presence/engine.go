package presence

import (
	"sync"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// EmitFunc receives one change of an agent's derived presence status.
//
// subscriberConnIDs holds the ids of the connections subscribed to agentID
// when the change happened, in no particular order; it is empty (nil) when
// nobody is subscribed (the call is still made, so that metrics or an
// observatory feed see every change). The slice is freshly allocated for each
// call and belongs to the callee.
type EmitFunc func(agentID protocol.AgentID, status protocol.PresenceStatus, subscriberConnIDs []string)

// LocalFunc receives one change of the presence this process contributes for an agent:
// the status its own connections imply (offline once the last one closed), ignoring other
// nodes. A cluster node publishes these to the other nodes (SetRemote there).
type LocalFunc func(agentID protocol.AgentID, status protocol.PresenceStatus)

// Engine tracks the live connections, lease activity and presence
// subscriptions of one server process and derives each agent's status.
//
// All methods are safe for concurrent use. The emit callback is never called
// with the Engine's lock held, so it may call back into the Engine. Events
// are delivered in the order the changes happened (globally, hence also per
// agent) by whichever calling goroutine is currently draining the event
// queue: when calls race, a method may return before its own change has been
// emitted by another goroutine that is already delivering events.
type Engine struct {
	emit  EmitFunc
	local LocalFunc

	mu sync.Mutex
	// conns holds the live connections by connection id.
	conns map[string]*conn
	// agents holds the agents with at least one live connection.
	agents map[protocol.AgentID]*agent
	// watchers maps a watched agent id to the ids of the live connections
	// subscribed to it; empty sets are deleted.
	watchers map[protocol.AgentID]map[string]struct{}
	// nodes maps a remote node to the agents it reports online or working.
	nodes map[string]map[protocol.AgentID]struct{}

	// pending holds the changes not yet handed to emit, in order.
	pending []event
	// spare is a recycled backing array for pending.
	spare []event
	// draining is true while one goroutine is delivering pending events.
	draining bool
}

// conn is one live authenticated connection.
type conn struct {
	agentID protocol.AgentID
	// busy is true when the connection holds at least one active lease.
	busy bool
	// watch is the connection's presence watch set (nil when empty).
	watch map[protocol.AgentID]struct{}
}

// agent is the presence state of an agent with at least one live connection here or on
// another node.
type agent struct {
	live   int // live connections
	busy   int // live connections with active leases
	status protocol.PresenceStatus
	// local is the status the local connections alone imply, as last reported to LocalFunc.
	local protocol.PresenceStatus
	// remote maps each other node that reports the agent to whether it is working there.
	remote map[string]bool
	// remoteBusy counts the true values of remote.
	remoteBusy int
}

// New returns an empty Engine that reports status changes to emit. A nil
// emit discards them.
func New(emit func(agentID protocol.AgentID, status protocol.PresenceStatus, subscriberConnIDs []string)) *Engine {
	return NewWithLocal(emit, nil)
}

// NewWithLocal returns an empty Engine of a cluster node: emit receives the changes of
// the status aggregated over every node, local the changes of this node's own
// contribution (see LocalFunc). Both are delivered in one order. A nil func discards.
func NewWithLocal(emit EmitFunc, local LocalFunc) *Engine {
	return &Engine{
		emit:     emit,
		local:    local,
		conns:    make(map[string]*conn),
		agents:   make(map[protocol.AgentID]*agent),
		watchers: make(map[protocol.AgentID]map[string]struct{}),
		nodes:    make(map[string]map[protocol.AgentID]struct{}),
	}
}

// Status returns the current derived status of agentID (offline for an agent
// the Engine has never seen).
func (e *Engine) Status(agentID protocol.AgentID) protocol.PresenceStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statusLocked(agentID)
}

func (e *Engine) statusLocked(agentID protocol.AgentID) protocol.PresenceStatus {
	if a := e.agents[agentID]; a != nil {
		return a.status
	}
	return protocol.PresenceStatusOffline
}

// derive returns the status an agent's counters imply, over every node.
func (a *agent) derive() protocol.PresenceStatus {
	switch {
	case a.live <= 0 && len(a.remote) == 0:
		return protocol.PresenceStatusOffline
	case a.busy > 0 || a.remoteBusy > 0:
		return protocol.PresenceStatusWorking
	default:
		return protocol.PresenceStatusOnline
	}
}

// deriveLocal returns the status this node's connections alone imply.
func (a *agent) deriveLocal() protocol.PresenceStatus {
	switch {
	case a.live <= 0:
		return protocol.PresenceStatusOffline
	case a.busy > 0:
		return protocol.PresenceStatusWorking
	default:
		return protocol.PresenceStatusOnline
	}
}

// update re-derives the status of agentID after its counters changed,
// queues an event when it differs from the last one, and forgets agents that
// went offline. The caller holds e.mu.
func (e *Engine) update(agentID protocol.AgentID, a *agent) {
	if local := a.deriveLocal(); local != a.local {
		a.local = local
		if e.local != nil {
			e.pending = append(e.pending, event{kind: eventLocal, agentID: agentID, status: local})
		}
	}
	next := a.derive()
	if next == protocol.PresenceStatusOffline {
		delete(e.agents, agentID)
	}
	if next == a.status {
		return
	}
	a.status = next
	if e.emit != nil {
		e.pending = append(e.pending, event{
			agentID: agentID,
			status:  next,
			subs:    e.subscribersLocked(agentID),
		})
	}
}

// subscribersLocked returns a fresh slice of the connections watching
// agentID, or nil. The caller holds e.mu.
func (e *Engine) subscribersLocked(agentID protocol.AgentID) []string {
	set := e.watchers[agentID]
	if len(set) == 0 {
		return nil
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	return ids
}
