package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Client is an agent connection. It embeds the generated typed stubs, so
// c.MessagesSend(ctx, protocol.MessagesSendParams{...}) works; server errors come back as
// the generated registry types (errors.As(err, &protocol.ForbiddenError{})), wrapped with
// the method name. Calls fail with ErrNotConnected unless the client is Connected.
//
// A Client is safe for concurrent use. Create it with Dial and release it with Close.
type Client struct {
	*protocol.Client

	opts    Options
	eps     []endpoint // the servers, in the order they are tried
	log     *slog.Logger
	handler *inbound
	notes   *noteQueue
	subs    *registry
	// onConnect runs on every new connection after network/connect and before the
	// connection is published (the TaskMaster registers its apps there).
	onConnect func(ctx context.Context, api *protocol.Client) error

	disconnectHooks hooks[CloseInfo]
	reconnectHooks  hooks[protocol.HelloOk]

	ctx       context.Context // cancelled by Close: stops reconnecting
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error

	malformed     atomic.Uint64 // frames dropped by this package (notifications, callbacks)
	peerMalformed atomic.Uint64 // bad frames counted by the peers of finished sessions

	watchMu sync.Mutex         // serialises presence/subscribe with its restoration
	watch   []protocol.AgentID // the recorded presence watch set; guarded by watchMu

	mu     sync.Mutex
	state  State
	sess   *session // the connection calls go through; nil unless Connected
	hello  protocol.HelloOk
	cur    int // index in eps of the current (or last) connection
	closed bool
}

// Dial opens a connection and authenticates it with network/connect. With several URLs
// (Options.URL, Options.URLs) they are tried once each, in order, until one connects; a
// rejected credential (protocol.UnauthorizedError) or a protocol range the server is outside
// of (protocol.ProtocolMismatchError) ends the attempt at once, as the nodes of one cluster
// share them. There is no retry beyond that: the failure is returned (with several URLs, the
// error of every URL tried). ctx bounds the dials and the handshake only.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	return dial(ctx, opts, nil, nil)
}

// dial builds a client with an optional callback dispatcher and connect hook, connects
// it and starts its connection supervisor.
func dial(ctx context.Context, opts Options, dispatch dispatchFunc, onConnect func(context.Context, *protocol.Client) error) (*Client, error) {
	eps, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	c := &Client{
		opts:      opts,
		eps:       eps,
		log:       opts.Logger,
		onConnect: onConnect,
		done:      make(chan struct{}),
		state:     Connecting,
	}
	c.Client = protocol.NewClient(c)
	c.handler = &inbound{c: c, dispatch: dispatch}
	c.notes = newNoteQueue(c.log)
	c.subs = newRegistry(c.log)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.notes.run(c.subs.deliver)

	s, err := c.connectFirst(ctx)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	go c.supervise(s)
	return c, nil
}

// connectFirst establishes the first connection, trying the endpoints in order.
func (c *Client) connectFirst(ctx context.Context) (*session, error) {
	var errs []error
	for i, ep := range c.eps {
		s, _, err := c.establish(ctx, i)
		if err == nil {
			return s, nil
		}
		if len(c.eps) == 1 {
			return nil, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.url, err))
		if sharedVerdict(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("moltzap: connect: %w", errors.Join(errs...))
}

// sharedVerdict reports whether err is a refusal every node of a cluster would repeat.
func sharedVerdict(err error) bool {
	return errors.As(err, &protocol.UnauthorizedError{}) || errors.As(err, &protocol.ProtocolMismatchError{})
}

// Invoke sends one request through the current connection and returns its raw result.
// It implements protocol.Invoker for the embedded stubs and is the escape hatch for
// untyped calls: params is encoded with encoding/json (a json.RawMessage is sent as is).
// Errors are those of the typed calls.
func (c *Client) Invoke(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("moltzap: %s: %w", method, ErrNotConnected)
	}
	return s.Invoke(ctx, method, params)
}

// URL returns the server URL (as given in the options) of the current connection, or of
// the last one while reconnecting or after Close.
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eps[c.cur].url
}

// Hello returns the HelloOk of the current connection (of the last one while
// reconnecting).
func (c *Client) Hello() protocol.HelloOk {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hello
}

// AgentID returns the authenticated agent's id.
func (c *Client) AgentID() string {
	return string(c.Hello().AgentID)
}

// State returns the connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Done returns a channel closed by Close (and when the connection drops with reconnecting
// disabled).
func (c *Client) Done() <-chan struct{} {
	return c.done
}

// MalformedCount returns how many inbound frames were dropped as malformed: unparseable
// or invalid JSON-RPC frames, notifications failing their schema, and requests outside
// the callback catalog.
func (c *Client) MalformedCount() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.malformed.Load() + c.peerMalformed.Load()
	if c.sess != nil {
		n += c.sess.peer.MalformedCount()
	}
	return n
}

// Close closes the client from any state: it stops reconnecting, fails pending calls with
// ErrNotConnected, ends notification delivery (queued notifications are dropped), sends a
// 1000 "normal" close frame if the handshake had completed, and waits for the socket to
// close. It is idempotent; later calls return the first call's result.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.state = Closed
		s := c.sess
		c.sess = nil
		if s != nil {
			c.peerMalformed.Add(s.peer.MalformedCount())
		}
		c.mu.Unlock()
		c.cancel()
		c.notes.close()
		if s != nil {
			c.closeErr = s.close(true)
		}
		close(c.done)
	})
	return c.closeErr
}
