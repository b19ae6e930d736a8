package transport

import "time"

// heartbeatLoop pings the peer every PingInterval and closes the connection
// with CloseGoingAway once MaxMissedPings consecutive intervals have passed
// without any inbound frame (protocol reference section 2.6).
func (c *Conn) heartbeatLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.activity.Swap(false) {
			missed = 0
		} else {
			missed++
		}
		if missed >= c.cfg.MaxMissedPings {
			c.startClose(CloseGoingAway, reasonHeartbeat)
			return
		}
		c.queuePing()
	}
}

// queuePing asks the writer for a ping frame.
func (c *Conn) queuePing() {
	c.mu.Lock()
	if c.closing.Load() {
		c.mu.Unlock()
		return
	}
	c.pingWanted = true
	c.mu.Unlock()
	c.wakeWriter()
}

// queuePong asks the writer for a pong echoing p; only the latest ping is
// answered when several arrive before the writer runs (RFC 6455 5.5.3).
func (c *Conn) queuePong(p []byte) {
	c.mu.Lock()
	if c.closing.Load() {
		c.mu.Unlock()
		return
	}
	c.pongWanted = true
	c.pongLen = copy(c.pongBuf[:], p)
	c.mu.Unlock()
	c.wakeWriter()
}
