package transport

import (
	"fmt"
)

// Close closes the connection gracefully: messages queued before the call
// are written (all writes bounded by WriteTimeout), a close frame with code
// and reason is sent, the peer's close frame is awaited for up to one second,
// then the socket is closed. reason is truncated to 123 bytes.
//
// Close waits until the connection is fully closed, except when called while
// onMessage is running (for instance from onMessage itself), where it only
// starts the close; use Done to wait. Close is idempotent: once a close has
// started, further calls only wait for it. It returns an error wrapping
// ErrInvalidCloseCode, without closing, for a code that may not be sent
// (1005, 1006, 1015, or outside 1000-4999).
func (c *Conn) Close(code CloseCode, reason string) error {
	if !code.sendable() {
		return fmt.Errorf("transport: close with code %d: %w", code, ErrInvalidCloseCode)
	}
	c.startClose(code, reason)
	if c.inHandler.Load() {
		return nil
	}
	<-c.done
	return nil
}

// startClose starts a graceful, locally initiated close without waiting. It
// does nothing if a close has already started. A Conn not started yet is
// started without callbacks, so that the close completes.
func (c *Conn) startClose(code CloseCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return
	}
	reason = truncateReason(reason)
	c.closing.Store(true)
	c.setInfoLocked(CloseInfo{Code: code, Reason: reason, Local: true})
	c.closeReq = true
	c.closeFrame = closeBody(code, reason)
	c.closeBy = c.eng.now() + int64(c.cfg.WriteTimeout)
	c.startLocked()
	c.kickLocked()
}

// abortLocked closes a slow consumer: queued messages are dropped, a write
// in progress is interrupted by closing the socket (the stream is then cut
// mid-frame, so no close frame can follow), otherwise the writer sends the
// close frame and closes the socket without waiting for the peer. It reports
// whether the caller must close the socket, which must not be done while
// holding the lock.
func (c *Conn) abortLocked(code CloseCode, reason string) (closeNow bool) {
	c.closing.Store(true)
	c.setInfoLocked(CloseInfo{Code: code, Reason: reason, Local: true})
	c.aborted = true
	c.dropQueueLocked()
	if !c.closeReq {
		c.closeReq = true
		c.closeFrame = closeBody(code, reason)
	}
	c.startLocked()
	c.kickLocked()
	return c.writing && c.inflight > 0
}

// onPeerClose handles the peer's close frame payload p: the close is
// recorded and answered with a close frame echoing the code; queued messages
// are dropped. A malformed payload is answered with CloseProtocolError.
func (c *Conn) onPeerClose(p []byte) {
	code, reason, ok := parseCloseBody(p)
	var info CloseInfo
	var echo []byte
	switch {
	case !ok:
		info = CloseInfo{Code: CloseProtocolError, Reason: reasonProtocol, Local: true}
		echo = closeBody(CloseProtocolError, reasonProtocol)
	case code == CloseNoStatus:
		info = CloseInfo{Code: code}
		echo = []byte{}
	default:
		info = CloseInfo{Code: code, Reason: reason}
		echo = closeBody(code, "")
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing.Store(true)
	c.peerClosed = true
	c.setInfoLocked(info)
	c.dropQueueLocked()
	if !c.closeReq {
		c.closeReq = true
		c.closeFrame = echo
		c.closeBy = c.eng.now() + int64(c.cfg.WriteTimeout)
	}
	c.kickLocked()
}

// dropQueueLocked discards the messages not yet taken by the writer.
func (c *Conn) dropQueueLocked() {
	if c.queue != nil {
		c.eng.putQueue(c.queue)
		c.queue = nil
	}
	c.pending, c.pendingSize = 0, 0
}
