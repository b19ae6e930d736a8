package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// session is one WebSocket connection with its JSON-RPC peer. It is rebuilt on every
// (re)connect; nothing in it survives the socket.
type session struct {
	conn  *transport.Conn
	peer  *rpc.Peer
	api   *protocol.Client // typed stubs bound to this session (handshake and restore)
	ended chan struct{}    // closed once the socket ended and the peer is closed
	info  transport.CloseInfo
}

// openSession dials the WebSocket at ws and starts serving it. The session's lifetime does
// not depend on ctx, which only bounds the dial.
func (c *Client) openSession(ctx context.Context, ws string) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, c.dialTimeout())
	defer cancel()
	conn, err := transport.Dial(dctx, ws, c.opts.Transport)
	if err != nil {
		return nil, fmt.Errorf("moltzap: dial %s: %w", ws, err)
	}
	s := &session{conn: conn, ended: make(chan struct{})}
	s.peer = rpc.NewPeer(conn, c.handler, rpc.Options{
		Role:             rpc.RoleClient,
		CallTimeout:      c.opts.CallTimeout,
		Logger:           c.log,
		MaxQueuedInbound: rpc.DefaultMaxQueuedInbound,
	})
	s.api = protocol.NewClient(s)
	sctx, stop := context.WithCancel(context.Background())
	go func() {
		info := conn.Serve(sctx, func(msg []byte) { s.peer.HandleFrame(sctx, msg) })
		s.info = info
		// In-flight calls fail with ErrNotConnected (REFERENCE 17.3).
		s.peer.Close(ErrNotConnected)
		stop()
		close(s.ended)
	}()
	return s, nil
}

// dialTimeout bounds the WebSocket dial of one connect attempt.
func (c *Client) dialTimeout() time.Duration {
	if c.opts.CallTimeout > 0 {
		return c.opts.CallTimeout
	}
	return DefaultCallTimeout
}

// Invoke sends one request on this session, whatever the client's state.
func (s *session) Invoke(ctx context.Context, method string, params any) (json.RawMessage, error) {
	var raw json.RawMessage
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return nil, fmt.Errorf("moltzap: %s: encode params: %w", method, err)
		}
		raw = b
	}
	res, err := s.peer.Call(ctx, method, raw)
	if err != nil {
		return nil, callError(method, err)
	}
	return res, nil
}

// close closes the socket (with 1000 "normal" when the handshake completed, else 1001)
// and waits for it to end.
func (s *session) close(handshook bool) error {
	s.peer.Close(ErrNotConnected)
	code, reason := transport.CloseGoingAway, "connect failed"
	if handshook {
		code, reason = transport.CloseNormal, "normal"
	}
	err := s.conn.Close(code, reason)
	<-s.ended
	if err != nil {
		return fmt.Errorf("moltzap: close connection: %w", err)
	}
	return nil
}
