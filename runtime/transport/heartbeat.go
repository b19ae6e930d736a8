package transport

// onTimer runs, in the timer heap's goroutine, when the earliest deadline of
// c is due: the heartbeat tick (a ping every PingInterval; a close with
// CloseGoingAway once MaxMissedPings consecutive intervals have passed
// without any inbound frame, protocol reference section 2.6), the frame
// deadline (a frame begun more than ReadTimeout ago is still incomplete:
// close with ClosePolicyViolation) and the end of the wait for the peer's
// close frame (the socket is closed).
func (c *Conn) onTimer(now int64) {
	var ping, silent, stalled, waited bool
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	t := &c.tm
	if t.nextPing != 0 && now >= t.nextPing {
		ping, silent = c.heartbeatLocked(now)
	}
	if t.frameBy != 0 && now >= t.frameBy {
		stalled, t.frameBy = true, 0
	}
	if t.closeWait != 0 && now >= t.closeWait {
		waited, t.closeWait = true, 0
	}
	c.rescheduleLocked()
	c.mu.Unlock()

	switch {
	case waited:
		c.closeNet()
	case silent:
		c.startClose(CloseGoingAway, reasonHeartbeat)
	case stalled:
		c.startClose(ClosePolicyViolation, reasonFrameTimeout)
	case ping:
		c.queuePing()
	}
}

// heartbeatLocked runs one heartbeat tick: it reports whether to ping and
// whether the peer has been silent too long, and sets the next tick.
func (c *Conn) heartbeatLocked(now int64) (ping, silent bool) {
	t := &c.tm
	if c.closing.Load() {
		t.nextPing = 0
		return false, false
	}
	if c.activity.Swap(false) {
		t.missed = 0
	} else {
		t.missed++
	}
	if t.missed >= c.cfg.MaxMissedPings {
		t.nextPing = 0
		return false, true
	}
	t.nextPing += int64(c.cfg.PingInterval)
	if t.nextPing <= now {
		t.nextPing = now + int64(c.cfg.PingInterval)
	}
	return true, false
}

// queuePing asks the writer for a ping frame.
func (c *Conn) queuePing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return
	}
	c.pingWanted = true
	c.kickLocked()
}

// queuePong asks the writer for a pong echoing p; only the latest ping is
// answered when several arrive before the writer runs (RFC 6455 5.5.3).
func (c *Conn) queuePong(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return
	}
	c.pongWanted = true
	c.pong = append(c.pong[:0], p...)
	c.kickLocked()
}
