package transport

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// waitTimeout bounds every wait in the tests.
const waitTimeout = 5 * time.Second

// serverSide is one connection accepted by a testServer.
type serverSide struct {
	conn *Conn
	msgs chan []byte    // messages received, when the server does not echo
	info chan CloseInfo // Serve's result
}

// testServer is an httptest server upgrading every request.
type testServer struct {
	url   string
	eng   *engine // of the server's and the dialed connections
	conns chan *serverSide
}

// newTestServer starts a server whose connections use cfg and the shared
// engine. With echo set, every message is sent back; otherwise messages go
// to serverSide.msgs.
func newTestServer(t testing.TB, cfg Config, echo bool) *testServer {
	t.Helper()
	return newTestServerOn(t, cfg, echo, sharedEngine())
}

// engines are the two ways a Conn reads: the shared engine's poller and the
// portable fallback (a reader goroutine per connection).
func engines() []struct {
	name string
	eng  *engine
} {
	return []struct {
		name string
		eng  *engine
	}{
		{name: "poller", eng: sharedEngine()},
		{name: "fallback", eng: newEngine(false)},
	}
}

// newTestServerOn is newTestServer on the engine eng; clients dialed with
// dialClient use eng too.
func newTestServerOn(t testing.TB, cfg Config, echo bool, eng *engine) *testServer {
	t.Helper()
	ts := &testServer{eng: eng, conns: make(chan *serverSide, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrade(w, r, cfg, eng)
		if err != nil {
			return
		}
		s := &serverSide{conn: c, msgs: make(chan []byte, 1024), info: make(chan CloseInfo, 1)}
		ts.conns <- s
		s.info <- c.Serve(ctx, func(msg []byte) {
			if echo {
				_ = c.Send(msg)
				return
			}
			s.msgs <- msg
		})
	}))
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	ts.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return ts
}

// accept returns the next server-side connection.
func (ts *testServer) accept(t testing.TB) *serverSide {
	t.Helper()
	select {
	case s := <-ts.conns:
		return s
	case <-time.After(waitTimeout):
		t.Fatalf(
			"no server connection within %v",
			waitTimeout,
		)
		return nil
	}
}

// client is a dialed Conn being served.
type client struct {
	conn *Conn
	msgs chan []byte
	info chan CloseInfo
}

// dialClient dials ts and serves the connection in a goroutine.
func dialClient(t testing.TB, ts *testServer, cfg Config) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := dial(ctx, ts.url, nil, cfg, ts.eng)
	if err != nil {
		t.Fatalf(
			"Dial: %v",
			err,
		)
	}
	cl := &client{conn: c, msgs: make(chan []byte, 1024), info: make(chan CloseInfo, 1)}
	go func() {
		cl.info <- c.Serve(context.Background(), func(msg []byte) { cl.msgs <- msg })
	}()
	t.Cleanup(func() {
		_ = c.Close(CloseNormal, "")
	})
	return cl
}

// recv waits for a message on ch.
func recv(t testing.TB, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitTimeout):
		t.Fatalf(
			"no message within %v",
			waitTimeout,
		)
		return nil
	}
}

// waitInfo waits for a CloseInfo on ch.
func waitInfo(t testing.TB, ch <-chan CloseInfo) CloseInfo {
	t.Helper()
	select {
	case info := <-ch:
		return info
	case <-time.After(waitTimeout):
		t.Fatalf(
			"connection not closed within %v",
			waitTimeout,
		)
		return CloseInfo{}
	}
}

// waitDone waits for c to be fully closed within d.
func waitDone(t testing.TB, c *Conn, d time.Duration) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(d):
		t.Fatalf(
			"connection not done within %v",
			d,
		)
	}
}

// checkInfo compares the code, reason and side of a CloseInfo.
func checkInfo(t testing.TB, who string, got CloseInfo, code CloseCode, reason string, local bool) {
	t.Helper()
	if got.Code != code || got.Reason != reason || got.Local != local {
		t.Errorf(
			"%s CloseInfo = %v, want code %d reason %q local %v",
			who, got, code, reason, local,
		)
	}
}

// rawClient is a WebSocket client speaking frames directly.
type rawClient struct {
	nc net.Conn
	r  io.Reader
}

// dialRaw opens a raw WebSocket client connection to ts.
func dialRaw(t testing.TB, ts *testServer) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	nc, br, _, err := ws.Dial(ctx, ts.url)
	if err != nil {
		t.Fatalf(
			"ws.Dial: %v",
			err,
		)
	}
	t.Cleanup(func() { _ = nc.Close() })
	rc := &rawClient{nc: nc, r: bufio.NewReader(nc)}
	if br != nil {
		rc.r = br
	}
	return rc
}

// write sends one masked frame.
func (rc *rawClient) write(t testing.TB, op ws.OpCode, fin bool, p []byte) {
	t.Helper()
	f := ws.MaskFrame(ws.NewFrame(op, fin, p))
	if err := ws.WriteFrame(rc.nc, f); err != nil {
		t.Fatalf(
			"write frame: %v",
			err,
		)
	}
}

// read reads one frame within waitTimeout.
func (rc *rawClient) read(t testing.TB) (ws.Header, []byte) {
	t.Helper()
	_ = rc.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	h, err := ws.ReadHeader(rc.r)
	if err != nil {
		t.Fatalf(
			"read frame header: %v",
			err,
		)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(rc.r, p); err != nil {
		t.Fatalf(
			"read frame payload: %v",
			err,
		)
	}
	return h, p
}

// readUntil reads frames until one with opcode op arrives.
func (rc *rawClient) readUntil(t testing.TB, op ws.OpCode) []byte {
	t.Helper()
	for {
		h, p := rc.read(t)
		if h.OpCode == op {
			return p
		}
	}
}

// serveInBackground serves c the way runtime/server does: Start, so that the
// HTTP handler returns at once.
func serveInBackground(c *Conn, onMessage func([]byte), onClose func(CloseInfo)) {
	c.Start(onMessage, onClose)
}
