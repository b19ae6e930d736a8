package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestCloseHandshake(t *testing.T) {
	tests := []struct {
		name         string
		serverCloses bool
		code         CloseCode
		reason       string
	}{
		{
			name:         "server initiates",
			serverCloses: true,
			code:         CloseNormal,
			reason:       "normal",
		},
		{
			name:         "client initiates",
			serverCloses: false,
			code:         4001,
			reason:       "bye",
		},
	}
	for _, e := range engines() {
		for _, tt := range tests {
			t.Run(e.name+"/"+tt.name, func(t *testing.T) {
				testCloseHandshake(t, e.eng, tt.serverCloses, tt.code, tt.reason)
			})
		}
	}
}

// testCloseHandshake closes a connection with code and reason from the
// server side or the client side.
func testCloseHandshake(t *testing.T, eng *engine, serverCloses bool, code CloseCode, reason string) {
	ts := newTestServerOn(t, Config{}, false, eng)
	cl := dialClient(t, ts, Config{})
	srv := ts.accept(t)

	closer, other := srv.conn, cl.conn
	if !serverCloses {
		closer, other = cl.conn, srv.conn
	}
	start := time.Now()
	if err := closer.Close(code, reason); err != nil {
		t.Fatalf(
			"Close: %v",
			err,
		)
	}
	// The peer answers at once, so the one-second wait for its close frame
	// must not be used up.
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf(
			"Close took %v despite the peer answering",
			d,
		)
	}
	waitDone(t, other, waitTimeout)
	checkInfo(t, "closer", closer.CloseInfo(), code, reason, true)
	checkInfo(t, "peer", other.CloseInfo(), code, reason, false)
	checkInfo(t, "client Serve", waitInfo(t, cl.info), code, reason, !serverCloses)
	checkInfo(t, "server Serve", waitInfo(t, srv.info), code, reason, serverCloses)

	// Idempotent.
	if err := closer.Close(CloseGoingAway, "again"); err != nil {
		t.Errorf(
			"second Close: %v",
			err,
		)
	}
	checkInfo(t, "closer after second Close", closer.CloseInfo(), code, reason, true)
}

func TestCloseFlushesQueuedMessages(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	cl := dialClient(t, ts, Config{})
	srv := ts.accept(t)

	const n = 100
	for i := range n {
		if err := srv.conn.Send([]byte{byte('0' + i%10)}); err != nil {
			t.Fatalf(
				"Send: %v",
				err,
			)
		}
	}
	if err := srv.conn.Close(CloseNormal, "done"); err != nil {
		t.Fatalf(
			"Close: %v",
			err,
		)
	}
	for i := range n {
		if got := recv(t, cl.msgs); got[0] != byte('0'+i%10) {
			t.Fatalf(
				"message %d = %q, out of order",
				i, got,
			)
		}
	}
	checkInfo(t, "client", waitInfo(t, cl.info), CloseNormal, "done", false)
}

func TestSendAfterClose(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	cl := dialClient(t, ts, Config{})
	srv := ts.accept(t)

	if err := cl.conn.Close(CloseNormal, ""); err != nil {
		t.Fatalf(
			"Close: %v",
			err,
		)
	}
	if err := cl.conn.Send([]byte("{}")); !errors.Is(err, ErrClosed) {
		t.Errorf(
			"client Send after Close = %v, want ErrClosed",
			err,
		)
	}
	waitDone(t, srv.conn, waitTimeout)
	if err := srv.conn.Send([]byte("{}")); !errors.Is(err, ErrClosed) {
		t.Errorf(
			"server Send after peer close = %v, want ErrClosed",
			err,
		)
	}
}

func TestAbnormalClosure(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	_ = rc.nc.Close()
	info := waitInfo(t, srv.info)
	checkInfo(t, "server", info, CloseAbnormal, "abnormal closure", false)
	if info.Err == nil {
		t.Errorf(
			"abnormal CloseInfo has no Err",
		)
	}
}

func TestPeerCloseWithoutStatus(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	rc.write(t, ws.OpClose, true, nil)
	if p := rc.readUntil(t, ws.OpClose); len(p) != 0 {
		t.Errorf(
			"echo of an empty close frame has payload %q",
			p,
		)
	}
	checkInfo(t, "server", waitInfo(t, srv.info), CloseNoStatus, "", false)
}

func TestPeerCloseEchoesCode(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	rc.write(t, ws.OpClose, true, closeBody(3001, "app"))
	p := rc.readUntil(t, ws.OpClose)
	if len(p) < 2 || CloseCode(binary.BigEndian.Uint16(p)) != 3001 {
		t.Errorf(
			"echo payload = %q, want code 3001",
			p,
		)
	}
	checkInfo(t, "server", waitInfo(t, srv.info), 3001, "app", false)
}

func TestPeerCloseInvalidCode(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	rc.write(t, ws.OpClose, true, closeBody(CloseAbnormal, ""))
	p := rc.readUntil(t, ws.OpClose)
	if CloseCode(binary.BigEndian.Uint16(p)) != CloseProtocolError {
		t.Errorf(
			"answer to an invalid close code = %q, want 1002",
			p,
		)
	}
	checkInfo(t, "server", waitInfo(t, srv.info), CloseProtocolError, "protocol error", true)
}

func TestCloseWaitsAtMostOneSecondForPeer(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	_ = dialRaw(t, ts) // never answers
	srv := ts.accept(t)

	start := time.Now()
	if err := srv.conn.Close(CloseNormal, "bye"); err != nil {
		t.Fatalf(
			"Close: %v",
			err,
		)
	}
	if d := time.Since(start); d < closeWait || d > closeWait+time.Second {
		t.Errorf(
			"Close took %v, want about %v",
			d, closeWait,
		)
	}
	checkInfo(t, "server", srv.conn.CloseInfo(), CloseNormal, "bye", true)
}

func TestCloseBeforeServe(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, ts.url, Config{})
	if err != nil {
		t.Fatalf(
			"Dial: %v",
			err,
		)
	}
	srv := ts.accept(t)
	if err := c.Send([]byte("queued")); err != nil {
		t.Fatalf(
			"Send: %v",
			err,
		)
	}
	if err := c.Close(CloseNormal, "early"); err != nil {
		t.Fatalf(
			"Close: %v",
			err,
		)
	}
	if got := string(recv(t, srv.msgs)); got != "queued" {
		t.Errorf(
			"server got %q, want the message queued before Close",
			got,
		)
	}
	checkInfo(t, "server", waitInfo(t, srv.info), CloseNormal, "early", false)
	checkInfo(t, "client Serve after Close", c.Serve(ctx, nil), CloseNormal, "early", true)
}

func TestCloseFromHandler(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, ts.url, Config{})
	if err != nil {
		t.Fatalf(
			"Dial: %v",
			err,
		)
	}
	srv := ts.accept(t)
	if err := srv.conn.Send([]byte("close me")); err != nil {
		t.Fatalf(
			"Send: %v",
			err,
		)
	}
	info := c.Serve(ctx, func([]byte) {
		if err := c.Close(CloseNormal, "handler"); err != nil {
			t.Errorf(
				"Close in handler: %v",
				err,
			)
		}
	})
	checkInfo(t, "client", info, CloseNormal, "handler", true)
	checkInfo(t, "server", waitInfo(t, srv.info), CloseNormal, "handler", false)
}

func TestServeContextCancel(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, ts.url, Config{})
	if err != nil {
		t.Fatalf(
			"Dial: %v",
			err,
		)
	}
	srv := ts.accept(t)
	serveCtx, stop := context.WithCancel(context.Background())
	stop()
	checkInfo(t, "client", c.Serve(serveCtx, nil), CloseGoingAway, "going away", true)
	checkInfo(t, "server", waitInfo(t, srv.info), CloseGoingAway, "going away", false)
}

func TestCloseInvalidCode(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	cl := dialClient(t, ts, Config{})
	for _, code := range []CloseCode{0, 999, CloseNoStatus, CloseAbnormal, 1015, 2000, 5000} {
		if err := cl.conn.Close(code, ""); !errors.Is(err, ErrInvalidCloseCode) {
			t.Errorf(
				"Close(%d) = %v, want ErrInvalidCloseCode",
				code, err,
			)
		}
	}
	select {
	case <-cl.conn.Done():
		t.Fatalf(
			"connection closed by an invalid Close",
		)
	default:
	}
}
