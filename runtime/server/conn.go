package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Conn is one WebSocket connection: unauthenticated until network/connect succeeds, then an
// agent connection (which may also be registered as an app's TaskMaster). It implements
// protocol.Caller for the generated dispatcher.
type Conn struct {
	id   string // server-internal, never on the wire
	srv  *Server
	ws   *transport.Conn
	peer *rpc.Peer

	remoteIP       string                     // client address without port (per-address limits)
	unauthRequests atomic.Int64               // requests received before authenticating
	authAttempts   atomic.Int64               // network/connect attempts before authenticating
	policyClose    sync.Once                  // the first closePolicy reason wins
	authTimer      atomic.Pointer[time.Timer] // closes the connection unless it authenticates in time

	mu      sync.RWMutex
	authed  bool
	agentID protocol.AgentID
	name    protocol.AgentName
	status  protocol.AgentStatus
	owner   protocol.UserID
	convs   map[protocol.ConversationID]struct{} // subscription set: the fan-out gate for conversation traffic
	closed  bool
	apps    map[protocol.AppID]struct{} // app ids this connection is the TaskMaster of
	started time.Time
}

// stopAuthTimer stops and drops the authentication deadline (authenticated or closed).
func (c *Conn) stopAuthTimer() {
	if t := c.authTimer.Swap(nil); t != nil {
		t.Stop()
	}
}

// ID returns the server-internal connection id.
func (c *Conn) ID() string { return c.id }

// Authenticated reports whether network/connect succeeded on this connection.
func (c *Conn) Authenticated() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.authed
}

// Active reports whether the connection's agent is active.
func (c *Conn) Active() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.authed && c.status == protocol.AgentStatusActive
}

// HasOwner reports whether the connection's agent has an owner user.
func (c *Conn) HasOwner() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.authed && c.owner != ""
}

// AgentID returns the authenticated agent ("" before network/connect).
func (c *Conn) AgentID() protocol.AgentID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.agentID
}

// Owner returns the owner user of the connection's agent ("" when unclaimed).
func (c *Conn) Owner() protocol.UserID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.owner
}

func (c *Conn) setOwner(owner protocol.UserID) {
	c.mu.Lock()
	c.owner = owner
	c.mu.Unlock()
}

// subscribed reports whether conversation traffic for convID may reach this connection.
// convID is a plain string for notify.go's fan-out.
func (c *Conn) subscribed(convID protocol.ConversationID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.convs[convID]
	return ok
}

func (c *Conn) subscribe(convID protocol.ConversationID) {
	c.mu.Lock()
	if c.authed { // the set starts at promote; an agent in no conversation has no map yet
		if c.convs == nil {
			c.convs = map[protocol.ConversationID]struct{}{}
		}
		c.convs[convID] = struct{}{}
	}
	c.mu.Unlock()
}

func (c *Conn) unsubscribe(convID protocol.ConversationID) {
	c.mu.Lock()
	delete(c.convs, convID)
	c.mu.Unlock()
}

// isTaskMasterOf reports whether this connection is registered for appID.
func (c *Conn) isTaskMasterOf(appID protocol.AppID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.apps[appID]
	return ok
}

// closePolicy closes the socket with 1008 and reason, without waiting; only the first call
// has an effect.
func (c *Conn) closePolicy(reason string) {
	c.policyClose.Do(func() {
		c.srv.log.Debug("closing connection", "conn", c.id, "remote", c.remoteIP, "reason", reason)
		go func() { _ = c.ws.Close(transport.ClosePolicyViolation, reason) }()
	})
}

// send queues pre-encoded bytes; a full queue closes the connection (slow consumer).
func (c *Conn) send(frame []byte) {
	if err := c.ws.Send(frame); err != nil {
		c.srv.metrics.fanoutDropped()
		if errors.Is(err, transport.ErrQueueFull) { // once: the connection is closing now
			c.srv.log.Warn("slow consumer closed: write queue full", "conn", c.id, "agent", c.AgentID())
			return
		}
		c.srv.log.Debug("send dropped", "conn", c.id, "err", err)
		return
	}
	c.srv.metrics.frameOut()
}

// callbackInvoker sends server -> client requests (TaskMaster callbacks) on a connection;
// it is the transport of the generated TaskMasterClient.
type callbackInvoker struct{ c *Conn }

var _ protocol.Invoker = callbackInvoker{}

// Invoke sends one callback and waits for its result. params already encoded (a
// json.RawMessage) go out as they are, nil sends none, anything else is encoded with
// encoding/json. An error response comes back as its registry error type.
func (inv callbackInvoker) Invoke(ctx context.Context, method string, params any) (json.RawMessage, error) {
	inv.c.srv.metrics.frameOut()
	var raw json.RawMessage
	switch p := params.(type) {
	case nil:
	case json.RawMessage:
		raw = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("%s: encode params: %w", method, err)
		}
		raw = b
	}
	res, err := inv.c.peer.Call(ctx, method, raw)
	var we *wire.Error
	if errors.As(err, &we) {
		return nil, fmt.Errorf("%s: %w", method, protocol.ErrorFromWire(*we))
	}
	return res, err
}

var _ protocol.Caller = (*Conn)(nil)
