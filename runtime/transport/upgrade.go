package transport

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/gobwas/ws"
)

// Upgrade turns an HTTP request into a server-side Conn (RFC 6455 section
// 4.2). An invalid upgrade request is answered with HTTP 400 and an empty
// body (protocol reference section 2.1) and reported as an error wrapping
// ErrBadHandshake. On success the request's connection is hijacked; the
// handler must not use w afterwards.
//
// The Conn keeps nothing of net/http: bytes the client sent past the
// handshake are copied out of the hijacked reader, and net/http's 4 KiB
// reader and writer are dropped. With Start the handler can return at once,
// so that the request and the handler goroutine are released too.
func Upgrade(w http.ResponseWriter, r *http.Request, cfg Config) (*Conn, error) {
	return upgrade(w, r, cfg, sharedEngine())
}

// upgrade is Upgrade on the engine eng.
func upgrade(w http.ResponseWriter, r *http.Request, cfg Config, eng *engine) (*Conn, error) {
	cfg = cfg.withDefaults()
	if err := checkUpgradeRequest(r); err != nil {
		if r.Header.Get("Sec-WebSocket-Version") != "13" {
			// Tell the client which version is supported (RFC 6455 4.2.2).
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		w.WriteHeader(http.StatusBadRequest)
		return nil, fmt.Errorf("transport: upgrade request from %s: %w", r.RemoteAddr, err)
	}
	u := ws.HTTPUpgrader{Timeout: cfg.WriteTimeout}
	nc, rw, _, err := u.Upgrade(r, &rejectWriter{w: w})
	if err != nil {
		if nc != nil {
			_ = nc.Close() // the handshake failed; nothing else to report
		}
		return nil, fmt.Errorf("transport: upgrade request from %s: %w", r.RemoteAddr, err)
	}
	return newConn(nc, takeBuffered(rw.Reader), ws.StateServerSide, cfg, eng), nil
}

// takeBuffered returns a copy of the bytes br holds, nil when it holds none
// (the usual case: a client waits for the handshake response).
func takeBuffered(br *bufio.Reader) []byte {
	n := br.Buffered()
	if n == 0 {
		return nil
	}
	p, _ := br.Peek(n) // cannot fail: n bytes are buffered
	return bytes.Clone(p)
}

// checkUpgradeRequest validates r as ws.HTTPUpgrader would, a little more
// strictly, so that the upgrader never rejects a request after hijacking it
// (it would answer with its own status and a text body).
func checkUpgradeRequest(r *http.Request) error {
	switch {
	case r.Method != http.MethodGet:
		return fmt.Errorf("%w: method %s", ErrBadHandshake, r.Method)
	case r.ProtoMajor != 1 || r.ProtoMinor < 1:
		return fmt.Errorf("%w: protocol %s", ErrBadHandshake, r.Proto)
	case r.Host == "":
		return fmt.Errorf("%w: no Host header", ErrBadHandshake)
	case !strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		return fmt.Errorf("%w: Upgrade header is not websocket", ErrBadHandshake)
	case !hasToken(r.Header.Get("Connection"), "upgrade"):
		return fmt.Errorf("%w: Connection header lacks upgrade", ErrBadHandshake)
	case !validKey(r.Header.Get("Sec-WebSocket-Key")):
		return fmt.Errorf("%w: bad Sec-WebSocket-Key", ErrBadHandshake)
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return fmt.Errorf("%w: unsupported Sec-WebSocket-Version", ErrBadHandshake)
	}
	return nil
}

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

// hasToken reports whether the comma-separated list of HTTP tokens contains
// token, case-insensitively. A malformed list contains nothing.
func hasToken(list, token string) bool {
	found := false
	for part := range strings.SplitSeq(list, ",") {
		part = strings.Trim(part, " \t")
		if !isToken(part) {
			return false
		}
		if strings.EqualFold(part, token) {
			found = true
		}
	}
	return found
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// rejectWriter is the http.ResponseWriter handed to ws.HTTPUpgrader: it
// exposes the real writer for hijacking, and turns any error response the
// upgrader writes without hijacking into HTTP 400 with an empty body.
type rejectWriter struct {
	w http.ResponseWriter
	h http.Header
}

// Header returns a header map that is not sent.
func (rw *rejectWriter) Header() http.Header {
	if rw.h == nil {
		rw.h = make(http.Header)
	}
	return rw.h
}

// WriteHeader answers 400 whatever the status.
func (rw *rejectWriter) WriteHeader(int) {
	rw.w.WriteHeader(http.StatusBadRequest)
}

// Write discards the body.
func (rw *rejectWriter) Write(p []byte) (int, error) {
	return len(p), nil
}

// Unwrap gives http.ResponseController access to the real writer.
func (rw *rejectWriter) Unwrap() http.ResponseWriter {
	return rw.w
}
