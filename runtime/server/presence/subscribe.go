package presence

import "github.com/moltzap/moltzap-go/generated/protocol"

// Subscribe replaces the presence watch set of connection connID with
// exactly agentIDs (an empty list unsubscribes from everything) and returns
// the point-in-time status of each requested id.
//
// The result has one entry per element of agentIDs, in request order;
// duplicates are kept in the result but watched once. Repeating a call is
// idempotent. The returned statuses and the new watch set are taken
// atomically: every change after this snapshot is emitted to connID.
//
// Visibility (REFERENCE 9.3.3, −32005) is the caller's job. A connection
// that is not live (never connected or already disconnected) gets the
// statuses but no subscription, so a request racing a socket close cannot
// leave subscriptions behind.
func (e *Engine) Subscribe(connID string, agentIDs []protocol.AgentID) []protocol.PresenceEntry {
	out := make([]protocol.PresenceEntry, len(agentIDs))
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, id := range agentIDs {
		out[i] = protocol.PresenceEntry{AgentID: id, Status: e.statusLocked(id)}
	}
	c, ok := e.conns[connID]
	if !ok {
		return out
	}
	var next map[protocol.AgentID]struct{}
	if len(agentIDs) > 0 {
		next = make(map[protocol.AgentID]struct{}, len(agentIDs))
		for _, id := range agentIDs {
			next[id] = struct{}{}
		}
	}
	for id := range c.watch {
		if _, keep := next[id]; !keep {
			e.unwatchLocked(id, connID)
		}
	}
	for id := range next {
		if _, had := c.watch[id]; !had {
			e.watchLocked(id, connID)
		}
	}
	c.watch = next
	return out
}

// watchLocked adds connID to the watchers of agentID. The caller holds e.mu.
func (e *Engine) watchLocked(agentID protocol.AgentID, connID string) {
	set := e.watchers[agentID]
	if set == nil {
		set = make(map[string]struct{})
		e.watchers[agentID] = set
	}
	set[connID] = struct{}{}
}

// unwatchLocked removes connID from the watchers of agentID. The caller holds
// e.mu.
func (e *Engine) unwatchLocked(agentID protocol.AgentID, connID string) {
	set := e.watchers[agentID]
	delete(set, connID)
	if len(set) == 0 {
		delete(e.watchers, agentID)
	}
}
