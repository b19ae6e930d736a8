package server

import (
	"slices"
	"sync"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// connManager is the connection map and the endpoint resolver (agent id -> live connections).
type connManager struct {
	mu      sync.RWMutex
	conns   map[string]*Conn
	byAgent map[protocol.AgentID][]*Conn // most agents hold one connection: a slice, not a map
	// elsewhere, when set, reports whether another node of the cluster holds a
	// connection of the agent (online then counts it too). Set once by New.
	elsewhere func(protocol.AgentID) bool
}

func newConnManager() *connManager {
	return &connManager{conns: map[string]*Conn{}, byAgent: map[protocol.AgentID][]*Conn{}}
}

func (m *connManager) add(c *Conn) {
	m.mu.Lock()
	m.conns[c.id] = c
	m.mu.Unlock()
}

// promote atomically turns an open connection into an agent connection: identity,
// subscription set and endpoint registration change together or not at all. It reports
// false when the connection closed meanwhile (nothing is left registered).
func (m *connManager) promote(c *Conn, a store.Agent, convIDs []protocol.ConversationID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.authed {
		return false
	}
	c.authed, c.agentID, c.name, c.status, c.owner = true, a.ID, a.Name, a.Status, a.OwnerUserID
	c.convs = nil // no map for an agent in no conversation (subscribe makes one)
	if len(convIDs) > 0 {
		c.convs = make(map[protocol.ConversationID]struct{}, len(convIDs))
	}
	for _, id := range convIDs {
		c.convs[id] = struct{}{}
	}
	m.byAgent[a.ID] = append(m.byAgent[a.ID], c)
	return true
}

// remove drops a connection from the map and the resolver; it reports the agent it served.
func (m *connManager) remove(c *Conn) (agentID protocol.AgentID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.mu.Lock()
	c.closed = true
	agentID = c.agentID
	c.mu.Unlock()
	delete(m.conns, c.id)
	list := m.byAgent[agentID]
	if i := slices.Index(list, c); i >= 0 {
		list = slices.Delete(list, i, i+1)
		if len(list) == 0 {
			delete(m.byAgent, agentID)
		} else {
			m.byAgent[agentID] = list
		}
	}
	return agentID
}

// ofAgent returns the live connections of an agent.
func (m *connManager) ofAgent(agentID protocol.AgentID) []*Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.byAgent[agentID])
}

// ofAgents returns the live connections of several agents (each agent once).
func (m *connManager) ofAgents(agentIDs []protocol.AgentID) []*Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	seen := make(map[protocol.AgentID]bool, len(agentIDs))
	var out []*Conn
	for _, id := range agentIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, m.byAgent[id]...)
	}
	return out
}

func (m *connManager) byID(id string) *Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.conns[id]
}

func (m *connManager) all() []*Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Conn, 0, len(m.conns))
	for _, c := range m.conns {
		out = append(out, c)
	}
	return out
}

func (m *connManager) count() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.conns)
}

// online reports whether the agent has a live connection here or on another node.
func (m *connManager) online(agentID protocol.AgentID) bool {
	m.mu.RLock()
	here := len(m.byAgent[agentID]) > 0
	m.mu.RUnlock()
	return here || (m.elsewhere != nil && m.elsewhere(agentID))
}

// agents returns the agents with at least one live connection.
func (m *connManager) agents() []protocol.AgentID {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]protocol.AgentID, 0, len(m.byAgent))
	for id := range m.byAgent {
		out = append(out, id)
	}
	return out
}
