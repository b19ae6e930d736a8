package transport

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrClosed is returned by Send once the connection is closing or closed.
	ErrClosed = errors.New("transport: connection closed")
	// ErrQueueFull is returned by Send when the outbound queue is full; the
	// connection is then closed with ClosePolicyViolation.
	ErrQueueFull = errors.New("transport: write queue full")
	// ErrInvalidCloseCode is returned by Close for a code that may not be
	// sent in a close frame.
	ErrInvalidCloseCode = errors.New("transport: invalid close code")
	// ErrBadHandshake is returned by Upgrade for a request that is not a
	// valid WebSocket upgrade.
	ErrBadHandshake = errors.New("transport: bad websocket handshake")
)

// Internal read loop outcomes.
var (
	// errPeerClosed ends the read loop after the peer's close frame.
	errPeerClosed = errors.New("transport: peer sent close frame")
	// errFailed ends the read loop after a protocol violation by the peer;
	// the close frame has been requested and the stream is not parsed
	// further.
	errFailed = errors.New("transport: connection failed")
	// errLocalClose ends the read side when the socket was closed by this
	// side (after the close handshake, a write error or a slow consumer).
	errLocalClose = errors.New("transport: socket closed locally")
)
