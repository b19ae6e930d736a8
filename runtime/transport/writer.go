package transport

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gobwas/ws"
)

// maxPooledArena is the largest header (and masked payload) buffer kept in
// the pool; bigger ones are left to the garbage collector.
const maxPooledArena = 64 << 10

// msgQueue holds the messages queued on a connection; it comes from the
// engine's pool with the first message and goes back once written.
type msgQueue struct {
	msgs [][]byte
}

// writeBatch is one job of the writer: everything taken from the connection
// in one go, encoded as frame headers in arena and written with one writev
// (bufs alternates headers and the callers' payloads, which are never copied
// on the server side). It is pooled and only held while a flush runs.
type writeBatch struct {
	q        *msgQueue // messages; nil when none
	pong     bool
	pongLen  int
	pongBuf  [ws.MaxControlFramePayloadSize]byte
	ping     bool
	close    bool
	frame    []byte // close frame payload
	deadline int64  // engine clock; 0: WriteTimeout from the start of a blocking write
	abort    bool

	arena []byte
	bufs  net.Buffers // the frames of the job
	out   net.Buffers // what is left to write of bufs; nil between jobs

	op writeOp // scratch of writeNonblock
}

// kickLocked starts a flush when there is something to write and none runs.
// A connection with a pollable socket joins the engine's flush queue, whose
// few runners write without ever blocking; any other goes to a worker that
// may block in the write.
func (c *Conn) kickLocked() {
	if c.writing || !c.started || c.netClosed || c.closeSent {
		return
	}
	if c.pending == 0 && !c.closeReq && !c.pingWanted && !c.pongWanted {
		return
	}
	c.writing = true
	if c.rc != nil {
		c.eng.flushes.push(c)
		return
	}
	c.eng.pool.submit(task{c: c, kind: taskFlush})
}

// flush is the writer: it runs only while the connection has something to
// write, writes everything queued with one writev per round and returns once
// the queue is empty, after the close frame, or on a write error. With
// canBlock false (a flush queue runner) it never waits for the socket: when
// the socket is full the rest of the job, and the writer with it, moves to a
// goroutine of its own that may block, bounded by WriteTimeout.
func (c *Conn) flush(canBlock bool) {
	c.flushBatch(c.eng.getBatch(), canBlock)
}

// flushBatch is flush with the batch wb, which may hold the rest of a job.
func (c *Conn) flushBatch(wb *writeBatch, canBlock bool) {
	for {
		if wb.out == nil {
			if !c.nextJob(wb) {
				break
			}
			c.encodeJob(wb)
			wb.out = wb.bufs
		}
		err := c.writeOut(wb, canBlock)
		if errors.Is(err, errWouldBlock) {
			go c.flushBatch(wb, true)
			return
		}
		wb.out = nil
		clear(wb.bufs)
		wb.bufs = wb.bufs[:0]
		c.finishJob(wb, err)
		if err != nil || wb.close {
			if err != nil {
				c.failWrite(err)
			} else {
				c.afterCloseFrame(wb.abort)
			}
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			break
		}
	}
	c.eng.putBatch(wb)
	c.finishIfDone()
}

// writeOut writes wb.out: without waiting (errWouldBlock and the rest left
// in wb.out when the socket is full), or with canBlock through net.Buffers
// (writev) under the write deadline.
func (c *Conn) writeOut(wb *writeBatch, canBlock bool) error {
	if !canBlock {
		if err := writeNonblock(c.rc, wb); err != nil {
			if errors.Is(err, errWouldBlock) {
				return err
			}
			return fmt.Errorf("transport: write: %w", err)
		}
		return nil
	}
	deadline := time.Now().Add(c.cfg.WriteTimeout)
	if wb.deadline != 0 {
		deadline = c.eng.timeAt(wb.deadline)
	}
	if err := c.nc.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("transport: set write deadline: %w", err)
	}
	if _, err := wb.out.WriteTo(c.nc); err != nil {
		return fmt.Errorf("transport: write: %w", err)
	}
	return nil
}

// nextJob fills wb with the pending work and reports whether there is any;
// when there is none it ends the flush (writing is cleared under the same
// lock, so a Send either sees the flush running or starts a new one).
func (c *Conn) nextJob(wb *writeBatch) bool {
	wb.pong, wb.ping, wb.close, wb.abort = false, false, false, false
	wb.frame, wb.deadline, wb.q = nil, 0, nil

	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closeSent || c.netClosed:
	case c.aborted:
		wb.close, wb.abort, wb.frame = true, true, c.closeFrame
		wb.deadline = c.eng.now() + int64(min(c.cfg.WriteTimeout, closeWait))
	default:
		c.takeWorkLocked(wb)
	}
	if !wb.pong && !wb.ping && !wb.close && wb.q == nil {
		c.writing = false
		return false
	}
	return true
}

// takeWorkLocked moves the queued messages and control frames into wb.
func (c *Conn) takeWorkLocked(wb *writeBatch) {
	if !c.peerClosed {
		if c.pongWanted && !c.closeReq {
			wb.pong, wb.pongLen = true, copy(wb.pongBuf[:], c.pong)
		}
		if c.pingWanted && !c.closeReq {
			wb.ping = true
		}
		if c.pending > 0 {
			wb.q, c.queue = c.queue, nil
			c.inflight, c.inflightLen = c.pending, c.pendingSize
			c.pending, c.pendingSize = 0, 0
		}
	}
	c.pongWanted, c.pingWanted = false, false
	if c.closeReq {
		// Send refuses new messages once closing, so the queue taken above
		// is the last one and the close frame can follow it.
		wb.close, wb.frame, wb.deadline = true, c.closeFrame, c.closeBy
	}
}

// finishJob records the outcome of a job and gives the messages back.
func (c *Conn) finishJob(wb *writeBatch, err error) {
	c.mu.Lock()
	c.inflight, c.inflightLen = 0, 0
	if wb.close && err == nil {
		c.closeSent = true
	}
	c.mu.Unlock()
	if wb.q != nil {
		c.eng.putQueue(wb.q)
		wb.q = nil
	}
}

// encodeJob fills wb.bufs with the frames of the job, in order: pong, ping,
// messages, close.
func (c *Conn) encodeJob(wb *writeBatch) {
	frames, payload := 2, 0
	if wb.q != nil {
		frames += len(wb.q.msgs)
		for _, m := range wb.q.msgs {
			payload += len(m)
		}
	}
	need := (frames + 1) * ws.MaxHeaderSize
	if c.mask != nil {
		need += payload + 2*ws.MaxControlFramePayloadSize
	}
	if cap(wb.arena) < need {
		wb.arena = make([]byte, 0, need)
	}
	wb.arena = wb.arena[:0]
	if wb.pong {
		c.addFrame(wb, ws.OpPong, wb.pongBuf[:wb.pongLen])
	}
	if wb.ping {
		c.addFrame(wb, ws.OpPing, nil)
	}
	if wb.q != nil {
		for _, m := range wb.q.msgs {
			c.addFrame(wb, ws.OpText, m)
		}
	}
	if wb.close {
		c.addFrame(wb, ws.OpClose, wb.frame)
	}
	// Counted as handed to the socket, before the write: a peer that has
	// received the frames sees the counters up to date.
	c.stats.writes.Add(1)
	if wb.q != nil {
		c.stats.messagesOut.Add(uint64(len(wb.q.msgs)))
	}
}

// addFrame appends one unfragmented frame to wb. The header goes to the
// arena; a server payload is referenced as it is, a client payload is
// masked in a copy in the arena, never in p.
func (c *Conn) addFrame(wb *writeBatch, op ws.OpCode, p []byte) {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	start := len(wb.arena)
	if c.mask != nil {
		h.Masked = true
		v := c.mask.Uint64()
		h.Mask = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		wb.arena = appendHeader(wb.arena, h)
		body := len(wb.arena)
		wb.arena = append(wb.arena, p...)
		ws.Cipher(wb.arena[body:], h.Mask, 0)
		wb.bufs = append(wb.bufs, wb.arena[start:len(wb.arena):len(wb.arena)])
	} else {
		wb.arena = appendHeader(wb.arena, h)
		wb.bufs = append(wb.bufs, wb.arena[start:len(wb.arena):len(wb.arena)])
		if len(p) > 0 {
			wb.bufs = append(wb.bufs, p)
		}
	}
	c.stats.framesOut.Add(1)
	c.stats.bytesOut.Add(uint64(len(p)))
}

// afterCloseFrame runs once the close frame is written: an aborted
// connection is closed at once; otherwise, unless the peer has closed or the
// read side has ended, the peer gets closeWait to send its close frame.
func (c *Conn) afterCloseFrame(abort bool) {
	if abort {
		c.closeNet()
		return
	}
	c.mu.Lock()
	if !c.peerClosed && !c.netClosed && !c.readDone {
		c.tm.closeWait = c.eng.now() + int64(closeWait)
		c.rescheduleLocked()
	}
	c.mu.Unlock()
}

// failWrite ends the connection after a write error.
func (c *Conn) failWrite(err error) {
	c.mu.Lock()
	c.closing.Store(true)
	c.setInfoLocked(CloseInfo{Code: CloseAbnormal, Reason: reasonAbnormal, Err: err})
	c.mu.Unlock()
	c.closeNet()
}
