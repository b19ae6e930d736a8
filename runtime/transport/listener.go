package transport

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Defaults of ListenerOptions.
const (
	// DefaultHeaderTimeout bounds the receipt of a request head on a Listener.
	DefaultHeaderTimeout = 10 * time.Second
	// maxUpgradeHead is the largest request head the direct path reads; a
	// longer one is handed to the HTTP server, which has its own limit.
	maxUpgradeHead = 4 << 10
)

// UpgradeRequest is what a Listener read of a WebSocket upgrade request, for
// ListenerOptions.Admit and Serve.
type UpgradeRequest struct {
	Host       string   // the Host header
	Origin     string   // the Origin header, "" when absent
	RemoteAddr net.Addr // the peer's address
}

// ListenerOptions configure NewListener.
type ListenerOptions struct {
	// Path is the request path served as WebSocket upgrades, "/ws" say.
	// Required.
	Path string

	// Config is the configuration of the upgraded connections.
	Config Config

	// Admit decides, before the upgrade, whether a well-formed upgrade
	// request is served directly; false hands it to the HTTP server like
	// any other request (which can then answer with the reason). Nil
	// admits every request.
	Admit func(UpgradeRequest) bool

	// Serve takes an upgraded connection; it must start or close it. It runs
	// on the goroutine that read the handshake, which ends when Serve
	// returns. Required.
	Serve func(*Conn, UpgradeRequest)

	// HeaderTimeout bounds the receipt of the request head. Default
	// DefaultHeaderTimeout.
	HeaderTimeout time.Duration

	// OnAcceptError, when set, is told of every failed Accept of the
	// underlying listener other than its close (the listener retries with a
	// backoff, like net/http).
	OnAcceptError func(error)
}

// Listener accepts TCP connections and serves the WebSocket upgrades of one
// path itself, reading the request head from the raw socket into a small
// buffer: no net/http request, response writer, bufio reader or writer and
// no connection goroutine are made for them, and the goroutine that reads
// the head is short and ends with the handshake. Every other connection
// (another path or method, a malformed or unusual upgrade, one that Admit
// refuses) is returned by Accept with the bytes read so far put back in front,
// so that an http.Server serving the Listener answers it exactly as it would
// without it.
type Listener struct {
	ln     net.Listener
	opts   ListenerOptions
	eng    *engine
	others chan net.Conn
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// NewListener serves the WebSocket upgrades of opts.Path on ln and returns
// the Listener through which every other connection comes; give it to an
// http.Server. Closing it closes ln.
func NewListener(ln net.Listener, opts ListenerOptions) (*Listener, error) {
	return newListener(ln, opts, sharedEngine())
}

// newListener is NewListener on the engine eng.
func newListener(ln net.Listener, opts ListenerOptions, eng *engine) (*Listener, error) {
	if opts.Path == "" || opts.Path[0] != '/' {
		return nil, fmt.Errorf("transport: listener path %q: want an absolute path", opts.Path)
	}
	if opts.Serve == nil {
		return nil, errors.New("transport: listener needs a Serve function")
	}
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = DefaultHeaderTimeout
	}
	opts.Config = opts.Config.withDefaults()
	l := &Listener{ln: ln, opts: opts, eng: eng, others: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l, nil
}

// Accept returns the next connection that is not a direct WebSocket upgrade.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.others:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the underlying listener; handshakes already read go on.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.closeErr = l.ln.Close()
	})
	return l.closeErr
}

// Addr returns the underlying listener's address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// acceptLoop accepts until the listener is closed, backing off on errors.
func (l *Listener) acceptLoop() {
	var backoff time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				l.Close()
				return
			}
			if l.opts.OnAcceptError != nil {
				l.opts.OnAcceptError(err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go l.handshake(nc)
	}
}

// headPool lends the buffers request heads are read into.
var headPool = sync.Pool{New: func() any { b := make([]byte, 0, maxUpgradeHead); return &b }}

// handshake reads the request head of nc and upgrades it, or hands nc over.
func (l *Listener) handshake(nc net.Conn) {
	bp := headPool.Get().(*[]byte)
	defer func() { *bp = (*bp)[:0]; headPool.Put(bp) }()
	head, end, err := readHead(nc, *bp, l.opts.HeaderTimeout)
	*bp = head
	if err != nil && !errors.Is(err, errHeadTooLarge) {
		_ = nc.Close() // timed out or gone before a whole head came: nothing to answer
		return
	}
	var req UpgradeRequest
	var key string
	ok := err == nil
	if ok {
		req, key, ok = parseUpgrade(head[:end], l.opts.Path)
	}
	if ok {
		req.RemoteAddr = nc.RemoteAddr()
		ok = l.opts.Admit == nil || l.opts.Admit(req)
	}
	if !ok {
		l.handOver(nc, bytes.Clone(head))
		return
	}
	if err := nc.SetReadDeadline(time.Time{}); err != nil {
		_ = nc.Close()
		return
	}
	if err := writeAccept(nc, key); err != nil {
		_ = nc.Close() // the peer is gone or stuck; it never saw a 101
		return
	}
	var initial []byte
	if len(head) > end {
		initial = bytes.Clone(head[end:])
	}
	l.opts.Serve(newConn(nc, initial, ws.StateServerSide, l.opts.Config, l.eng), req)
}

// handOver gives nc, with the bytes already read put back, to Accept; when
// the listener closes first, nc is closed.
func (l *Listener) handOver(nc net.Conn, read []byte) {
	_ = nc.SetReadDeadline(time.Time{}) // the HTTP server sets its own
	select {
	case l.others <- &replayConn{Conn: nc, prefix: read}:
	case <-l.done:
		_ = nc.Close()
	}
}

// errHeadTooLarge reports a request head longer than the direct path reads; the HTTP
// server, with its own limit, answers it.
var errHeadTooLarge = errors.New("transport: request head too large for the direct path")

// readHead reads from nc into buf until the end of a request head
// ("\r\n\r\n"), the buffer's capacity or timeout, and returns what was read
// with the offset just past the head; err is set when no complete head came.
func readHead(nc net.Conn, buf []byte, timeout time.Duration) ([]byte, int, error) {
	if err := nc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return buf, 0, fmt.Errorf("set read deadline: %w", err)
	}
	for {
		n, err := nc.Read(buf[len(buf):cap(buf)])
		from := max(0, len(buf)-3)
		buf = buf[:len(buf)+n]
		if i := bytes.Index(buf[from:], []byte("\r\n\r\n")); i >= 0 {
			return buf, from + i + 4, nil
		}
		if err != nil {
			return buf, 0, fmt.Errorf("read request head: %w", err)
		}
		if len(buf) == cap(buf) {
			return buf, 0, errHeadTooLarge
		}
	}
}

// replayConn is a connection handed to the HTTP server: its reads return the
// bytes the Listener read first, then the socket's.
type replayConn struct {
	net.Conn
	prefix []byte
}

// Read returns the replayed bytes first.
func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// SyscallConn exposes the socket once the replayed bytes are consumed (so
// that an upgrade through the HTTP server is polled like a direct one);
// before that the bytes must come through Read.
func (c *replayConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok || len(c.prefix) > 0 {
		return nil, errors.New("transport: no raw socket")
	}
	return sc.SyscallConn()
}

// wsGUID is the key suffix of RFC 6455 section 1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// writeAccept writes the 101 response of RFC 6455 section 4.2.2 for key.
func writeAccept(nc net.Conn, key string) error {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(wsGUID))
	var sum [sha1.Size]byte
	var resp [160]byte
	b := append(resp[:0], "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = base64.StdEncoding.AppendEncode(b, h.Sum(sum[:0]))
	b = append(b, "\r\n\r\n"...)
	// No write deadline: the response is the first write on the socket and far smaller
	// than its send buffer, so the kernel takes it at once whatever the peer does.
	if _, err := nc.Write(b); err != nil {
		return fmt.Errorf("write handshake response: %w", err)
	}
	return nil
}
