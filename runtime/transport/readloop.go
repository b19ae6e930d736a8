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
	// to read re-arms and queues up again behind the others.
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

	conn   *Conn // what armFn arms
	first  bool
	armErr error
	armFn  func(fd uintptr)
}

// readTask reads what the socket holds, on a worker, when the poller has
// reported it readable (or once at start). It parses until the socket would
// block, then re-arms the poller; the read buffer goes back to the pool, so
// an idle connection keeps only the parse state of a frame in progress. A
// peer that stops mid-frame holds nothing but that state, and the frame
// deadline (Config.ReadTimeout) closes it.
func (c *Conn) readTask() {
	c.mu.Lock()
	if c.readBusy || c.readDone || c.netClosed {
		// A late event, or closeNet is ending the read side right now.
		c.mu.Unlock()
		return
	}
	c.readBusy = true
	c.mu.Unlock()

	rs := c.eng.getReadScratch()
	err := c.drain(rs)
	first := !c.fr.registered
	c.fr.registered = true

	c.mu.Lock()
	c.readBusy = false
	closed := c.netClosed
	c.mu.Unlock()
	switch {
	case err != nil:
		c.readEnded(err)
	case closed:
		c.readEnded(errLocalClose)
	default:
		c.arm(rs, first)
	}
	c.eng.putReadScratch(rs)
}

// drain parses the bytes left over from the handshake, then reads and parses
// until the socket would block, the read budget is used up, or the read side
// ends (the error says how).
func (c *Conn) drain(rs *readScratch) error {
	if p := c.initial; p != nil {
		c.initial = nil
		if err := c.consume(p); err != nil {
			return err
		}
		c.trackFrame()
	}
	for range readBudget {
		n, err := readNonblock(c.rc, rs)
		if n > 0 {
			if cerr := c.consume(rs.buf[:n]); cerr != nil {
				return cerr
			}
			c.trackFrame()
		}
		switch {
		case errors.Is(err, errWouldBlock):
			return nil
		case err != nil:
			return fmt.Errorf("transport: read: %w", err)
		case n == 0:
			return fmt.Errorf("transport: read: %w", io.EOF)
		case n < len(rs.buf):
			// Most likely drained; if not, the re-armed (level-triggered)
			// poller reports the rest at once.
			return nil
		}
	}
	return nil
}

// arm asks the poller for the next readiness event. If the first
// registration fails (descriptor limits of the poller), the connection
// falls back to a reader goroutine rather than failing.
func (c *Conn) arm(rs *readScratch, first bool) {
	if rs.armFn == nil {
		rs.armFn = func(fd uintptr) {
			if rs.first {
				rs.armErr = rs.conn.eng.poller.add(int(fd), rs.conn.id)
			} else {
				rs.armErr = rs.conn.eng.poller.rearm(int(fd), rs.conn.id)
			}
		}
	}
	rs.conn, rs.first = c, first
	err := c.rc.Control(rs.armFn)
	perr := rs.armErr
	rs.conn, rs.armErr = nil, nil
	switch {
	case err != nil:
		c.readEnded(errLocalClose) // Control fails only on a closed socket
	case perr != nil && first:
		c.mu.Lock()
		fallback := !c.netClosed
		if fallback {
			c.polled, c.readBusy = false, true
		}
		c.mu.Unlock()
		if fallback {
			go c.readLoop()
			return
		}
		c.readEnded(errLocalClose)
	case perr != nil:
		c.readEnded(perr)
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
