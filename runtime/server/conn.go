package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// Conn is one WebSocket connection: unauthenticated until network/connect succeeds, then an
// agent connection (which may also be registered as an app's TaskMaster). It implements
// protocol.Caller for the generated dispatcher.
type Conn struct {
	id   string // server-internal, never on the wire
	srv  *Server
	ws   *transport.Conn
	peer *rpc.Peer

	mu      sync.RWMutex
	authed  bool
	agentID string
	status  store.AgentStatus
	owner   string
	convs   map[string]struct{} // subscription set: the fan-out gate for conversation traffic
	closed  bool
	apps    map[string]struct{} // app ids this connection is the TaskMaster of
	started time.Time
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
	return c.authed && c.status == store.AgentActive
}

// HasOwner reports whether the connection's agent has an owner user.
func (c *Conn) HasOwner() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.authed && c.owner != ""
}

// AgentID returns the authenticated agent ("" before network/connect).
func (c *Conn) AgentID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.agentID
}

// Owner returns the owner user of the connection's agent ("" when unclaimed).
func (c *Conn) Owner() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.owner
}

func (c *Conn) setOwner(owner string) {
	c.mu.Lock()
	c.owner = owner
	c.mu.Unlock()
}

// subscribed reports whether conversation traffic for convID may reach this connection.
func (c *Conn) subscribed(convID string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.convs[convID]
	return ok
}

func (c *Conn) subscribe(convID string) {
	c.mu.Lock()
	if c.convs != nil {
		c.convs[convID] = struct{}{}
	}
	c.mu.Unlock()
}

func (c *Conn) unsubscribe(convID string) {
	c.mu.Lock()
	delete(c.convs, convID)
	c.mu.Unlock()
}

// isTaskMasterOf reports whether this connection is registered for appID.
func (c *Conn) isTaskMasterOf(appID string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.apps[appID]
	return ok
}

// send queues pre-encoded bytes; a full queue closes the connection (slow consumer).
func (c *Conn) send(frame []byte) {
	if err := c.ws.Send(frame); err != nil {
		c.srv.metrics.fanoutDropped()
		c.srv.log.Debug("send dropped", "conn", c.id, "err", err)
		return
	}
	c.srv.metrics.frameOut()
}

// call sends a server -> client request (a TaskMaster callback) and waits for its result.
func (c *Conn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	res, err := c.peer.Call(ctx, method, raw)
	if err != nil {
		return nil, err
	}
	return res, nil
}

var _ protocol.Caller = (*Conn)(nil)
