package transport

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
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
// A Conn must be started (Start or Serve) or closed (Close): until then
// nothing reads from the socket.
//
// An idle Conn holds no goroutine, no buffer and no runtime timer: reads
// happen on engine workers when the poller reports the socket readable, the
// writer runs only while messages are queued, heartbeats and deadlines live
// in the engine's timer heap. Lock order: Conn.mu before the engine's
// timerHeap.mu, registry mu and workerPool.mu; none of those is held while
// taking Conn.mu.
type Conn struct {
	cfg  Config
	nc   net.Conn
	rc   syscall.RawConn // nc's descriptor; nil when the Conn is not polled
	eng  *engine
	id   uint64         // key in the engine's registry (poller events)
	side ws.State       // ws.StateServerSide or ws.StateClientSide
	mask *mrand.ChaCha8 // client side only; used by the writer

	done chan struct{} // closed when everything is torn down

	closing   atomic.Bool // a close has started; inbound data is discarded
	inHandler atomic.Bool // onMessage is running
	activity  atomic.Bool // a frame arrived since the last heartbeat tick

	stats counters

	// Owned by the reader (one read task or the reader goroutine at a time).
	fr        frameReader
	initial   []byte // bytes buffered before the handover (handshake leftovers)
	onMessage func([]byte)

	mu          sync.Mutex
	tm          connTimers      // deadlines; index and when belong to the timer heap
	onClose     func(CloseInfo) // called once by teardown
	started     bool            // the reader, writer and timers are set up
	polled      bool            // reads are driven by the engine's poller
	readBusy    bool            // a read task (or the reader goroutine) owns the read side
	readAgain   bool            // an event came while a read task ran: it reads again
	readDone    bool            // the read side has ended
	finished    bool            // teardown is scheduled
	queue       *msgQueue       // messages waiting for the writer; nil when empty
	pending     int             // messages in queue
	pendingSize int             // their payload bytes
	inflight    int             // messages taken by the writer, not yet written
	inflightLen int             // their payload bytes
	writing     bool            // a flush task runs
	pingWanted  bool
	pongWanted  bool
	pong        []byte // payload of the pong to send
	closeReq    bool   // a close frame must be sent
	closeSent   bool   // the close frame has been written
	closeFrame  []byte // its payload
	closeBy     int64  // engine clock deadline for the writes of a graceful close
	peerClosed  bool   // the peer's close frame was received
	aborted     bool   // slow consumer: drop everything, close now
	netClosed   bool
	info        CloseInfo
	infoSet     bool
}

// newConn wraps an upgraded connection. initial holds bytes already read
// from nc past the handshake; they are parsed before the socket.
func newConn(nc net.Conn, initial []byte, side ws.State, cfg Config, eng *engine) *Conn {
	c := &Conn{
		cfg:     cfg,
		nc:      nc,
		eng:     eng,
		side:    side,
		initial: initial,
		done:    make(chan struct{}),
	}
	c.fr.state = side
	c.tm.index = -1
	if sc, ok := nc.(syscall.Conn); ok && eng.poller != nil {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc, c.polled = rc, true
		}
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
// socket is closed and no callback of the Conn runs any more, except the
// onClose given to Start, which runs right after.
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

// closeNet closes the socket once. A polled Conn is removed from the poller
// first, through the descriptor's own lock so that a reused descriptor
// number is never touched. When no read task owns the read side, nothing
// will read again, so the read side ends here.
func (c *Conn) closeNet() {
	c.mu.Lock()
	if c.netClosed {
		c.mu.Unlock()
		return
	}
	c.netClosed = true
	endRead := c.polled && !c.readBusy && !c.readDone
	c.mu.Unlock()
	if c.polled {
		_ = c.rc.Control(func(fd uintptr) { _ = c.eng.poller.del(int(fd)) }) // fails only once closed
	}
	_ = c.nc.Close() // the connection is over; its close error says nothing more
	if endRead {
		c.readEnded(errLocalClose)
	}
}

// finishIfDone schedules the teardown once the read side has ended and no
// flush runs.
func (c *Conn) finishIfDone() {
	c.mu.Lock()
	run := c.readDone && !c.writing && !c.finished
	if run {
		c.finished = true
	}
	c.mu.Unlock()
	if run {
		c.eng.pool.submit(task{c: c, kind: taskTeardown})
	}
}
