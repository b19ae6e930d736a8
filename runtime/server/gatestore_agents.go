package server

import (
	"context"
	"slices"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// The gateStore also keeps what network/connect reads, so that a connect costs no store
// read: the agents by API key id, and the conversations of each agent (its subscription
// set). Both are cached when the agent is created (a new agent is in no conversation; most
// connect soon after registering) or first read, and dropped by every write that changes
// them.

// GetAgentByKeyID returns the agent holding the key, cached; like the store it answers
// store.ErrNotFound for a suspended agent.
func (g *gateStore) GetAgentByKeyID(ctx context.Context, keyID string) (store.Agent, error) {
	g.mu.RLock()
	a, ok := g.keys[keyID]
	g.mu.RUnlock()
	if ok {
		return a, nil
	}
	gen := g.gen.Load()
	a, err := g.Store.GetAgentByKeyID(ctx, keyID)
	if err == nil {
		g.putAgent(gen, a)
	}
	return a, err
}

// putAgent caches a by its key id unless an invalidation happened since gen was read or
// the agent is suspended (the store does not return those by key).
func (g *gateStore) putAgent(gen uint64, a store.Agent) {
	if a.Status == protocol.AgentStatusSuspended || a.APIKeyID == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen.Load() != gen {
		return
	}
	if len(g.keys) >= maxGateEntries {
		clear(g.keys)
		clear(g.keyOf)
	}
	g.keys[a.APIKeyID] = a
	g.keyOf[a.ID] = a.APIKeyID
}

// invalidateAgent drops the cached agent id; with id "" (the write's outcome does not say
// which agent changed) every cached agent.
func (g *gateStore) invalidateAgent(id protocol.AgentID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen.Add(1)
	if id == "" {
		clear(g.keys)
		clear(g.keyOf)
		return
	}
	if keyID, ok := g.keyOf[id]; ok {
		delete(g.keys, keyID)
		delete(g.keyOf, id)
	}
}

// CreateAgent implements store.AgentStore; the new agent is cached.
func (g *gateStore) CreateAgent(ctx context.Context, a store.Agent) (store.Agent, error) {
	gen := g.gen.Load()
	a, err := g.Store.CreateAgent(ctx, a)
	if err == nil {
		g.putAgent(gen, a)
		put(g, g.convsOf, gen, a.ID, []protocol.ConversationID{})
	}
	return a, err
}

// ConversationIDsForAgent returns the agent's conversations, cached (callers get their own
// copy).
func (g *gateStore) ConversationIDsForAgent(ctx context.Context, agentID protocol.AgentID) ([]protocol.ConversationID, error) {
	ids, err := cached(g, g.convsOf, agentID, func() ([]protocol.ConversationID, error) {
		return g.Store.ConversationIDsForAgent(ctx, agentID)
	})
	return slices.Clone(ids), err // the cached slice is never handed out
}

// invalidateMembership drops the cached facts of conversations whose members changed and
// the conversation lists of the agents concerned.
func (g *gateStore) invalidateMembership(convs []protocol.ConversationID, agents ...protocol.AgentID) {
	g.invalidate(nil, convs)
	g.mu.Lock()
	g.gen.Add(1)
	for _, id := range agents {
		delete(g.convsOf, id)
	}
	g.mu.Unlock()
}

// ClaimAgent implements store.AgentStore.
func (g *gateStore) ClaimAgent(ctx context.Context, claimToken string, ownerUserID protocol.UserID, at time.Time) (store.Agent, bool, error) {
	a, first, err := g.Store.ClaimAgent(ctx, claimToken, ownerUserID, at)
	g.invalidateAgent(agentOf(a, err))
	return a, first, err
}

// RotateAgentKey implements store.AgentStore.
func (g *gateStore) RotateAgentKey(ctx context.Context, name protocol.AgentName, ownerUserID protocol.UserID, keyID, secretHash string, at time.Time) (store.Agent, error) {
	a, err := g.Store.RotateAgentKey(ctx, name, ownerUserID, keyID, secretHash, at)
	g.invalidateAgent(agentOf(a, err))
	return a, err
}

// SetAgentStatus implements store.AgentStore.
func (g *gateStore) SetAgentStatus(ctx context.Context, id protocol.AgentID, status protocol.AgentStatus, at time.Time) (store.Agent, error) {
	defer g.invalidateAgent(id)
	return g.Store.SetAgentStatus(ctx, id, status, at)
}

// agentOf is the agent a write changed: a's id on success, "" (unknown: any) on failure.
func agentOf(a store.Agent, err error) protocol.AgentID {
	if err != nil {
		return ""
	}
	return a.ID
}
