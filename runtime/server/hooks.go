package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// connHookTimeout bounds Config.OnConnect and Config.OnDisconnect.
const connHookTimeout = 2 * time.Second

// ConnInfo describes an authenticated connection to the embedder hooks.
type ConnInfo struct {
	ConnID      string           // server-internal connection id (never on the wire); unique per socket
	AgentID     protocol.AgentID // the agent network/connect authenticated
	Owner       protocol.UserID  // the agent's owner user ("" when unclaimed); at disconnect, the current owner
	RemoteAddr  string           // the client's address (host:port) as the listener saw it
	ConnectedAt time.Time        // when the WebSocket was accepted
}

// ConnectHook is the type of Config.OnConnect: it runs after network/connect has verified
// the credentials and before the connection is registered. A nil error admits the
// connection; any other error refuses it.
type ConnectHook func(ctx context.Context, info ConnInfo) error

// DisconnectHook is the type of Config.OnDisconnect: it runs once after an admitted
// connection has ended and been cleaned up.
type DisconnectHook func(info ConnInfo)

// connInfo builds the ConnInfo of c for agent a.
func connInfo(c *Conn, agentID protocol.AgentID, owner protocol.UserID) ConnInfo {
	info := ConnInfo{ConnID: c.id, AgentID: agentID, Owner: owner, ConnectedAt: c.started}
	if c.ws != nil {
		if addr := c.ws.RemoteAddr(); addr != nil {
			info.RemoteAddr = addr.String()
		}
	}
	return info
}

// runConnectHook runs Config.OnConnect for agent on c, bounded by connHookTimeout (even when
// the hook ignores its context). A refusal is returned as the wire error network/connect
// answers: the hook's own -32000 Unauthorized or -32001 Forbidden as it is, any other error
// as -32001 with the error's text as message, a timeout as -32001 "Connection refused:
// connect hook timed out" and a panic as -32001 "Connection refused".
func (s *Server) runConnectHook(ctx context.Context, c *Conn, agent store.Agent) error {
	hook := s.cfg.OnConnect
	if hook == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, connHookTimeout)
	defer cancel()
	info := connInfo(c, agent.ID, agent.OwnerUserID)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("connect hook panicked", "conn", c.id, "agent", agent.ID, "panic", fmt.Sprint(r))
				done <- protocol.ForbiddenError{Message: "Connection refused"}
			}
		}()
		done <- hook(ctx, info)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		return nil
	}
	s.log.Debug("connect hook refused the connection", "conn", c.id, "agent", agent.ID, "err", err)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return protocol.ForbiddenError{Message: "Connection refused: connect hook timed out"}
	}
	var coded wire.Coded
	if errors.As(err, &coded) {
		if code := coded.WireError().Code; code == protocol.CodeUnauthorized || code == protocol.CodeForbidden {
			return err
		}
	}
	return protocol.ForbiddenError{Message: err.Error()}
}

// runDisconnectHook runs Config.OnDisconnect for an admitted connection in its own
// goroutine: neither the connection's cleanup nor Shutdown waits for it. A hook still
// running after connHookTimeout is abandoned with a warning; a panic is logged.
func (s *Server) runDisconnectHook(c *Conn, agentID protocol.AgentID) {
	hook := s.cfg.OnDisconnect
	if hook == nil || agentID == "" {
		return
	}
	info := connInfo(c, agentID, c.Owner())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("disconnect hook panicked", "conn", c.id, "agent", agentID, "panic", fmt.Sprint(r))
			}
		}()
		hook(info)
	}()
	go func() {
		t := time.NewTimer(connHookTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			s.log.Warn("disconnect hook still running after 2s; abandoned", "conn", c.id, "agent", agentID)
		}
	}()
}
