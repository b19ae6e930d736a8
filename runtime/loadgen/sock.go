package loadgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Socket tunables.
const (
	sockBufferSize = 4 << 10         // read buffer of a socket
	sockReadLimit  = 16 << 20        // largest accepted inbound message
	writeTimeout   = 5 * time.Second // bounds one frame write
	closeWait      = time.Second     // how long close waits for the server's close frame
	keepBuffer     = 64 << 10        // larger message buffers are dropped after use
)

// errSockClosed is returned by writes on a socket whose close has started.
var errSockClosed = errors.New("loadgen: socket closed")

// sock is a minimal client-side WebSocket: the read loop runs in a goroutine of its own and
// writes are synchronous, masked single text frames under a mutex (on loopback a small
// write never waits for the peer). It answers pings and the close handshake; it implements
// rpc.Sender.
//
// transport.Conn is not used because it cannot bind a local address (Config.SourceAddrs)
// and costs three goroutines and two buffers per connection, which matters at 50,000
// connections on the machine that also runs the server.
type sock struct {
	nc   net.Conn
	br   *bufio.Reader
	done chan struct{} // closed when the read loop has ended and the socket is closed

	closing atomic.Bool // the close frame was sent; no further data frames

	wmu  sync.Mutex
	wbuf []byte
}

// dialSock opens a WebSocket to wsURL through netDial.
func dialSock(ctx context.Context, wsURL string, netDial func(context.Context, string, string) (net.Conn, error)) (*sock, error) {
	d := ws.Dialer{NetDial: netDial}
	nc, br, _, err := d.Dial(ctx, wsURL)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", wsURL, err)
	}
	if br == nil {
		br = bufio.NewReaderSize(nc, sockBufferSize)
	}
	return &sock{nc: nc, br: br, done: make(chan struct{})}, nil
}

// Send writes msg as one text frame. It implements rpc.Sender.
func (s *sock) Send(msg []byte) error {
	if s.closing.Load() {
		return errSockClosed
	}
	return s.write(ws.OpText, msg)
}

// write frames p with a fresh mask and writes it.
func (s *sock) write(op ws.OpCode, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	b := appendFrame(s.wbuf[:0], op, p, rand.Uint32())
	if cap(b) <= keepBuffer {
		s.wbuf = b
	}
	if err := s.nc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if _, err := s.nc.Write(b); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// appendFrame appends a final, masked frame carrying p to b (RFC 6455 section 5.2).
// The mask only has to defeat proxies' cache poisoning (section 10.3), which loopback
// has none of, so a non-cryptographic source is enough.
func appendFrame(b []byte, op ws.OpCode, p []byte, mask uint32) []byte {
	b = append(b, 0x80|byte(op))
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	binary.BigEndian.PutUint32(key[:], mask)
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, p...)
	ws.Cipher(b[start:], key, 0)
	return b
}

// readLoop reads messages until the connection ends and hands each complete data message
// to onMessage with its arrival time. The slice is reused after onMessage returns. The
// socket is closed when readLoop returns.
func (s *sock) readLoop(onMessage func(msg []byte, at time.Time)) error {
	defer close(s.done)
	defer s.nc.Close()
	var hdr [ws.MaxHeaderSize]byte
	var ctrl [ws.MaxControlFramePayloadSize]byte
	var msg []byte
	for {
		h, err := ws.ReadHeaderBuffer(s.br, hdr[:])
		if err != nil {
			return fmt.Errorf("read frame header: %w", err)
		}
		if h.OpCode.IsControl() {
			if h.Length > int64(len(ctrl)) {
				return errors.New("control frame too long")
			}
			p := ctrl[:h.Length]
			if _, err := io.ReadFull(s.br, p); err != nil {
				return fmt.Errorf("read control frame: %w", err)
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpPing:
				_ = s.write(ws.OpPong, p) // a failed pong shows up as a failed read next
			case ws.OpClose:
				if !s.closing.Swap(true) {
					_ = s.write(ws.OpClose, p[:min(len(p), 2)]) // echo the status code
				}
				return nil
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			msg = msg[:0]
		}
		if int64(len(msg))+h.Length > sockReadLimit {
			return fmt.Errorf("inbound message larger than %d bytes", sockReadLimit)
		}
		start := len(msg)
		msg = append(msg, make([]byte, h.Length)...)
		if _, err := io.ReadFull(s.br, msg[start:]); err != nil {
			return fmt.Errorf("read data frame: %w", err)
		}
		if h.Masked {
			ws.Cipher(msg[start:], h.Mask, 0)
		}
		if !h.Fin {
			continue
		}
		onMessage(msg, time.Now())
		if cap(msg) > keepBuffer {
			msg = nil
		}
	}
}

// close starts the close handshake (1000), waits up to closeWait for the server's answer
// and closes the socket. It returns once the read loop has ended.
func (s *sock) close() {
	if !s.closing.Swap(true) {
		_ = s.write(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	}
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		_ = s.nc.Close() // unblocks the read loop
		<-s.done
	}
}
