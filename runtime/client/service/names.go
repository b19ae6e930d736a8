package service

import (
	"context"
	"slices"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// AgentName returns the cached name of agent id.
func (s *Service) AgentName(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.names[id]
	return n, ok
}

// SetAgentName records the name of agent id in the cache.
func (s *Service) SetAgentName(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names[id] = name
}

// ResolveAgentName returns the name of agent id: from the cache, else from agents/lookup
// (cached), else the raw id when the lookup fails or the agent is not visible.
func (s *Service) ResolveAgentName(ctx context.Context, id string) string {
	if n, ok := s.AgentName(id); ok {
		return n
	}
	res, err := s.conn.AgentsLookup(ctx, protocol.AgentsLookupParams{AgentIDs: []protocol.AgentID{protocol.AgentID(id)}})
	if err != nil {
		s.log.Debug("moltzap service: agents/lookup failed; using the raw id", "agentId", id, "err", err)
		return id
	}
	s.cacheCards(res.Agents)
	if n, ok := s.AgentName(id); ok {
		return n
	}
	return id
}

// warmNames looks up the names of ids that are not cached yet, in batches; failures are
// logged and leave those ids unresolved.
func (s *Service) warmNames(ctx context.Context, ids []string) {
	s.mu.Lock()
	var missing []protocol.AgentID
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := s.names[id]; !ok && !seen[id] {
			seen[id] = true
			missing = append(missing, protocol.AgentID(id))
		}
	}
	s.mu.Unlock()
	for batch := range slices.Chunk(missing, lookupBatchSize) {
		res, err := s.conn.AgentsLookup(ctx, protocol.AgentsLookupParams{AgentIDs: batch})
		if err != nil {
			s.log.Debug("moltzap service: warming agent names failed", "err", err)
			return
		}
		s.cacheCards(res.Agents)
	}
}

func (s *Service) cacheCards(cards []protocol.AgentCard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cards {
		s.names[string(c.ID)] = string(c.Name)
	}
}

// nameOf returns the cached name of id or id itself. Callers hold s.mu.
func (s *Service) nameOf(id string) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	return id
}
