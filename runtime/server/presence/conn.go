package presence

import "github.com/moltzap/moltzap-go/generated/protocol"

// Connected records a live authenticated connection connID of agentID. The
// agent's first live connection makes it online; further connections change
// nothing. Calling it again for a connection id that is already live is a
// no-op (a connection's agent never changes).
func (e *Engine) Connected(agentID protocol.AgentID, connID string) {
	e.mu.Lock()
	if _, ok := e.conns[connID]; ok {
		e.mu.Unlock()
		return
	}
	e.conns[connID] = &conn{agentID: agentID}
	a := e.agents[agentID]
	if a == nil {
		a = &agent{status: protocol.PresenceStatusOffline, local: protocol.PresenceStatusOffline}
		e.agents[agentID] = a
	}
	a.live++
	e.update(agentID, a)
	e.unlockAndFlush()
}

// Disconnected forgets connection connID: its presence subscriptions are
// dropped first (a closing socket is not told about its own agent), then its
// agent's status is re-derived from the remaining connections (the last one
// going makes the agent offline). Unknown ids are ignored, so calling it
// twice is harmless.
func (e *Engine) Disconnected(connID string) {
	e.mu.Lock()
	c, ok := e.conns[connID]
	if !ok {
		e.mu.Unlock()
		return
	}
	delete(e.conns, connID)
	for agentID := range c.watch {
		e.unwatchLocked(agentID, connID)
	}
	if a := e.agents[c.agentID]; a != nil {
		a.live--
		if c.busy {
			a.busy--
		}
		e.update(c.agentID, a)
	}
	e.unlockAndFlush()
}

// SetActivity reports that activeLeases dispatch leases in state GRANTED or
// CLAIMED are currently bound to connection connID (values below zero count
// as zero). The agent is working while any of its live connections has a
// positive count. Reports for a connection that is not live (never connected
// or already disconnected) are ignored.
func (e *Engine) SetActivity(connID string, activeLeases int) {
	e.mu.Lock()
	c, ok := e.conns[connID]
	busy := activeLeases > 0
	if !ok || c.busy == busy {
		e.mu.Unlock()
		return
	}
	c.busy = busy
	if a := e.agents[c.agentID]; a != nil {
		if busy {
			a.busy++
		} else {
			a.busy--
		}
		e.update(c.agentID, a)
	}
	e.unlockAndFlush()
}
