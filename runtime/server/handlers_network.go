package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func authFailed() error { return protocol.UnauthorizedError{Message: "Authentication failed"} }

// NetworkConnect authenticates the connection (REFERENCE 3.2): version gate first, then the
// credential, then an atomic promotion to the agent arm. A repeat on an authenticated
// connection returns a fresh HelloOk without re-checking credentials.
func (h handlers) NetworkConnect(ctx context.Context, c *Conn, p protocol.NetworkConnectParams) (protocol.NetworkConnectResult, error) {
	s := h.s
	if c.Authenticated() {
		return s.hello(c), nil
	}
	var agent store.Agent
	switch cred := p.(type) {
	case protocol.AgentKeyCredentials:
		if err := checkVersion(s.cfg.ProtocolVersion, string(cred.MinProtocol), string(cred.MaxProtocol)); err != nil {
			return protocol.HelloOk{}, err
		}
		a, err := s.verifyAgentKey(ctx, cred.AgentKey)
		if err != nil {
			return protocol.HelloOk{}, err
		}
		agent = a
	case protocol.SessionTokenCredentials:
		if err := checkVersion(s.cfg.ProtocolVersion, string(cred.MinProtocol), string(cred.MaxProtocol)); err != nil {
			return protocol.HelloOk{}, err
		}
		a, err := s.verifySessionToken(ctx, cred.SessionToken)
		if err != nil {
			return protocol.HelloOk{}, err
		}
		agent = a
	default:
		return protocol.HelloOk{}, protocol.InvalidParamsError{}
	}
	if err := s.runConnectHook(ctx, c, agent); err != nil { // Config.OnConnect: refused, nothing registered
		return protocol.HelloOk{}, err
	}
	convIDs, err := s.store.ConversationIDsForAgent(ctx, agent.ID)
	if err != nil {
		return protocol.HelloOk{}, fmt.Errorf("load subscriptions: %w", err)
	}
	if !s.conns.promote(c, agent, convIDs) {
		if c.Authenticated() { // a concurrent connect on the same socket won
			return s.hello(c), nil
		}
		return protocol.HelloOk{}, errors.New("connection closed during network/connect")
	}
	c.stopAuthTimer()
	if s.watching() { // before presence: views learn the agent's name before its status
		s.cfg.Feed.AgentConnected(s.agentPresence(agent.ID, c))
	}
	s.presence.Connected(agent.ID, c.id)
	s.log.Debug("agent connected", "conn", c.id, "agent", agent.ID, "name", agent.Name)
	return s.hello(c), nil
}

// verifyAgentKey resolves an API key to its (non-suspended) agent.
func (s *Server) verifyAgentKey(ctx context.Context, key string) (store.Agent, error) {
	keyID, secret, ok := parseAPIKey(key)
	if !ok {
		return store.Agent{}, authFailed()
	}
	a, err := s.store.GetAgentByKeyID(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Agent{}, authFailed()
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("look up agent key: %w", err)
	}
	if !secretMatches(secret, a.APIKeySecretHash) || a.Status == protocol.AgentStatusSuspended {
		return store.Agent{}, authFailed()
	}
	return a, nil
}

func (s *Server) hello(c *Conn) protocol.HelloOk {
	return protocol.HelloOk{
		ProtocolVersion: protocol.ProtocolVersionString(s.cfg.ProtocolVersion),
		AgentID:         c.AgentID(),
		Policy:          s.cfg.policy(),
	}
}

// NetworkPing returns the server clock.
func (h handlers) NetworkPing(context.Context, *Conn, protocol.NetworkPingParams) (protocol.NetworkPingResult, error) {
	return protocol.NetworkPingResult{Ts: dateTime(now())}, nil
}

// PresenceSubscribe replaces the connection's presence watch set after checking that every
// id is visible to the caller (else -32005 listing the refused ids, nothing changed).
func (h handlers) PresenceSubscribe(ctx context.Context, c *Conn, p protocol.PresenceSubscribeParams) (protocol.PresenceSubscribeResult, error) {
	refused, err := h.s.invisible(ctx, c, p.AgentIDs)
	if err != nil {
		return protocol.PresenceSubscribeResult{}, err
	}
	if len(refused) > 0 {
		return protocol.PresenceSubscribeResult{}, protocol.NotInContactsError{Data: &protocol.NotInContactsData{AgentIDs: refused}}
	}
	return protocol.PresenceSubscribeResult{Statuses: h.s.presence.Subscribe(c.id, p.AgentIDs)}, nil
}

// invisible returns the ids outside the caller's visibility set (the agents/list set:
// itself, its siblings and the agents of accepted contacts of its owner). The check applies
// with or without a contact policy (REFERENCE 9.3.3 and 14): presence is not public.
func (s *Server) invisible(ctx context.Context, c *Conn, ids []protocol.AgentID) ([]protocol.AgentID, error) {
	self, owner := c.AgentID(), c.Owner()
	var others []protocol.AgentID
	for _, id := range ids {
		if id != self {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return nil, nil
	}
	agents, err := s.store.GetAgentsByIDs(ctx, others)
	if err != nil {
		return nil, fmt.Errorf("look up agents: %w", err)
	}
	visible := map[protocol.AgentID]bool{}
	for _, a := range agents {
		if owner == "" || a.OwnerUserID == "" {
			continue
		}
		ok, err := s.areInContact(ctx, owner, a.OwnerUserID)
		if err != nil {
			return nil, fmt.Errorf("contact check: %w", err)
		}
		visible[a.ID] = ok
	}
	var refused []protocol.AgentID
	for _, id := range others {
		if !visible[id] {
			refused = append(refused, id)
		}
	}
	return refused, nil
}

// emitPresence sends presence/changed to the subscribed connections (encoded once).
func (s *Server) emitPresence(agentID protocol.AgentID, status protocol.PresenceStatus, subscribers []string) {
	if s.watching() {
		s.cfg.Feed.PresenceChanged(agentID, status)
	}
	if len(subscribers) == 0 {
		return
	}
	frame := s.encodeNotification(protocol.PresenceChangedNotification{AgentID: agentID, Status: status})
	for _, id := range subscribers {
		if c := s.conns.byID(id); c != nil {
			c.send(frame)
		}
	}
}
