package transport

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gobwas/ws"
)

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
//
// A ws:// connection is driven by the shared engine like a server-side one;
// a wss:// connection (no descriptor to poll) reads in a goroutine of its
// own.
func DialHeader(ctx context.Context, urlStr string, header http.Header, cfg Config) (*Conn, error) {
	return dial(ctx, urlStr, header, cfg, sharedEngine())
}

// dial is DialHeader on the engine eng.
func dial(ctx context.Context, urlStr string, header http.Header, cfg Config, eng *engine) (*Conn, error) {
	cfg = cfg.withDefaults()
	var d ws.Dialer
	if len(header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	nc, br, _, err := d.Dial(ctx, urlStr)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", urlStr, err)
	}
	var initial []byte
	if br != nil {
		// Frames arrived with the handshake response.
		initial = takeBuffered(br)
		ws.PutReader(br)
	}
	return newConn(nc, initial, ws.StateClientSide, cfg, eng), nil
}
