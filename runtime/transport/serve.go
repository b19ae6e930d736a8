package transport

import (
	"context"
)

// Start serves the connection in the background and returns at once; it
// reports false, and calls neither callback, when the connection was already
// started (by Start or Serve) or closed.
//
// onMessage is called for every inbound message, text or binary, one call at
// a time and in arrival order, on a worker of the shared engine; the slice is
// owned by the callee. It is not called once a close has started. It may
// block (that holds back reading this connection only), but a connection
// whose onMessage blocks holds a goroutine for that time. A nil onMessage
// discards messages.
//
// onClose, if not nil, is called once when the connection has ended, after
// the last onMessage call has returned and Done is closed, with the same
// CloseInfo as CloseInfo.
func (c *Conn) Start(onMessage func(msg []byte), onClose func(CloseInfo)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return false
	}
	c.onMessage, c.onClose = onMessage, onClose
	c.startLocked()
	return true
}

// Serve runs the connection until it ends and reports how it ended; it is
// Start plus a wait for Done. onMessage is as for Start.
//
// Cancelling ctx closes the connection with CloseGoingAway. Serve may be
// called once; further calls (or a call after Close) wait for the end and
// return the same CloseInfo.
func (c *Conn) Serve(ctx context.Context, onMessage func(msg []byte)) CloseInfo {
	if c.Start(onMessage, nil) {
		stop := context.AfterFunc(ctx, func() {
			c.startClose(CloseGoingAway, reasonGoingAway)
		})
		defer stop()
	}
	<-c.done
	return c.CloseInfo()
}

// startLocked sets the connection going: heartbeat timer, reader (a first
// read task that then arms the poller, or a reader goroutine without a
// poller) and a flush if something is queued already.
func (c *Conn) startLocked() {
	if c.started {
		return
	}
	c.started = true
	if c.cfg.PingInterval > 0 {
		c.tm.nextPing = c.eng.now() + int64(c.cfg.PingInterval)
		c.rescheduleLocked()
	}
	if c.polled {
		c.eng.register(c)
		c.eng.pool.submit(task{c: c, kind: taskRead})
	} else {
		c.readBusy = true
		go c.readLoop()
	}
	c.kickLocked()
}

// teardown runs once the read side has ended and no flush runs: the socket
// is closed, timers, queue and parse state are dropped, Done is closed and
// onClose is called.
func (c *Conn) teardown() {
	c.closeNet()
	c.mu.Lock()
	c.eng.timers.remove(c)
	c.dropQueueLocked()
	c.pong = nil
	info, onClose := c.info, c.onClose
	c.onClose = nil
	c.mu.Unlock()
	c.eng.unregister(c)
	c.fr = frameReader{}
	c.initial = nil
	close(c.done)
	if onClose != nil {
		onClose(info)
	}
}
