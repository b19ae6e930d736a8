package client

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// supervise is the client's connection goroutine: it waits for the current connection to
// end and, unless Close ended it, reports the disconnect and reconnects (REFERENCE 17.1).
func (c *Client) supervise(s *session) {
	for {
		<-s.ended
		c.mu.Lock()
		if c.sess == s {
			c.sess = nil
			c.peerMalformed.Add(s.peer.MalformedCount())
		}
		closed := c.closed
		disabled := c.opts.Reconnect.Disabled
		if !closed {
			c.state = Reconnecting
			if disabled {
				c.state = Closed
			}
		}
		c.mu.Unlock()
		if closed {
			return
		}
		info := closeInfoFrom(s.info)
		c.log.Info("moltzap client: connection lost", "url", c.URL(), "code", info.Code, "reason", info.Reason, "err", s.info.Err)
		c.fireDisconnect(info)
		if disabled {
			_ = c.Close()
			return
		}
		if s = c.reconnect(); s == nil {
			return
		}
	}
}

// reconnect retries establish with backoff until it succeeds (and then fires the reconnect
// callbacks) or Close is called (nil). The attempts go round-robin over the endpoints,
// starting with the one after the connection that was lost; attempt n waits the backoff
// delay of round n/len(endpoints), so every node is tried before the delay grows.
func (c *Client) reconnect() *session {
	c.mu.Lock()
	last := c.cur
	c.mu.Unlock()
	for n := 0; ; n++ {
		idx := (last + 1 + n) % len(c.eps)
		t := time.NewTimer(c.opts.Reconnect.delay(n/len(c.eps), rand.Float64()))
		select {
		case <-c.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		ctx, cancel := c.attemptContext()
		s, hello, err := c.establish(ctx, idx)
		cancel()
		if err == nil {
			c.log.Info("moltzap client: reconnected", "attempts", n+1, "url", c.eps[idx].url)
			c.fireReconnect(hello)
			return s
		}
		if c.ctx.Err() != nil {
			return nil
		}
		c.log.Warn("moltzap client: reconnect attempt failed", "attempt", n+1, "url", c.eps[idx].url, "err", err)
	}
}

// attemptContext bounds one reconnect attempt when calls have no timeout of their own.
func (c *Client) attemptContext() (context.Context, context.CancelFunc) {
	if c.opts.CallTimeout > 0 {
		return context.WithCancel(c.ctx)
	}
	return context.WithTimeout(c.ctx, DefaultCallTimeout)
}

// delay returns the wait before attempt n (from 0): min(Base*2^n, Max) scaled by
// 1 + Jitter*(2u-1) for u uniform in [0, 1).
func (b Backoff) delay(n int, u float64) time.Duration {
	d := float64(b.Max)
	if n < 62 {
		d = math.Min(float64(b.Base)*math.Pow(2, float64(n)), float64(b.Max))
	}
	d *= 1 + b.Jitter*(2*u-1)
	if d < 0 {
		d = 0
	}
	return time.Duration(d)
}

// fireDisconnect calls Options.OnDisconnect and the OnDisconnect hooks.
func (c *Client) fireDisconnect(info CloseInfo) {
	if c.opts.OnDisconnect != nil {
		c.safely("OnDisconnect", func() { c.opts.OnDisconnect(info) })
	}
	for _, fn := range c.disconnectHooks.snapshot() {
		c.safely("OnDisconnect hook", func() { fn(info) })
	}
}

// fireReconnect calls Options.OnReconnect and the OnReconnect hooks.
func (c *Client) fireReconnect(hello protocol.HelloOk) {
	if c.opts.OnReconnect != nil {
		c.safely("OnReconnect", func() { c.opts.OnReconnect(hello) })
	}
	for _, fn := range c.reconnectHooks.snapshot() {
		c.safely("OnReconnect hook", func() { fn(hello) })
	}
}
