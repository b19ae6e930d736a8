package client

import (
	"context"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// establish opens a connection to endpoint idx, authenticates it, restores the
// per-connection server state (TaskMaster apps, presence watch set) and publishes it as the
// client's connection. On failure the socket is closed and nothing is published.
func (c *Client) establish(ctx context.Context, idx int) (*session, protocol.HelloOk, error) {
	s, err := c.openSession(ctx, c.eps[idx].ws)
	if err != nil {
		return nil, protocol.HelloOk{}, err
	}
	hello, err := s.api.NetworkConnect(ctx, c.opts.credentials())
	if err != nil {
		c.abandon(s, false)
		return nil, protocol.HelloOk{}, err
	}
	if c.onConnect != nil {
		if err := c.onConnect(ctx, s.api); err != nil {
			c.abandon(s, true)
			return nil, protocol.HelloOk{}, err
		}
	}
	// The watch set is re-sent and the connection published under watchMu, so that a
	// SetPresenceWatch racing with a reconnect is either applied here or sent by itself.
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if len(c.watch) > 0 {
		_, err := s.api.PresenceSubscribe(ctx, protocol.PresenceSubscribeParams{AgentIDs: c.watch})
		if err != nil {
			if connectionLost(err) {
				c.abandon(s, true)
				return nil, protocol.HelloOk{}, fmt.Errorf("moltzap: restore presence watch: %w", err)
			}
			// A verdict (for instance an agent no longer visible) must not keep the
			// client offline; the server keeps an empty watch set.
			c.log.Warn("moltzap client: presence watch not restored", "err", err)
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.abandon(s, true)
		return nil, protocol.HelloOk{}, fmt.Errorf("moltzap: connect: %w", ErrNotConnected)
	}
	c.sess = s
	c.hello = hello
	c.cur = idx
	c.state = Connected
	c.mu.Unlock()
	return s, hello, nil
}

// abandon closes a connection that was never published (or is being discarded) and keeps
// its malformed-frame count.
func (c *Client) abandon(s *session, handshook bool) {
	if err := s.close(handshook); err != nil {
		c.log.Debug("moltzap client: close abandoned connection", "err", err)
	}
	c.peerMalformed.Add(s.peer.MalformedCount())
}
