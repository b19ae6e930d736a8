package transport

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// growStep is the most a message buffer grows ahead of the bytes actually
// received: the peer-declared frame length is not trusted for allocation.
const growStep = 4 << 10

// frameReader is the state of the read loop.
type frameReader struct {
	state ws.State // side, plus ws.StateFragmented inside a message
	hdr   [ws.MaxHeaderSize]byte
	ctrl  [ws.MaxControlFramePayloadSize]byte
	op    ws.OpCode // opcode of the message being read
	msg   []byte    // message being read
	size  int64     // its declared length so far
	drop  bool      // the message is being discarded
}

// readLoop reads frames until the connection ends: it returns errPeerClosed
// after the peer's close frame, errFailed (wrapped) after a protocol
// violation, or the I/O error that ended reading.
func (c *Conn) readLoop(onMessage func([]byte)) error {
	fr := frameReader{state: c.side}
	for {
		hdr, err := ws.ReadHeaderBuffer(c.br, fr.hdr[:])
		if err != nil {
			return fmt.Errorf("transport: read frame header: %w", err)
		}
		c.activity.Store(true)
		c.stats.framesIn.Add(1)
		c.stats.bytesIn.Add(uint64(hdr.Length))
		if err := ws.CheckHeader(hdr, fr.state); err != nil {
			c.startClose(CloseProtocolError, reasonProtocol)
			return fmt.Errorf("%w: %w", errFailed, err)
		}
		if hdr.OpCode.IsControl() {
			err = c.readControl(&fr, hdr)
		} else {
			err = c.readData(&fr, hdr, onMessage)
		}
		if err != nil {
			return err
		}
	}
}

// readControl reads a control frame and acts on it.
func (c *Conn) readControl(fr *frameReader, hdr ws.Header) error {
	p := fr.ctrl[:hdr.Length] // CheckHeader bounds control frames to 125 bytes
	if _, err := io.ReadFull(c.br, p); err != nil {
		return fmt.Errorf("transport: read control frame: %w", err)
	}
	if hdr.Masked {
		ws.Cipher(p, hdr.Mask, 0)
	}
	switch hdr.OpCode {
	case ws.OpPing:
		c.queuePong(p)
	case ws.OpClose:
		c.onPeerClose(p)
		return errPeerClosed
	}
	// A pong only proves liveness, already recorded by the read loop.
	return nil
}

// readData reads a data frame, reassembles fragmented messages and delivers
// complete ones. Once a close has started, data is discarded.
func (c *Conn) readData(fr *frameReader, hdr ws.Header, onMessage func([]byte)) error {
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
		if _, err := io.CopyN(io.Discard, c.br, hdr.Length); err != nil {
			return fmt.Errorf("transport: discard frame: %w", err)
		}
		return nil
	}

	start := len(fr.msg)
	var err error
	fr.msg, err = readAppend(c.br, fr.msg, hdr.Length)
	if err != nil {
		return fmt.Errorf("transport: read data frame: %w", err)
	}
	if hdr.Masked {
		ws.Cipher(fr.msg[start:], hdr.Mask, 0)
	}
	fr.size += hdr.Length
	if !hdr.Fin {
		return nil
	}

	msg := fr.msg
	fr.msg = nil
	if fr.op == ws.OpText && !utf8.Valid(msg) {
		c.startClose(CloseInvalidPayload, reasonInvalidUTF8)
		return nil
	}
	if msg == nil {
		msg = []byte{}
	}
	c.stats.messagesIn.Add(1)
	if onMessage != nil {
		c.inHandler.Store(true)
		onMessage(msg)
		c.inHandler.Store(false)
	}
	return nil
}

// readAppend appends n bytes read from r to buf, growing buf by at most
// growStep (or by doubling) ahead of the bytes received.
func readAppend(r io.Reader, buf []byte, n int64) ([]byte, error) {
	for n > 0 {
		if len(buf) == cap(buf) {
			step := max(int64(len(buf)), growStep)
			buf = append(buf, make([]byte, min(n, step))...)[:len(buf)]
		}
		chunk := min(n, int64(cap(buf)-len(buf)))
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+int(chunk)])
		buf = buf[:len(buf)+m]
		n -= int64(m)
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
