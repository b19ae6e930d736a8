package transport

import (
	"fmt"
	"time"

	"github.com/gobwas/ws"
)

// writeJob is what the writer writes in one go; it is owned by the writer
// goroutine and reused.
type writeJob struct {
	pong     bool
	pongLen  int
	pongBuf  [ws.MaxControlFramePayloadSize]byte
	ping     bool
	batch    [][]byte
	batchLen int
	close    bool
	frame    []byte    // close frame payload
	deadline time.Time // zero: a fresh deadline per frame
	abort    bool
}

// writeLoop is the only goroutine writing to the socket. It exits after
// writing the close frame, on a write error, or when the read loop has ended
// and nothing is left to write.
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	var j writeJob
	stopping := false
	for {
		if c.nextJob(&j) {
			err := c.writeJob(&j)
			c.finishJob(&j, err)
			if err != nil {
				c.failWrite(err)
				return
			}
			if j.close {
				c.afterCloseFrame(j.abort)
				return
			}
			continue
		}
		if stopping {
			return
		}
		select {
		case <-c.wake:
		case <-c.stop:
			stopping = true
		}
	}
}

// nextJob fills j with the pending work and reports whether there is any.
func (c *Conn) nextJob(j *writeJob) bool {
	j.pong, j.ping, j.close, j.abort = false, false, false, false
	j.frame, j.deadline = nil, time.Time{}
	j.batch, j.batchLen = j.batch[:0], 0

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent || c.netClosed {
		return false
	}
	if c.aborted {
		j.close, j.abort, j.frame = true, true, c.closeFrame
		j.deadline = time.Now().Add(min(c.cfg.WriteTimeout, closeWait))
		c.writing = true
		return true
	}
	if !c.peerClosed {
		if c.pongWanted && !c.closeReq {
			j.pong, j.pongLen = true, copy(j.pongBuf[:], c.pongBuf[:c.pongLen])
		}
		if c.pingWanted && !c.closeReq {
			j.ping = true
		}
		if c.pending > 0 {
			j.batch, c.queue = c.queue, j.batch
			j.batchLen = c.pendingSize
			c.inflight, c.inflightLen = c.pending, c.pendingSize
			c.pending, c.pendingSize = 0, 0
		}
	}
	c.pongWanted, c.pingWanted = false, false
	if c.closeReq {
		// Send refuses new messages once closing, so the queue taken above
		// is the last one and the close frame can follow it.
		j.close, j.frame, j.deadline = true, c.closeFrame, c.closeBy
	}
	if !j.pong && !j.ping && !j.close && len(j.batch) == 0 {
		return false
	}
	c.writing = true
	return true
}

// finishJob records the outcome of a job.
func (c *Conn) finishJob(j *writeJob, err error) {
	c.mu.Lock()
	c.writing = false
	c.inflight, c.inflightLen = 0, 0
	if j.close && err == nil {
		c.closeSent = true
	}
	c.mu.Unlock()
	clear(j.batch) // drop references to the messages
}

// writeJob writes j and flushes it.
func (c *Conn) writeJob(j *writeJob) error {
	if !j.deadline.IsZero() {
		if err := c.nc.SetWriteDeadline(j.deadline); err != nil {
			return fmt.Errorf("transport: set write deadline: %w", err)
		}
	}
	if j.pong {
		if err := c.writeFrame(ws.OpPong, j.pongBuf[:j.pongLen], j.deadline); err != nil {
			return err
		}
	}
	if j.ping {
		if err := c.writeFrame(ws.OpPing, nil, j.deadline); err != nil {
			return err
		}
	}
	for _, msg := range j.batch {
		if err := c.writeFrame(ws.OpText, msg, j.deadline); err != nil {
			return err
		}
		c.stats.messagesOut.Add(1)
	}
	if j.close {
		if err := c.writeFrame(ws.OpClose, j.frame, j.deadline); err != nil {
			return err
		}
	}
	if err := c.bw.Flush(); err != nil {
		return fmt.Errorf("transport: write: %w", err)
	}
	return nil
}

// writeFrame writes one unfragmented frame into the buffered writer. Without
// a job deadline, the frame gets WriteTimeout from now. Client frames are
// masked in the writer's buffer, never in p.
func (c *Conn) writeFrame(op ws.OpCode, p []byte, deadline time.Time) error {
	if deadline.IsZero() {
		if err := c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout)); err != nil {
			return fmt.Errorf("transport: set write deadline: %w", err)
		}
	}
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	if c.mask != nil {
		h.Masked = true
		v := c.mask.Uint64()
		h.Mask = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	}
	if err := ws.WriteHeaderBuffer(c.bw, h, c.whdr[:]); err != nil {
		return fmt.Errorf("transport: write %v frame header: %w", op, err)
	}
	var err error
	if h.Masked {
		err = c.writeMasked(p, h.Mask)
	} else {
		_, err = c.bw.Write(p)
	}
	if err != nil {
		return fmt.Errorf("transport: write %v frame: %w", op, err)
	}
	c.stats.framesOut.Add(1)
	c.stats.bytesOut.Add(uint64(len(p)))
	return nil
}

// writeMasked writes p masked with mask, masking copies made in the free
// space of the buffered writer so that p itself is left untouched.
func (c *Conn) writeMasked(p []byte, mask [4]byte) error {
	for pos := 0; pos < len(p); {
		if c.bw.Available() == 0 {
			if err := c.bw.Flush(); err != nil {
				return err
			}
		}
		buf := c.bw.AvailableBuffer()
		n := min(len(p)-pos, cap(buf))
		buf = append(buf, p[pos:pos+n]...)
		ws.Cipher(buf, mask, pos)
		if _, err := c.bw.Write(buf); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// afterCloseFrame runs once the close frame is written: an aborted
// connection is closed at once; otherwise, unless the peer has already
// closed, the read loop gets closeWait to receive the peer's close frame.
func (c *Conn) afterCloseFrame(abort bool) {
	if abort {
		c.closeNet()
		return
	}
	c.mu.Lock()
	wait := !c.peerClosed && !c.netClosed
	c.mu.Unlock()
	if wait {
		// A failure here means the socket is closed; the read loop ends anyway.
		_ = c.nc.SetReadDeadline(time.Now().Add(closeWait))
	}
}

// failWrite ends the connection after a write error.
func (c *Conn) failWrite(err error) {
	c.mu.Lock()
	c.closing.Store(true)
	c.setInfoLocked(CloseInfo{Code: CloseAbnormal, Reason: reasonAbnormal, Err: err})
	c.mu.Unlock()
	c.closeNet()
}
