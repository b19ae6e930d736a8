package server

import (
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// encodeNotification encodes a notification frame once, for every recipient. The params are
// decoded back with the generated decoder, so a value that fails its schema (a server bug) is
// logged and nothing is sent.
func (s *Server) encodeNotification(n protocol.Notification) []byte {
	params := n.AppendJSON(make([]byte, 0, 256))
	if _, err := protocol.DecodeNotification(n.Method(), params); err != nil {
		s.log.Error("notification fails its schema", "method", n.Method(), "err", err)
		return nil
	}
	return wire.EncodeNotification(n.Method(), params)
}

// sendTo writes one encoded frame to every connection except skip.
func (s *Server) sendTo(conns []*Conn, frame []byte, skip *Conn) {
	if frame == nil {
		return
	}
	for _, c := range conns {
		if c != skip {
			c.send(frame)
		}
	}
}

// notifyAgents sends n to every live connection of the agents, except skip.
func (s *Server) notifyAgents(agentIDs []protocol.AgentID, n protocol.Notification, skip *Conn) {
	conns := s.conns.ofAgents(agentIDs)
	if len(conns) == 0 {
		return
	}
	s.sendTo(conns, s.encodeNotification(n), skip)
}

// notifyConversation sends conversation-scoped n to the connections of the agents whose
// subscription set holds convID (the fan-out gate), except skip.
func (s *Server) notifyConversation(convID protocol.ConversationID, agentIDs []protocol.AgentID, n protocol.Notification, skip *Conn) {
	var gated []*Conn
	for _, c := range s.conns.ofAgents(agentIDs) {
		if c != skip && c.subscribed(convID) {
			gated = append(gated, c)
		}
	}
	if len(gated) == 0 {
		return
	}
	s.sendTo(gated, s.encodeNotification(n), nil)
}

// notifyConn sends n to a single connection.
func (s *Server) notifyConn(c *Conn, n protocol.Notification) {
	if c == nil {
		return
	}
	if frame := s.encodeNotification(n); frame != nil {
		c.send(frame)
	}
}
