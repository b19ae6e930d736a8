package server

import (
	"context"
	"time"

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

// notifyAgents sends n to every live connection of the agents, except skip; agents
// connected to other nodes get it through the cluster (encoded once, one envelope per
// node).
func (s *Server) notifyAgents(agentIDs []protocol.AgentID, n protocol.Notification, skip *Conn) {
	conns := s.conns.ofAgents(agentIDs)
	routes := s.cluster.route(agentIDs) // nil on a single node
	if len(conns) == 0 && routes == nil {
		return
	}
	frame := s.encodeNotification(n)
	s.sendTo(conns, frame, skip)
	if routes != nil && frame != nil {
		s.cluster.publishNotify(routes, "", gateChangeOf(n), frame)
	}
}

// notifyConversation sends conversation-scoped n to the connections of the agents whose
// subscription set holds convID (the fan-out gate), except skip. Remote nodes apply the
// same gate to their connections.
func (s *Server) notifyConversation(convID protocol.ConversationID, agentIDs []protocol.AgentID, n protocol.Notification, skip *Conn) (published bool) {
	var gated []*Conn
	for _, c := range s.conns.ofAgents(agentIDs) {
		if c != skip && c.subscribed(convID) {
			gated = append(gated, c)
		}
	}
	routes := s.cluster.route(agentIDs) // nil on a single node
	if len(gated) == 0 && routes == nil {
		return false
	}
	frame := s.encodeNotification(n)
	s.sendTo(gated, frame, nil)
	if routes != nil && frame != nil {
		s.cluster.publishNotify(routes, convID, gateChangeOf(n), frame)
		return true
	}
	return false
}

// busFlushTimeout bounds the wait for the bus to take the notifications of a message.
const busFlushTimeout = 2 * time.Second

// flushBus waits until the bus has taken what this node published (one round trip to the
// broker). messages/send calls it before acknowledging a message whose notification went
// to other nodes: once the sender has its answer, the other nodes get the notification
// even if this node dies the next instant. A failure is logged: the message is stored and
// the recipients' clients catch up from history.
func (s *Server) flushBus(ctx context.Context) {
	if s.cfg.Bus == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, busFlushTimeout)
	defer cancel()
	if err := s.cfg.Bus.Ping(ctx); err != nil {
		s.log.Warn("bus flush before acknowledging a message failed", "err", err)
	}
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

// notifyConnID sends n to the connection connID, here or on the node its id names.
func (s *Server) notifyConnID(connID string, n protocol.Notification) {
	if c := s.conns.byID(connID); c != nil {
		s.notifyConn(c, n)
		return
	}
	node := nodeOfConn(connID)
	if node == "" || node == s.cfg.NodeID || s.cluster.solo {
		return // gone
	}
	if frame := s.encodeNotification(n); frame != nil {
		s.cluster.publishConnNotify(node, connID, frame)
	}
}

// gateChange is the subscription-set change a notification implies for its recipients'
// connections (REFERENCE 15.4): the membership notifications are the only ones sent
// after the gate changed, to exactly the agents concerned. The node that made the change
// updates its own connections (subscribeAgents, unsubscribeAgent); other nodes apply it
// from the notification, before delivering it.
type gateChange struct {
	conv   protocol.ConversationID
	sub    []protocol.AgentID
	unsub  []protocol.AgentID
	subAll bool // every recipient subscribes to conv
}

func gateChangeOf(n protocol.Notification) gateChange {
	switch v := n.(type) {
	case protocol.TaskConversationCreatedNotification: // creator and participants
		return gateChange{conv: v.ConversationID, subAll: true}
	case protocol.TaskConversationParticipantsAddedNotification:
		return gateChange{conv: v.ConversationID, sub: []protocol.AgentID{v.AddedAgentID}}
	case protocol.TaskConversationParticipantsRemovedNotification:
		return gateChange{conv: v.ConversationID, unsub: []protocol.AgentID{v.RemovedAgentID}}
	}
	return gateChange{}
}

// deliverRemote delivers a notification another node routed here: subscription-set
// changes first, then the frame to the local connections of its agents that pass its gate.
func (s *Server) deliverRemote(n notifyBody) {
	if n.opConv != "" {
		for _, c := range s.conns.ofAgents(n.unsub) {
			c.unsubscribe(n.opConv)
		}
		for _, c := range s.conns.ofAgents(n.sub) {
			c.subscribe(n.opConv)
		}
	}
	for _, c := range s.conns.ofAgents(n.agents) {
		if n.gate == "" || c.subscribed(n.gate) {
			c.send(n.frame)
		}
	}
}
