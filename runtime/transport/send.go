package transport

// Send queues msg to be written as one text frame and returns without
// waiting for the write. msg is never modified and must not be modified by
// the caller afterwards; the same slice may be sent on many connections
// (fan-out: it is encoded once, and each connection costs one queue append;
// the connection's writer sends everything queued in one writev).
//
// Send returns ErrClosed once a close has started. When the queue would
// exceed WriteQueueLen messages or WriteQueueBytes bytes, the peer is
// considered a slow consumer: the connection is closed with
// ClosePolicyViolation "slow consumer: write queue full" and Send returns
// ErrQueueFull.
func (c *Conn) Send(msg []byte) error {
	c.mu.Lock()
	if c.closing.Load() {
		c.mu.Unlock()
		return ErrClosed
	}
	count := c.pending + c.inflight + 1
	size := c.pendingSize + c.inflightLen + len(msg)
	if count > c.cfg.WriteQueueLen || size > c.cfg.WriteQueueBytes {
		closeNow := c.abortLocked(ClosePolicyViolation, reasonSlowConsumer)
		c.mu.Unlock()
		if closeNow {
			c.closeNet()
		}
		return ErrQueueFull
	}
	if c.queue == nil {
		c.queue = c.eng.getQueue()
	}
	c.queue.msgs = append(c.queue.msgs, msg)
	c.pending++
	c.pendingSize += len(msg)
	c.kickLocked()
	c.mu.Unlock()
	return nil
}
