package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

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

// client is one authenticated agent connection: a sock with an rpc.Peer on top. Frames
// that are messages/received bypass the Peer and go to the receiver.
type client struct {
	s       *sock
	peer    *rpc.Peer
	recv    atomic.Pointer[receiver]
	agentID string
	ended   chan struct{} // closed once the read goroutine has finished
}

// open dials the server, authenticates with the agent key and returns the client.
func (r *runner) open(ctx context.Context, apiKey string) (*client, error) {
	s, err := dialSock(ctx, r.cfg.wsURL, r.netDial)
	if err != nil {
		return nil, err
	}
	c := &client{s: s, ended: make(chan struct{})}
	c.peer = rpc.NewPeer(s, nil, rpc.Options{CallTimeout: callTimeout})
	go c.read()
	var hello struct {
		AgentID string `json:"agentId"`
	}
	params := map[string]string{"agentKey": apiKey, "minProtocol": "0", "maxProtocol": "9999.9999.9999"}
	if err := c.call(ctx, "network/connect", params, &hello); err != nil {
		c.close()
		return nil, err
	}
	c.agentID = hello.AgentID
	return c, nil
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

// call sends a request with params encoded as JSON and decodes the result into out (if
// set).
func (c *client) call(ctx context.Context, method string, params, out any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: encode params: %w", method, err)
	}
	res, err := c.callRaw(ctx, method, raw)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			return fmt.Errorf("%s: decode result: %w", method, err)
		}
	}
	return nil
}

// callRaw sends a request with encoded params and returns the raw result.
func (c *client) callRaw(ctx context.Context, method string, params []byte) (json.RawMessage, error) {
	res, err := c.peer.Call(ctx, method, params)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Code == codeRateLimited {
			return nil, fmt.Errorf("%s: %w (the server's per-agent limits are too low for load: raise --messages-per-minute and --requests-per-minute)", method, err)
		}
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
