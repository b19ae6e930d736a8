package transport

import (
	"bufio"
	"context"
	"fmt"
	"net/http"

	"github.com/gobwas/ws"
)

// ioBufferSize is the size of the read and write buffers of a dialed Conn.
const ioBufferSize = 4 << 10

// Dial connects to a ws:// or wss:// URL and returns a client-side Conn.
// ctx bounds the TCP connect, TLS and WebSocket handshakes; it does not
// affect the connection once established.
func Dial(ctx context.Context, urlStr string, cfg Config) (*Conn, error) {
	return DialHeader(ctx, urlStr, nil, cfg)
}

// DialHeader is Dial with extra HTTP headers on the upgrade request, such as
// Authorization. A server that answers the upgrade with an HTTP status other
// than 101 makes it fail with an error wrapping ws.StatusError (errors.As
// gives the status).
func DialHeader(ctx context.Context, urlStr string, header http.Header, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	var d ws.Dialer
	if len(header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	nc, br, _, err := d.Dial(ctx, urlStr)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", urlStr, err)
	}
	if br == nil {
		// No frame arrived with the handshake response: read the socket
		// through a buffer of our own.
		br = bufio.NewReaderSize(nc, ioBufferSize)
	}
	return newConn(nc, br, bufio.NewWriterSize(nc, ioBufferSize), ws.StateClientSide, cfg), nil
}
