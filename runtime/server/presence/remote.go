package presence

import "github.com/moltzap/moltzap-go/generated/protocol"

// SetRemote records what another node reports for agentID: online or working while it
// holds connections of the agent, offline once it holds none. The aggregated status (the
// one emitted and returned by Status and Subscribe) is offline only when no node, this one
// included, reports the agent.
func (e *Engine) SetRemote(node string, agentID protocol.AgentID, status protocol.PresenceStatus) {
	e.mu.Lock()
	e.setRemoteLocked(node, agentID, status)
	e.unlockAndFlush()
}

// ReplaceRemote replaces everything node reports with statuses (a full state after a join
// or a gap); agents it no longer lists are offline there.
func (e *Engine) ReplaceRemote(node string, statuses map[protocol.AgentID]protocol.PresenceStatus) {
	e.mu.Lock()
	for agentID := range e.nodes[node] {
		if _, ok := statuses[agentID]; !ok {
			e.setRemoteLocked(node, agentID, protocol.PresenceStatusOffline)
		}
	}
	for agentID, status := range statuses {
		e.setRemoteLocked(node, agentID, status)
	}
	e.unlockAndFlush()
}

// DropNode forgets everything node reported (it left or died): its agents go offline
// unless another node or this one still holds them.
func (e *Engine) DropNode(node string) { e.ReplaceRemote(node, nil) }

// RemoteNodes returns how many remote nodes report at least one agent.
func (e *Engine) RemoteNodes() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.nodes)
}

// Snapshot calls fn with this node's own contribution (agent -> online or working, as
// LocalFunc last reported it) at the moment of the call, in order with the LocalFunc
// events: a receiver that applies the snapshot and then the later LocalFunc changes is
// exact. fn runs without the Engine's lock, like emit.
func (e *Engine) Snapshot(fn func(map[protocol.AgentID]protocol.PresenceStatus)) {
	e.mu.Lock()
	statuses := make(map[protocol.AgentID]protocol.PresenceStatus, len(e.agents))
	for id, a := range e.agents {
		if a.local != protocol.PresenceStatusOffline {
			statuses[id] = a.local
		}
	}
	e.pending = append(e.pending, event{kind: eventSnapshot, snapshot: fn, statuses: statuses})
	e.unlockAndFlush()
}

// setRemoteLocked applies one remote report. The caller holds e.mu.
func (e *Engine) setRemoteLocked(node string, agentID protocol.AgentID, status protocol.PresenceStatus) {
	a := e.agents[agentID]
	offline := status != protocol.PresenceStatusOnline && status != protocol.PresenceStatusWorking
	if a == nil {
		if offline {
			return
		}
		a = &agent{status: protocol.PresenceStatusOffline, local: protocol.PresenceStatusOffline}
		e.agents[agentID] = a
	}
	busy, had := a.remote[node]
	if had && busy {
		a.remoteBusy--
	}
	if offline {
		delete(a.remote, node)
		if set := e.nodes[node]; set != nil {
			delete(set, agentID)
			if len(set) == 0 {
				delete(e.nodes, node)
			}
		}
	} else {
		if a.remote == nil {
			a.remote = make(map[string]bool, 1)
		}
		working := status == protocol.PresenceStatusWorking
		a.remote[node] = working
		if working {
			a.remoteBusy++
		}
		set := e.nodes[node]
		if set == nil {
			set = make(map[protocol.AgentID]struct{})
			e.nodes[node] = set
		}
		set[agentID] = struct{}{}
	}
	e.update(agentID, a)
}
