package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// codeRateLimited is the JSON-RPC code of a rate-limited request (REFERENCE 2.8).
const codeRateLimited = -32004

// callTimeout bounds one request of a workload.
const callTimeout = 30 * time.Second

// receiver is called on the read goroutine of a client for every messages/received frame
// with the message id and the frame's arrival time. It must not block.
type receiver func(id msgKey, at time.Time)

// client is one authenticated agent connection: a sock with an rpc.Peer on top, and the
// generated typed stubs (api) over the Peer for the setup calls. Frames that are
// messages/received bypass the Peer and go to the receiver.
type client struct {
	s       *sock
	peer    *rpc.Peer
	api     *protocol.Client
	recv    atomic.Pointer[receiver]
	agentID protocol.AgentID
	node    int           // index of the node the socket is open on (Config: BaseURL, NodeURLs...)
	ended   chan struct{} // closed once the read goroutine has finished
}

// open dials node n (an index into the nodes), authenticates with the agent key and returns
// the client.
func (r *runner) open(ctx context.Context, n int, apiKey string) (*client, error) {
	s, err := dialSock(ctx, r.cfg.nodes[n].ws, r.netDial)
	if err != nil {
		return nil, err
	}
	c := &client{s: s, node: n, ended: make(chan struct{})}
	c.peer = rpc.NewPeer(s, nil, rpc.Options{CallTimeout: callTimeout})
	c.api = protocol.NewClient(c)
	go c.read()
	hello, err := c.api.NetworkConnect(ctx, protocol.AgentKeyCredentials{
		AgentKey:    apiKey,
		MinProtocol: protocol.ProtocolVersion,
		MaxProtocol: releaseLineMax(protocol.ProtocolVersion),
	})
	if err != nil {
		c.close()
		if len(r.cfg.nodes) > 1 {
			return nil, fmt.Errorf("%s on %s: %w", protocol.MethodNetworkConnect, r.cfg.nodes[n].ws, err)
		}
		return nil, fmt.Errorf("%s: %w", protocol.MethodNetworkConnect, err)
	}
	c.agentID = hello.AgentID
	return c, nil
}

// releaseLineMax returns "YYYY.MDD.999999" for the version "YYYY.MDD.PATCH": the highest
// version of the release line this package's generated types describe.
func releaseLineMax(v string) protocol.ProtocolVersionString {
	year, rest, _ := strings.Cut(v, ".")
	line, _, _ := strings.Cut(rest, ".")
	return protocol.ProtocolVersionString(year + "." + line + ".999999")
}

// read runs the socket's read loop until it ends, then closes the Peer.
func (c *client) read() {
	defer close(c.ended)
	err := c.s.readLoop(func(msg []byte, at time.Time) {
		if id, ok := receivedID(msg); ok {
			if f := c.recv.Load(); f != nil {
				(*f)(id, at)
			}
			return
		}
		c.peer.HandleFrame(context.Background(), bytes.Clone(msg))
	})
	c.peer.Close(err)
}

// onReceived installs f as the messages/received receiver.
func (c *client) onReceived(f receiver) { c.recv.Store(&f) }

// Invoke sends one request whose params the generated stubs encoded (a json.RawMessage,
// or nil for none) and returns the raw result. It implements protocol.Invoker.
func (c *client) Invoke(ctx context.Context, method string, params any) (json.RawMessage, error) {
	var raw json.RawMessage
	switch p := params.(type) {
	case nil:
	case json.RawMessage:
		raw = p
	default:
		return nil, fmt.Errorf("params of type %T: want encoded JSON", params)
	}
	res, err := c.peer.Call(ctx, method, raw)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Code == codeRateLimited {
			return nil, fmt.Errorf("%w (the server's per-agent limits are too low for load: raise --messages-per-minute and --requests-per-minute)", err)
		}
		return nil, err
	}
	return res, nil
}

// callRaw sends a request with encoded params and returns the raw result; errors name the
// method. It is the hot path of the message workloads.
func (c *client) callRaw(ctx context.Context, method string, params []byte) (json.RawMessage, error) {
	res, err := c.Invoke(ctx, method, json.RawMessage(params))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return res, nil
}

// close closes the socket (close handshake bounded by closeWait) and waits for the read
// goroutine.
func (c *client) close() {
	c.s.close()
	<-c.ended
}

// closeAll closes every non-nil client, workers at a time.
func closeAll(clients []*client, workers int) {
	_ = forEach(context.Background(), len(clients), workers, func(_ context.Context, i int) error {
		if c := clients[i]; c != nil {
			c.close()
		}
		return nil
	})
}
