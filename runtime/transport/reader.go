package transport

import (
	"fmt"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// frameReader is the parse state of the inbound stream, kept between reads
// so that bytes can be parsed as they arrive, whatever the chunking. At a
// frame boundary it holds no buffer.
type frameReader struct {
	state  ws.State               // side, plus ws.StateFragmented inside a message
	hdrBuf [ws.MaxHeaderSize]byte // a header split across reads, while hdrLen > 0
	hdrLen uint8                  // bytes in hdrBuf
	// inFrame is set once hdr is parsed, while its payload arrives.
	inFrame bool
	// fresh is set when a frame begins and cleared once the frame deadline
	// has been set for it (or the frame is complete).
	fresh       bool
	deadlineSet bool // the connection's frame deadline is set
	registered  bool // the socket has been added to the poller
	hdr         ws.Header
	pos         int64     // payload bytes of hdr received so far
	ctrl        []byte    // control frame payload split across reads
	op          ws.OpCode // opcode of the message being read
	msg         []byte    // message being read
	size        int64     // its length so far
	drop        bool      // the message is being discarded
}

// midFrame reports whether a frame has begun and is not complete.
func (fr *frameReader) midFrame() bool {
	return fr.inFrame || fr.hdrLen > 0
}

// consume parses p, the next bytes of the stream, delivering complete
// messages and acting on control frames. It returns errPeerClosed after the
// peer's close frame and errFailed (wrapped) after a protocol violation;
// the rest of p is then ignored. p is modified (unmasked in place).
func (c *Conn) consume(p []byte) error {
	fr := &c.fr
	for len(p) > 0 {
		if !fr.inFrame {
			var err error
			if p, err = c.takeHeader(p); err != nil {
				return err
			}
			if !fr.inFrame {
				return nil // the header goes on in the next read
			}
			if fr.hdr.Length == 0 {
				if err := c.endFrame(nil); err != nil {
					return err
				}
			}
			continue
		}
		n := min(int64(len(p)), fr.hdr.Length-fr.pos)
		if err := c.takePayload(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// takeHeader parses the frame header at the start of p, or collects what p
// has of it in hdrBuf, and returns the rest of p.
func (c *Conn) takeHeader(p []byte) ([]byte, error) {
	fr := &c.fr
	if fr.hdrLen == 0 {
		fr.fresh = true
		if len(p) >= 2 && len(p) >= headerLen(p[1]) {
			n := headerLen(p[1])
			return p[n:], c.beginFrame(p[:n])
		}
	}
	for len(p) > 0 {
		need := 2
		if fr.hdrLen >= 2 {
			need = headerLen(fr.hdrBuf[1])
		}
		if int(fr.hdrLen) == need {
			break
		}
		k := copy(fr.hdrBuf[fr.hdrLen:need], p)
		fr.hdrLen += uint8(k)
		p = p[k:]
	}
	if fr.hdrLen < 2 || int(fr.hdrLen) < headerLen(fr.hdrBuf[1]) {
		return p, nil
	}
	n := int(fr.hdrLen)
	fr.hdrLen = 0
	return p, c.beginFrame(fr.hdrBuf[:n])
}

// beginFrame checks the complete header raw and starts its frame.
func (c *Conn) beginFrame(raw []byte) error {
	fr := &c.fr
	hdr, err := parseHeader(raw)
	c.activity.Store(true)
	c.stats.framesIn.Add(1)
	if err == nil {
		c.stats.bytesIn.Add(uint64(hdr.Length))
		err = ws.CheckHeader(hdr, fr.state)
	}
	if err != nil {
		c.startClose(CloseProtocolError, reasonProtocol)
		return fmt.Errorf("%w: %w", errFailed, err)
	}
	fr.hdr, fr.pos, fr.inFrame = hdr, 0, true
	if !hdr.OpCode.IsControl() {
		c.beginData(hdr)
	}
	return nil
}

// beginData starts a data frame: a new message or a continuation. A message
// above the read limit, or any message once a close has started, is
// discarded.
func (c *Conn) beginData(hdr ws.Header) {
	fr := &c.fr
	if hdr.OpCode != ws.OpContinuation {
		fr.op, fr.msg, fr.size, fr.drop = hdr.OpCode, nil, 0, false
	}
	if hdr.Fin {
		fr.state = fr.state.Clear(ws.StateFragmented)
	} else {
		fr.state = fr.state.Set(ws.StateFragmented)
	}
	if !fr.drop && !c.closing.Load() && hdr.Length > c.cfg.ReadLimit-fr.size {
		c.startClose(CloseMessageTooBig, reasonTooBig)
	}
	if fr.drop || c.closing.Load() {
		fr.drop, fr.msg = true, nil
	}
}

// takePayload takes the next payload bytes of the current frame (at most
// what is left of it).
func (c *Conn) takePayload(chunk []byte) error {
	fr := &c.fr
	if fr.hdr.Masked {
		ws.Cipher(chunk, fr.hdr.Mask, int(fr.pos))
	}
	fr.pos += int64(len(chunk))
	complete := fr.pos == fr.hdr.Length
	if fr.hdr.OpCode.IsControl() {
		if complete && fr.ctrl == nil {
			return c.endFrame(chunk) // the common case: the whole payload in one read
		}
		fr.ctrl = append(fr.ctrl, chunk...)
		if !complete {
			return nil
		}
		p := fr.ctrl
		fr.ctrl = nil
		return c.endFrame(p)
	}
	if !fr.drop {
		if fr.msg == nil {
			// Sized by the bytes received, never by the declared length.
			fr.msg = make([]byte, 0, len(chunk))
		}
		fr.msg = append(fr.msg, chunk...)
	}
	if !complete {
		return nil
	}
	return c.endFrame(nil)
}

// endFrame completes the current frame; ctrl is a control frame's payload.
func (c *Conn) endFrame(ctrl []byte) error {
	fr := &c.fr
	fr.inFrame = false
	hdr := fr.hdr
	if hdr.OpCode.IsControl() {
		switch hdr.OpCode {
		case ws.OpPing:
			c.queuePong(ctrl)
		case ws.OpClose:
			c.onPeerClose(ctrl)
			return errPeerClosed
		}
		// A pong only proves liveness, already recorded by beginFrame.
		return nil
	}
	if fr.drop {
		return nil
	}
	fr.size += hdr.Length
	if !hdr.Fin {
		return nil
	}
	msg := fr.msg
	fr.msg = nil
	if c.closing.Load() {
		return nil
	}
	if fr.op == ws.OpText && !utf8.Valid(msg) {
		c.startClose(CloseInvalidPayload, reasonInvalidUTF8)
		return nil
	}
	if msg == nil {
		msg = []byte{}
	}
	c.stats.messagesIn.Add(1)
	if c.onMessage != nil {
		c.inHandler.Store(true)
		c.onMessage(msg)
		c.inHandler.Store(false)
	}
	return nil
}
