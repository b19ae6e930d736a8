package server

import "github.com/moltzap/moltzap-go/generated/protocol"

// The handlers name recipients with protocol ids; notify.go's fan-out (notifyAgents,
// notifyConversation) takes plain strings. These two adapters are the only place the ids
// cross that boundary; they reduce to direct calls once notify.go takes protocol ids.

// tellAgents sends n to every live connection of the agents, except skip.
func (s *Server) tellAgents(agentIDs []protocol.AgentID, n protocol.Notification, skip *Conn) {
	s.notifyAgents(idStrings(agentIDs), n, skip)
}

// tellConversation sends conversation-scoped n to the connections of the agents whose
// subscription set holds convID (the fan-out gate), except skip.
func (s *Server) tellConversation(convID protocol.ConversationID, agentIDs []protocol.AgentID, n protocol.Notification, skip *Conn) {
	s.notifyConversation(string(convID), idStrings(agentIDs), n, skip)
}

// idStrings returns ids as plain strings.
func idStrings(ids []protocol.AgentID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
