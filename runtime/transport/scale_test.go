package transport

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// idleServer is an httptest server whose upgraded connections are served in
// the background (serveInBackground) and only counted.
type idleServer struct {
	url      string
	mu       sync.Mutex
	conns    []*Conn
	upgraded chan struct{} // one value per upgraded connection
	ended    atomic.Int64  // connections whose onClose ran
}

// newIdleServer starts an idleServer with cfg on the shared engine;
// onMessage may be nil.
func newIdleServer(tb testing.TB, cfg Config, onMessage func(*Conn, []byte)) *idleServer {
	tb.Helper()
	return newIdleServerOn(tb, cfg, sharedEngine(), onMessage)
}

// newIdleServerOn is newIdleServer on the engine eng.
func newIdleServerOn(tb testing.TB, cfg Config, eng *engine, onMessage func(*Conn, []byte)) *idleServer {
	tb.Helper()
	is := &idleServer{upgraded: make(chan struct{}, 1<<16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrade(w, r, cfg, eng)
		if err != nil {
			return
		}
		is.mu.Lock()
		is.conns = append(is.conns, c)
		is.mu.Unlock()
		is.upgraded <- struct{}{}
		var handle func([]byte)
		if onMessage != nil {
			handle = func(msg []byte) { onMessage(c, msg) }
		}
		serveInBackground(c, handle, func(CloseInfo) { is.ended.Add(1) })
	}))
	tb.Cleanup(func() {
		is.mu.Lock()
		conns := is.conns
		is.mu.Unlock()
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() { _ = c.Close(CloseGoingAway, "test over") })
		}
		wg.Wait()
		srv.Close()
	})
	is.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return is
}

// serverConns returns the server-side connections upgraded so far.
func (is *idleServer) serverConns() []*Conn {
	is.mu.Lock()
	defer is.mu.Unlock()
	return append([]*Conn(nil), is.conns...)
}

// dialIdle opens n WebSocket client sockets to is that hold no goroutine
// (plain handshakes, nothing reads them) and waits until the server has
// upgraded all of them.
func dialIdle(tb testing.TB, is *idleServer, n int) []net.Conn {
	tb.Helper()
	ncs := make([]net.Conn, 0, n)
	tb.Cleanup(func() {
		for _, nc := range ncs {
			_ = nc.Close()
		}
	})
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		nc, br, _, err := ws.Dialer{}.Dial(ctx, is.url)
		cancel()
		if err != nil {
			tb.Fatalf(
				"dial %d: %v",
				i, err,
			)
		}
		if br != nil {
			ws.PutReader(br)
		}
		ncs = append(ncs, nc)
	}
	for i := range n {
		select {
		case <-is.upgraded:
		case <-time.After(waitTimeout):
			tb.Fatalf(
				"%d of %d connections upgraded",
				i, n,
			)
		}
	}
	return ncs
}

// memSnapshot is the part of runtime.MemStats that idle connections cost.
type memSnapshot struct {
	heap, stack uint64
	goroutines  int
}

// takeMem collects garbage and returns the heap and stack in use.
func takeMem() memSnapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnapshot{heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// perConn is (after - before) / n, in bytes.
func perConn(after, before uint64, n int) float64 {
	return (float64(after) - float64(before)) / float64(n)
}

// holdTCP opens n plain TCP connection pairs inside the process, the
// control for what two sockets cost without any WebSocket on them.
func holdTCP(tb testing.TB, n int) func() {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf(
			"listen: %v",
			err,
		)
	}
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	conns := make([]net.Conn, 0, 2*n)
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			tb.Fatalf(
				"dial: %v",
				err,
			)
		}
		conns = append(conns, c, <-accepted)
	}
	return func() {
		_ = ln.Close()
		for _, c := range conns {
			_ = c.Close()
		}
	}
}

// idleConns is the number of idle connections of the idle-memory benchmark
// and test.
const idleConns = 5000

// BenchmarkIdleConns opens 5,000 idle server-side connections (the clients
// are goroutine-free raw sockets in the same process) and reports what each
// costs: Go heap and stacks in use per connection, the same minus a pair of
// plain TCP sockets (the control), and goroutines per connection. Run it
// with -benchtime 1x.
func BenchmarkIdleConns(b *testing.B) {
	for range b.N {
		base := takeMem()
		release := holdTCP(b, idleConns)
		tcp := takeMem()
		release()

		is := newIdleServer(b, Config{}, nil)
		_ = dialIdle(b, is, 1) // warm up net/http and the transport
		base = takeMem()
		_ = dialIdle(b, is, idleConns)
		time.Sleep(200 * time.Millisecond) // let transient goroutines exit
		got := takeMem()

		tcpPer := perConn(tcp.heap+tcp.stack, base.heap+base.stack, idleConns)
		all := perConn(got.heap+got.stack, base.heap+base.stack, idleConns)
		b.ReportMetric(perConn(got.heap, base.heap, idleConns), "heapB/conn")
		b.ReportMetric(perConn(got.stack, base.stack, idleConns), "stackB/conn")
		b.ReportMetric(all, "B/conn")
		b.ReportMetric(all-tcpPer, "B/conn-over-tcp")
		b.ReportMetric(float64(got.goroutines-base.goroutines)/idleConns, "goroutines/conn")
	}
}

// BenchmarkFanout sends one encoded 200-byte message to every one of N
// server-side connections, burst times per operation, and waits until every
// client has received every frame. The clients read with one goroutine each
// and only count bytes.
func BenchmarkFanout(b *testing.B) {
	for _, conns := range []int{50, 1000} {
		for _, burst := range []int{1, 16} {
			b.Run("conns="+strconv.Itoa(conns)+"/burst="+strconv.Itoa(burst), func(b *testing.B) {
				benchFanout(b, conns, burst)
			})
		}
	}
}

// benchFanout is one BenchmarkFanout case.
func benchFanout(b *testing.B, conns, burst int) {
	is := newIdleServer(b, Config{WriteQueueLen: 4096}, nil)
	ncs := dialIdle(b, is, conns)
	servers := is.serverConns()
	msg := bytes.Repeat([]byte("x"), 200)
	const frameLen = 200 + 4 // payload plus a 4-byte header

	// The readers wake the benchmark when the bytes it waits for are in,
	// rather than have it spin.
	var received, target atomic.Int64
	arrived := make(chan struct{}, 1)
	for _, nc := range ncs {
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := nc.Read(buf)
				if received.Add(int64(n)) >= target.Load() {
					select {
					case arrived <- struct{}{}:
					default:
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	want := int64(0)
	for range b.N {
		want += int64(conns * burst * frameLen)
		target.Store(want)
		for range burst {
			for _, c := range servers {
				if err := c.Send(msg); err != nil {
					b.Fatalf(
						"Send: %v",
						err,
					)
				}
			}
		}
		for received.Load() < want {
			<-arrived
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*conns*burst)/b.Elapsed().Seconds(), "deliveries/s")
}

func TestIdleConnsHoldNoGoroutines(t *testing.T) {
	is := newIdleServer(t, Config{}, nil)
	_ = dialIdle(t, is, 1) // warm up net/http and the engine
	base := settledGoroutines(baselineSettle)

	ncs := dialIdle(t, is, idleConns)
	n := settledGoroutines(baselineSettle)
	t.Logf("%d idle connections: %d goroutines, %d before", idleConns, n, base)
	if n-base >= 100 {
		t.Fatalf(
			"%d idle server connections added %d goroutines, want fewer than 100",
			idleConns, n-base,
		)
	}
	if ended := is.ended.Load(); ended != 0 {
		t.Fatalf(
			"%d idle connections ended",
			ended,
		)
	}

	// They are idle, not dead: a few of them still carry messages both ways.
	byPeer := make(map[string]*Conn)
	for _, c := range is.serverConns() {
		byPeer[c.RemoteAddr().String()] = c
	}
	for _, i := range []int{0, idleConns / 2, idleConns - 1} {
		nc := ncs[i]
		srv := byPeer[nc.LocalAddr().String()]
		if srv == nil {
			t.Fatalf(
				"no server connection for client %d",
				i,
			)
		}
		if err := srv.Send([]byte("still here")); err != nil {
			t.Fatalf(
				"Send on connection %d: %v",
				i, err,
			)
		}
		rc := &rawClient{nc: nc, r: nc}
		if h, p := rc.read(t); h.OpCode != ws.OpText || string(p) != "still here" {
			t.Fatalf(
				"connection %d got opcode %v %q",
				i, h.OpCode, p,
			)
		}
	}
}

// BenchmarkEchoRoundTrip measures one 200-byte message sent by a raw client,
// echoed by a server-side Conn and read back: the latency the read path
// (poller, worker hand-off, parse) and the write path add to a request.
func BenchmarkEchoRoundTrip(b *testing.B) {
	ts := newTestServer(b, Config{}, true)
	rc := dialRaw(b, ts)
	_ = ts.accept(b)
	frame := ws.MaskFrame(ws.NewTextFrame(bytes.Repeat([]byte("x"), 200)))
	var out bytes.Buffer
	if err := ws.WriteFrame(&out, frame); err != nil {
		b.Fatalf(
			"encode: %v",
			err,
		)
	}
	wire := out.Bytes()
	in := make([]byte, 200+4)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := rc.nc.Write(wire); err != nil {
			b.Fatalf(
				"write: %v",
				err,
			)
		}
		if _, err := io.ReadFull(rc.r, in); err != nil {
			b.Fatalf(
				"read: %v",
				err,
			)
		}
	}
}
