package transport

import (
	"errors"
	"fmt"
	"io"
)

// Read sizes.
const (
	// readBufSize is the size of the pooled buffers read tasks read into.
	readBufSize = 16 << 10
	// readBudget is the most reads of one read task: a connection with more
	// to read queues up again behind the others.
	readBudget = 16
	// fallbackBufSize is the buffer of a reader goroutine (no poller).
	fallbackBufSize = 4 << 10
)

// readScratch is what a read task borrows from the engine: the read buffer
// and the callbacks of its system calls (kept here, so that a read task
// allocates nothing).
type readScratch struct {
	buf []byte
	op  readOp // scratch of readNonblock

	conn   *Conn // what addFn registers
	addErr error
	addFn  func(fd uintptr)
}

// readTask reads what the socket holds, on a worker, when the poller has
// reported data (or once at start, to register the socket). It parses until
// the socket is drained; the read buffer goes back to the pool, so an idle
// connection keeps only the parse state of a frame in progress. A peer that
// stops mid-frame holds nothing but that state, and the frame deadline
// (Config.ReadTimeout) closes it. An event that comes while the task runs
// makes it read again (the poller is edge-triggered: that event is not
// repeated).
func (c *Conn) readTask() {
	c.mu.Lock()
	if c.readBusy || c.readDone || c.netClosed {
		// Busy: the running task reads again. Done or closed: a late event, or
		// closeNet is ending the read side right now.
		c.readAgain = c.readBusy
		c.mu.Unlock()
		return
	}
	c.readBusy = true
	c.mu.Unlock()

	if !c.fr.registered {
		c.fr.registered = true
		c.register()
		return
	}
	rs := c.eng.getReadScratch()
	defer c.eng.putReadScratch(rs)
	for {
		more, err := c.drain(rs)
		c.mu.Lock()
		again := c.readAgain && err == nil && !c.netClosed
		c.readAgain = false
		if !again {
			c.readBusy = false
		}
		closed := c.netClosed
		c.mu.Unlock()
		switch {
		case again:
			continue
		case err != nil:
			c.readEnded(err)
		case closed:
			c.readEnded(errLocalClose)
		case more:
			// Read budget used up with data left: queue up again behind the
			// other connections (no new event will come for what is there).
			c.eng.pool.submit(task{c: c, kind: taskRead})
		}
		return
	}
}

// drain parses the bytes left over from the handshake, then reads and parses
// until the socket is drained (more false), the read budget is used up (more
// true), or the read side ends (the error says how).
func (c *Conn) drain(rs *readScratch) (more bool, err error) {
	if p := c.initial; p != nil {
		c.initial = nil
		if err := c.consume(p); err != nil {
			return false, err
		}
		c.trackFrame()
	}
	for range readBudget {
		n, err := readNonblock(c.rc, rs)
		if n > 0 {
			if cerr := c.consume(rs.buf[:n]); cerr != nil {
				return false, cerr
			}
			c.trackFrame()
		}
		switch {
		case errors.Is(err, errWouldBlock):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("transport: read: %w", err)
		case n == 0:
			return false, fmt.Errorf("transport: read: %w", io.EOF)
		case n < len(rs.buf):
			// A short read of a stream socket: drained for now (epoll(7)); data
			// that comes after the read raises a new event.
			return false, nil
		}
	}
	return true, nil
}

// register adds the socket to the poller, which reports the data already
// there (handshake leftovers are parsed by the first read task it causes:
// c.initial). If the registration fails (descriptor limits of the poller),
// the connection falls back to a reader goroutine rather than failing. It
// runs as the read task, with readBusy set.
func (c *Conn) register() {
	rs := c.eng.getReadScratch()
	if rs.addFn == nil {
		rs.addFn = func(fd uintptr) { rs.addErr = rs.conn.eng.poller.add(int(fd), rs.conn.id) }
	}
	rs.conn = c
	err := c.rc.Control(rs.addFn)
	perr := rs.addErr
	rs.conn, rs.addErr = nil, nil
	c.eng.putReadScratch(rs)

	c.mu.Lock()
	if err == nil && perr != nil && !c.netClosed {
		c.polled = false // readBusy stays set: the goroutine owns the read side
		c.mu.Unlock()
		go c.readLoop()
		return
	}
	// An event may have come before readBusy is cleared: read once more then.
	again := err == nil && perr == nil && (c.readAgain || c.initial != nil)
	c.readAgain, c.readBusy = false, false
	closed := c.netClosed
	c.mu.Unlock()
	switch {
	case err != nil || perr != nil || closed:
		c.readEnded(errLocalClose) // Control fails only on a closed socket
	case again:
		c.eng.pool.submit(task{c: c, kind: taskRead})
	}
}

// readLoop is the reader goroutine of a Conn without a poller (another
// platform, a TLS socket): blocking reads into a buffer of its own.
func (c *Conn) readLoop() {
	buf := make([]byte, fallbackBufSize)
	c.readEnded(c.readStream(buf))
}

// readStream parses the handshake leftovers, then the socket, until the
// read side ends.
func (c *Conn) readStream(buf []byte) error {
	if p := c.initial; p != nil {
		c.initial = nil
		if err := c.consume(p); err != nil {
			return err
		}
		c.trackFrame()
	}
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			if cerr := c.consume(buf[:n]); cerr != nil {
				return cerr
			}
			c.trackFrame()
		}
		if err != nil {
			return fmt.Errorf("transport: read: %w", err)
		}
	}
}

// trackFrame keeps the frame deadline in step with the parse state after a
// chunk: set when a frame begun in this chunk is incomplete, cleared at a
// frame boundary, left alone while the same frame goes on.
func (c *Conn) trackFrame() {
	fr := &c.fr
	mid := fr.midFrame()
	switch {
	case mid && fr.fresh:
		fr.fresh, fr.deadlineSet = false, true
		c.setFrameDeadline(c.eng.now() + int64(c.cfg.ReadTimeout))
	case !mid:
		fr.fresh = false
		if fr.deadlineSet {
			fr.deadlineSet = false
			c.setFrameDeadline(0)
		}
	}
}

// setFrameDeadline sets (or with 0 clears) the frame deadline.
func (c *Conn) setFrameDeadline(at int64) {
	c.mu.Lock()
	c.tm.frameBy = at
	c.rescheduleLocked()
	c.mu.Unlock()
}

// readEnded ends the read side once, with readErr saying why: after the
// peer's close frame or a protocol failure the close frame still has to be
// written, otherwise the socket is done (end of stream, I/O error, local
// close).
func (c *Conn) readEnded(readErr error) {
	c.mu.Lock()
	if c.readDone {
		c.mu.Unlock()
		return
	}
	c.readDone = true
	handshake := errors.Is(readErr, errPeerClosed) || errors.Is(readErr, errFailed)
	waitWriter := handshake && c.closeReq && !c.closeSent && !c.netClosed
	c.setInfoLocked(CloseInfo{Code: CloseAbnormal, Reason: reasonAbnormal, Err: readErr})
	c.closing.Store(true)
	c.mu.Unlock()

	if !waitWriter {
		c.closeNet()
	}
	c.finishIfDone()
}
