package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// maskedFrame returns the bytes of one masked client frame.
func maskedFrame(t testing.TB, op ws.OpCode, fin bool, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := ws.WriteFrame(&buf, ws.MaskFrame(ws.NewFrame(op, fin, bytes.Clone(p)))); err != nil {
		t.Fatalf(
			"encode frame: %v",
			err,
		)
	}
	return buf.Bytes()
}

// writeSlowly writes p to nc in pieces of the given sizes (the rest in one
// last piece), pausing between them so that each goes out as its own TCP
// segment.
func writeSlowly(t testing.TB, nc net.Conn, p []byte, sizes []int, pause time.Duration) {
	t.Helper()
	for _, n := range sizes {
		n = min(n, len(p))
		if _, err := nc.Write(p[:n]); err != nil {
			t.Fatalf(
				"write: %v",
				err,
			)
		}
		p = p[n:]
		time.Sleep(pause)
	}
	if len(p) > 0 {
		if _, err := nc.Write(p); err != nil {
			t.Fatalf(
				"write: %v",
				err,
			)
		}
	}
}

func TestFrameSplitAcrossWrites(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ts := newTestServerOn(t, Config{}, false, e.eng)
			rc := dialRaw(t, ts)
			srv := ts.accept(t)

			big := strings.Repeat("0123456789", 3000) // 16-bit length header
			stream := maskedFrame(t, ws.OpText, true, []byte(big))
			firstLen := len(stream)
			stream = append(stream, maskedFrame(t, ws.OpPing, true, []byte("split ping"))...)
			stream = append(stream, maskedFrame(t, ws.OpText, false, []byte(`{"a":`))...)
			stream = append(stream, maskedFrame(t, ws.OpContinuation, true, []byte(`1}`))...)
			// Byte by byte through the first header and into the payload,
			// then pieces that end mid-payload, one byte into the ping's
			// header, mid-way through it, then the rest, where the last
			// frames arrive together.
			sizes := []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1000, 7, 20000}
			sizes = append(sizes, firstLen+1-21016, 3)
			writeSlowly(t, rc.nc, stream, sizes, 5*time.Millisecond)

			if got := recv(t, srv.msgs); string(got) != big {
				t.Fatalf(
					"split message: got %d bytes, want %d",
					len(got), len(big),
				)
			}
			if got := string(recv(t, srv.msgs)); got != `{"a":1}` {
				t.Fatalf(
					"fragmented message after the split one = %q",
					got,
				)
			}
			if pong := rc.readUntil(t, ws.OpPong); string(pong) != "split ping" {
				t.Errorf(
					"pong payload = %q",
					pong,
				)
			}
			if st := srv.conn.Stats(); st.FramesIn != 4 || st.MessagesIn != 2 {
				t.Errorf(
					"server stats %+v, want 4 frames and 2 messages in",
					st,
				)
			}
		})
	}
}

func TestStalledFrameClosed(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ts := newTestServerOn(t, Config{ReadTimeout: readTimeout}, false, e.eng)
			rc := dialRaw(t, ts)
			srv := ts.accept(t)

			// A frame written slowly but completed within the timeout is
			// fine, and so is the idle time that follows it.
			slow := maskedFrame(t, ws.OpText, true, []byte(`{"slow":true}`))
			writeSlowly(t, rc.nc, slow, []int{3, 3, 3, 3}, readTimeout/10)
			if got := string(recv(t, srv.msgs)); got != `{"slow":true}` {
				t.Fatalf(
					"slow frame = %q",
					got,
				)
			}
			time.Sleep(2 * readTimeout)

			// Half a frame, then nothing.
			start := time.Now()
			stalled := maskedFrame(t, ws.OpText, true, bytes.Repeat([]byte("x"), 1000))
			writeSlowly(t, rc.nc, stalled[:500], nil, 0)
			p := rc.readUntil(t, ws.OpClose)
			d := time.Since(start)
			if code := CloseCode(binary.BigEndian.Uint16(p)); code != ClosePolicyViolation || string(p[2:]) != reasonFrameTimeout {
				t.Errorf(
					"close frame = %d %q, want 1008 %q",
					code, p[2:], reasonFrameTimeout,
				)
			}
			if d < readTimeout || d > readTimeout+time.Second {
				t.Errorf(
					"stalled frame closed after %v, want about %v",
					d, readTimeout,
				)
			}
			// The peer never finishes its frame: the server gives up waiting
			// for its close frame after closeWait.
			info := waitInfo(t, srv.info)
			checkInfo(t, "server", info, ClosePolicyViolation, reasonFrameTimeout, true)
			select {
			case m := <-srv.msgs:
				t.Errorf(
					"stalled frame delivered as %d bytes",
					len(m),
				)
			default:
			}
		})
	}
}

func TestBatchedWrite(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ts := newTestServerOn(t, Config{PingInterval: -1}, false, e.eng)
			rc := dialRaw(t, ts)
			srv := ts.accept(t)

			// Hold the writer as if a flush were running, so that the Sends
			// only queue.
			srv.conn.mu.Lock()
			srv.conn.writing = true
			srv.conn.mu.Unlock()
			const n = 200
			for i := range n {
				if err := srv.conn.Send([]byte(strconv.Itoa(i))); err != nil {
					t.Fatalf(
						"Send %d: %v",
						i, err,
					)
				}
			}
			if st := srv.conn.Stats(); st.QueuedMessages != n || st.Writes != 0 {
				t.Fatalf(
					"stats while held = %+v, want %d queued and no write",
					st, n,
				)
			}
			srv.conn.mu.Lock()
			srv.conn.writing = false
			srv.conn.kickLocked()
			srv.conn.mu.Unlock()

			for i := range n {
				h, p := rc.read(t)
				if h.OpCode != ws.OpText || !h.Fin || string(p) != strconv.Itoa(i) {
					t.Fatalf(
						"frame %d = opcode %v fin %v %q, want text %d",
						i, h.OpCode, h.Fin, p, i,
					)
				}
			}
			// The queue empties once the write has returned, which may be
			// just after the client has read everything.
			if !waitQueueBelow(srv.conn, 1, waitTimeout) {
				t.Fatalf(
					"queue not empty after the flush: %+v",
					srv.conn.Stats(),
				)
			}
			if st := srv.conn.Stats(); st.Writes != 1 || st.MessagesOut != n {
				t.Errorf(
					"stats after the flush = %+v, want %d messages in one write",
					st, n,
				)
			}
		})
	}
}

func TestMessagesInOrderOneAtATime(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			var inside, overlaps atomic.Int32
			got := make(chan []byte, 4096)
			is := newIdleServerOn(t, Config{}, e.eng, func(_ *Conn, msg []byte) {
				if inside.Add(1) > 1 {
					overlaps.Add(1)
				}
				time.Sleep(time.Microsecond)
				inside.Add(-1)
				got <- msg
			})
			nc := dialIdle(t, is, 1)[0]
			const n = 2000
			var stream []byte
			for i := range n {
				stream = append(stream, maskedFrame(t, ws.OpText, true, []byte(strconv.Itoa(i)))...)
			}
			// Large writes: many frames per read, frames across reads.
			writeSlowly(t, nc, stream, []int{4096, 999, 8192, 1}, time.Millisecond)
			for i := range n {
				if m := string(recv(t, got)); m != strconv.Itoa(i) {
					t.Fatalf(
						"message %d = %q",
						i, m,
					)
				}
			}
			if o := overlaps.Load(); o != 0 {
				t.Errorf(
					"onMessage overlapped itself %d times",
					o,
				)
			}
		})
	}
}

func TestFrameSentWithHandshake(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	nc, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "ws://"))
	if err != nil {
		t.Fatalf(
			"dial: %v",
			err,
		)
	}
	defer func() { _ = nc.Close() }()
	// The upgrade request and a first frame in one write: the frame sits in
	// net/http's buffer when the connection is hijacked.
	req := "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	first := append([]byte(req), maskedFrame(t, ws.OpText, true, []byte(`{"early":1}`))...)
	if _, err := nc.Write(first); err != nil {
		t.Fatalf(
			"write: %v",
			err,
		)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf(
			"handshake response %v, %v",
			resp, err,
		)
	}
	srv := ts.accept(t)
	if got := string(recv(t, srv.msgs)); got != `{"early":1}` {
		t.Errorf(
			"message sent with the handshake = %q",
			got,
		)
	}
}

func TestHeaderEncoding(t *testing.T) {
	for _, n := range []int64{0, 1, 125, 126, 65535, 65536, 1 << 40} {
		for _, masked := range []bool{false, true} {
			h := ws.Header{Fin: n%2 == 0, OpCode: ws.OpText, Length: n, Masked: masked}
			if masked {
				h.Mask = [4]byte{1, 2, 3, 4}
			}
			var want bytes.Buffer
			if err := ws.WriteHeader(&want, h); err != nil {
				t.Fatalf(
					"ws.WriteHeader: %v",
					err,
				)
			}
			got := appendHeader(nil, h)
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf(
					"appendHeader(%+v) = %x, want %x",
					h, got, want.Bytes(),
				)
			}
			if headerLen(got[1]) != len(got) {
				t.Errorf(
					"headerLen = %d, want %d",
					headerLen(got[1]), len(got),
				)
			}
			back, err := parseHeader(got)
			if err != nil || back != h {
				t.Errorf(
					"parseHeader = %+v, %v, want %+v",
					back, err, h,
				)
			}
		}
	}
	msb := []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}
	if _, err := parseHeader(msb); err == nil {
		t.Errorf(
			"parseHeader accepted a 64-bit length with its top bit set",
		)
	}
}

func TestTimerHeapOrder(t *testing.T) {
	eng := newEngine(false)
	whens := []int64{50, 10, 40, 30, 20, 60}
	conns := make([]*Conn, len(whens))
	for i, w := range whens {
		conns[i] = &Conn{eng: eng}
		conns[i].tm.index = -1
		eng.timers.set(conns[i], w+1<<40) // far in the future: nothing fires
	}
	eng.timers.remove(conns[2])     // 40
	eng.timers.set(conns[5], 1<<40) // 60 -> 0, now first
	want := []int64{0, 10, 20, 30, 50}
	for _, w := range want {
		eng.timers.mu.Lock()
		top := eng.timers.heap[0]
		eng.timers.removeLocked(top)
		eng.timers.mu.Unlock()
		if got := top.tm.when - 1<<40; got != w {
			t.Fatalf(
				"next deadline %d, want %d",
				got, w,
			)
		}
	}
	if n := len(eng.timers.heap); n != 0 {
		t.Errorf(
			"%d entries left in the heap",
			n,
		)
	}
	eng.timers.mu.Lock()
	if eng.timers.timer != nil {
		eng.timers.timer.Stop()
	}
	eng.timers.mu.Unlock()
}

func TestEngineCloseStopsPollLoop(t *testing.T) {
	base := settledGoroutines(baselineSettle)
	e := newEngine(true)
	want := base
	if e.poller != nil {
		want++ // the poll loop, parked in the runtime poller
	}
	if n := runtime.NumGoroutine(); n != want {
		t.Errorf(
			"%d goroutines with an idle engine, want %d",
			n, want,
		)
	}
	if err := e.close(); err != nil {
		t.Fatalf(
			"close: %v",
			err,
		)
	}
	if n := settledGoroutines(baselineSettle); n != base {
		t.Errorf(
			"%d goroutines after close, want %d",
			n, base,
		)
	}
}
