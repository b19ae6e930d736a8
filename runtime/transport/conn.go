package transport

import (
	"bufio"
	"crypto/rand"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// closeWait is how long a locally initiated close waits for the peer's close
// frame after sending its own (RFC 6455 section 7.1.1 leaves it to the
// endpoint).
const closeWait = time.Second

// Conn is one WebSocket connection, server or client side. Its methods are
// safe for concurrent use.
//
// A Conn must be served (Serve) or closed (Close): until then nothing reads
// from the socket.
type Conn struct {
	cfg  Config
	nc   net.Conn
	br   *bufio.Reader          // read side of nc; only the read loop uses it
	bw   *bufio.Writer          // write side of nc; only the writer goroutine uses it
	side ws.State               // ws.StateServerSide or ws.StateClientSide
	mask *mrand.ChaCha8         // client side only; used by the writer goroutine
	whdr [ws.MaxHeaderSize]byte // frame header buffer of the writer goroutine

	wake chan struct{} // wakes the writer; capacity 1
	stop chan struct{} // closed when the read loop has ended
	done chan struct{} // closed when everything is torn down
	wg   sync.WaitGroup

	closing   atomic.Bool // a close has started; inbound data is discarded
	inHandler atomic.Bool // the read loop is inside onMessage
	activity  atomic.Bool // a frame arrived since the last heartbeat tick

	stats counters

	mu          sync.Mutex
	started     bool     // the engine (read loop, writer, heartbeat) runs
	queue       [][]byte // messages waiting for the writer
	pending     int      // len(queue)
	pendingSize int      // payload bytes in queue
	inflight    int      // messages taken by the writer, not yet written
	inflightLen int      // their payload bytes
	writing     bool     // the writer is writing a job
	pingWanted  bool
	pongWanted  bool
	pongLen     int
	pongBuf     [ws.MaxControlFramePayloadSize]byte
	closeReq    bool      // a close frame must be sent
	closeSent   bool      // the close frame has been written
	closeFrame  []byte    // its payload
	closeBy     time.Time // deadline for the writes of a graceful close
	peerClosed  bool      // the peer's close frame was received
	aborted     bool      // slow consumer: drop everything, close now
	netClosed   bool
	info        CloseInfo
	infoSet     bool
}

// newConn wraps an upgraded connection. br and bw must read from and write
// to nc.
func newConn(nc net.Conn, br *bufio.Reader, bw *bufio.Writer, side ws.State, cfg Config) *Conn {
	c := &Conn{
		cfg:  cfg,
		nc:   nc,
		br:   br,
		bw:   bw,
		side: side,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if side.ClientSide() {
		// Masking keys must be unpredictable (RFC 6455 section 5.3): a
		// per-connection ChaCha8 stream seeded from crypto/rand.
		var seed [32]byte
		_, _ = rand.Read(seed[:]) // never fails (crypto/rand documentation)
		c.mask = mrand.NewChaCha8(seed)
	}
	return c
}

// Done returns a channel closed once the connection is fully closed: the
// socket is closed and the goroutines of the Conn have exited.
func (c *Conn) Done() <-chan struct{} {
	return c.done
}

// CloseInfo reports how the connection ended. Before the end it returns the
// zero CloseInfo, or the pending close once a close has started.
func (c *Conn) CloseInfo() CloseInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// RemoteAddr returns the address of the peer.
func (c *Conn) RemoteAddr() net.Addr {
	return c.nc.RemoteAddr()
}

// LocalAddr returns the local address of the socket.
func (c *Conn) LocalAddr() net.Addr {
	return c.nc.LocalAddr()
}

// setInfoLocked records how the connection ends; the first record wins.
func (c *Conn) setInfoLocked(info CloseInfo) {
	if c.infoSet {
		return
	}
	c.info = info
	c.infoSet = true
}

// closeNet closes the socket once.
func (c *Conn) closeNet() {
	c.mu.Lock()
	already := c.netClosed
	c.netClosed = true
	c.mu.Unlock()
	if !already {
		_ = c.nc.Close() // the connection is over; its close error says nothing more
	}
}

// wakeWriter signals the writer without blocking.
func (c *Conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}
