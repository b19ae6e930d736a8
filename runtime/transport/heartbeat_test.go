package transport

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

const testPingInterval = 50 * time.Millisecond

func TestHeartbeatClosesSilentPeer(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) { testHeartbeatClosesSilentPeer(t, e.eng) })
	}
}

func testHeartbeatClosesSilentPeer(t *testing.T, eng *engine) {
	ts := newTestServerOn(t, Config{PingInterval: testPingInterval}, false, eng)
	rc := dialRaw(t, ts) // never reads, so never answers pings
	srv := ts.accept(t)

	start := time.Now()
	info := waitInfo(t, srv.info)
	checkInfo(t, "server", info, CloseGoingAway, "heartbeat timeout", true)
	// Three silent intervals, then up to one second waiting for the peer's
	// close frame.
	if d := time.Since(start); d < 3*testPingInterval-10*time.Millisecond {
		t.Errorf(
			"closed after %v, before %d intervals of %v",
			d, 3, testPingInterval,
		)
	}

	pings := 0
	for {
		h, p := rc.read(t)
		if h.OpCode == ws.OpPing {
			pings++
			continue
		}
		if h.OpCode != ws.OpClose {
			t.Fatalf(
				"unexpected frame opcode %d",
				h.OpCode,
			)
		}
		if code := CloseCode(binary.BigEndian.Uint16(p)); code != CloseGoingAway || string(p[2:]) != "heartbeat timeout" {
			t.Errorf(
				"close frame = %d %q, want 1001 heartbeat timeout",
				code, p[2:],
			)
		}
		break
	}
	if pings < 2 {
		t.Errorf(
			"silent peer got %d pings before the close, want at least 2",
			pings,
		)
	}
}

func TestHeartbeatKeepsAnsweringPeer(t *testing.T) {
	ts := newTestServer(t, Config{PingInterval: testPingInterval}, false)
	// The client answers pings but sends nothing else and pings nobody.
	cl := dialClient(t, ts, Config{PingInterval: -1})
	srv := ts.accept(t)

	select {
	case info := <-srv.info:
		t.Fatalf(
			"answering peer closed: %v",
			info,
		)
	case <-time.After(8 * testPingInterval):
	}
	if st := srv.conn.Stats(); st.FramesIn < 4 || st.FramesOut < 4 {
		t.Errorf(
			"server stats %+v, want pings out and pongs in",
			st,
		)
	}
	if err := srv.conn.Send([]byte("still here")); err != nil {
		t.Fatalf(
			"Send: %v",
			err,
		)
	}
	if got := string(recv(t, cl.msgs)); got != "still here" {
		t.Errorf(
			"client got %q",
			got,
		)
	}
}

func TestHeartbeatCountsAnyFrame(t *testing.T) {
	ts := newTestServer(t, Config{PingInterval: testPingInterval}, false)
	rc := dialRaw(t, ts) // never answers pings, but keeps sending data
	srv := ts.accept(t)

	stop := time.After(8 * testPingInterval)
	tick := time.NewTicker(testPingInterval / 2)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		case <-tick.C:
			rc.write(t, ws.OpText, true, []byte("{}"))
		case info := <-srv.info:
			t.Fatalf(
				"active peer closed: %v",
				info,
			)
		}
	}
}
