package transport

import (
	"context"
	"errors"
)

// Serve runs the connection until it ends and reports how it ended. The read
// loop runs in the caller's goroutine; Serve also starts and owns the writer
// and heartbeat goroutines, which have exited when it returns.
//
// onMessage is called for every inbound message, text or binary, one call at
// a time and in arrival order; the slice is owned by the callee. It is not
// called once a close has started. A nil onMessage discards messages.
//
// Cancelling ctx closes the connection with CloseGoingAway. Serve may be
// called once; further calls (or a call after Close) wait for the end and
// return the same CloseInfo.
func (c *Conn) Serve(ctx context.Context, onMessage func(msg []byte)) CloseInfo {
	if !c.claim() {
		<-c.done
		return c.CloseInfo()
	}
	c.run(ctx, onMessage)
	return c.CloseInfo()
}

// claim reports whether the caller gets to run the engine.
func (c *Conn) claim() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return false
	}
	c.started = true
	return true
}

// startLocked runs the engine in the background when nobody serves the
// connection yet, so that a close started before Serve completes.
func (c *Conn) startLocked() {
	if c.started {
		return
	}
	c.started = true
	go c.run(context.Background(), nil)
}

// run is the engine: writer and heartbeat goroutines plus the read loop in
// the current goroutine, then the teardown.
func (c *Conn) run(ctx context.Context, onMessage func([]byte)) {
	c.wg.Add(1)
	go c.writeLoop()
	if c.cfg.PingInterval > 0 {
		c.wg.Add(1)
		go c.heartbeatLoop()
	}
	stopWatch := context.AfterFunc(ctx, func() {
		c.startClose(CloseGoingAway, reasonGoingAway)
	})
	err := c.readLoop(onMessage)
	stopWatch()
	c.finish(err)
}

// finish tears the connection down after the read loop ended with readErr.
func (c *Conn) finish(readErr error) {
	c.mu.Lock()
	// After the peer's close frame or a protocol failure, the close frame
	// still has to be written; otherwise the socket is done (EOF, I/O error,
	// or the wait for the peer's close frame is over).
	handshake := errors.Is(readErr, errPeerClosed) || errors.Is(readErr, errFailed)
	waitWriter := handshake && c.closeReq && !c.closeSent && !c.netClosed
	c.setInfoLocked(CloseInfo{Code: CloseAbnormal, Reason: reasonAbnormal, Err: readErr})
	c.closing.Store(true)
	c.mu.Unlock()

	if !waitWriter {
		c.closeNet()
	}
	close(c.stop)
	c.wg.Wait()
	c.closeNet()

	c.mu.Lock()
	clear(c.queue)
	c.queue = nil
	c.pending, c.pendingSize = 0, 0
	c.mu.Unlock()
	close(c.done)
}
