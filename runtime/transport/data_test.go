package transport

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestEchoRoundTrip(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) { testEchoRoundTrip(t, e.eng) })
	}
}

func testEchoRoundTrip(t *testing.T, eng *engine) {
	ts := newTestServerOn(t, Config{}, true, eng)
	cl := dialClient(t, ts, Config{})
	srv := ts.accept(t)

	for _, want := range []string{`{"jsonrpc":"2.0","id":"c-1","method":"network/ping"}`, "", strings.Repeat("x", 70000)} {
		if err := cl.conn.Send([]byte(want)); err != nil {
			t.Fatalf(
				"Send: %v",
				err,
			)
		}
		if got := recv(t, cl.msgs); string(got) != want {
			t.Fatalf(
				"echo of %d bytes returned %d bytes",
				len(want), len(got),
			)
		}
	}

	st := cl.conn.Stats()
	if st.MessagesOut != 3 || st.MessagesIn != 3 {
		t.Errorf(
			"client stats = %+v, want 3 messages each way",
			st,
		)
	}
	if sst := srv.conn.Stats(); sst.FramesIn < 3 || sst.BytesIn < 70000 {
		t.Errorf(
			"server stats = %+v, want at least 3 frames and 70000 bytes in",
			sst,
		)
	}
	if cl.conn.RemoteAddr() == nil || srv.conn.RemoteAddr() == nil {
		t.Errorf(
			"RemoteAddr is nil",
		)
	}
}

func TestBinaryFrameDelivered(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	want := []byte(`{"jsonrpc":"2.0","method":"x"}`)
	rc.write(t, ws.OpBinary, true, want)
	if got := recv(t, srv.msgs); !bytes.Equal(got, want) {
		t.Fatalf(
			"binary message = %q, want %q",
			got, want,
		)
	}
}

func TestFragmentedMessageReassembled(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) { testFragmentedMessageReassembled(t, e.eng) })
	}
}

func testFragmentedMessageReassembled(t *testing.T, eng *engine) {
	ts := newTestServerOn(t, Config{}, false, eng)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	rc.write(t, ws.OpText, false, []byte(`{"jsonrpc":`))
	rc.write(t, ws.OpPing, true, []byte("between"))
	rc.write(t, ws.OpContinuation, false, []byte(`"2.0",`))
	rc.write(t, ws.OpContinuation, true, []byte(`"method":"m"}`))

	if got, want := string(recv(t, srv.msgs)), `{"jsonrpc":"2.0","method":"m"}`; got != want {
		t.Fatalf(
			"reassembled message = %q, want %q",
			got, want,
		)
	}
	if pong := rc.readUntil(t, ws.OpPong); string(pong) != "between" {
		t.Errorf(
			"pong payload = %q, want %q",
			pong, "between",
		)
	}
}

func TestOversizeMessageClosed(t *testing.T) {
	tests := []struct {
		name      string
		fragments []int
	}{
		{
			name:      "single frame",
			fragments: []int{2000},
		},
		{
			name:      "fragments",
			fragments: []int{600, 600},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Config{ReadLimit: 1024}, false)
			rc := dialRaw(t, ts)
			srv := ts.accept(t)

			for i, n := range tt.fragments {
				op := ws.OpContinuation
				if i == 0 {
					op = ws.OpText
				}
				rc.write(t, op, i == len(tt.fragments)-1, bytes.Repeat([]byte("a"), n))
			}
			p := rc.readUntil(t, ws.OpClose)
			if code := CloseCode(binary.BigEndian.Uint16(p)); code != CloseMessageTooBig {
				t.Errorf(
					"close frame code = %d, want %d",
					code, CloseMessageTooBig,
				)
			}
			rc.write(t, ws.OpClose, true, p)
			checkInfo(t, "server", waitInfo(t, srv.info), CloseMessageTooBig, "message too big", true)
			select {
			case m := <-srv.msgs:
				t.Errorf(
					"oversize message of %d bytes delivered",
					len(m),
				)
			default:
			}
		})
	}
}

func TestOversizeObservedByClientConn(t *testing.T) {
	ts := newTestServer(t, Config{ReadLimit: 1024}, false)
	cl := dialClient(t, ts, Config{})
	srv := ts.accept(t)

	if err := cl.conn.Send(make([]byte, 4096)); err != nil {
		t.Fatalf(
			"Send: %v",
			err,
		)
	}
	checkInfo(t, "client", waitInfo(t, cl.info), CloseMessageTooBig, "message too big", false)
	checkInfo(t, "server", waitInfo(t, srv.info), CloseMessageTooBig, "message too big", true)
}

func TestInvalidUTF8TextClosed(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	rc.write(t, ws.OpText, true, []byte{'"', 0xff, '"'})
	p := rc.readUntil(t, ws.OpClose)
	rc.write(t, ws.OpClose, true, p)
	checkInfo(t, "server", waitInfo(t, srv.info), CloseInvalidPayload, "invalid UTF-8 text", true)
}

func TestUnmaskedClientFrameIsProtocolError(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	rc := dialRaw(t, ts)
	srv := ts.accept(t)

	if err := ws.WriteFrame(rc.nc, ws.NewTextFrame([]byte("{}"))); err != nil {
		t.Fatalf(
			"write: %v",
			err,
		)
	}
	p := rc.readUntil(t, ws.OpClose)
	if code := CloseCode(binary.BigEndian.Uint16(p)); code != CloseProtocolError {
		t.Errorf(
			"close frame code = %d, want %d",
			code, CloseProtocolError,
		)
	}
	checkInfo(t, "server", waitInfo(t, srv.info), CloseProtocolError, "protocol error", true)
}

func TestSharedSliceFanOut(t *testing.T) {
	const n = 10
	ts := newTestServer(t, Config{}, false)
	clients := make([]*client, n)
	servers := make([]*serverSide, n)
	for i := range clients {
		clients[i] = dialClient(t, ts, Config{})
		servers[i] = ts.accept(t)
	}
	// Longer than the 4 KiB write buffer so that client masking works in
	// several chunks.
	shared := []byte(`{"jsonrpc":"2.0","method":"messages/received","params":{"text":"` +
		strings.Repeat("héllo ", 2000) + `"}}`)
	want := bytes.Clone(shared)

	// Server to clients: the same slice on every connection.
	for _, s := range servers {
		if err := s.conn.Send(shared); err != nil {
			t.Fatalf(
				"server Send: %v",
				err,
			)
		}
	}
	// Clients to server: masking must not touch the shared slice either.
	for _, c := range clients {
		if err := c.conn.Send(shared); err != nil {
			t.Fatalf(
				"client Send: %v",
				err,
			)
		}
	}
	for i := range n {
		if got := recv(t, clients[i].msgs); !bytes.Equal(got, want) {
			t.Errorf(
				"client %d received %d different bytes",
				i, len(got),
			)
		}
		if got := recv(t, servers[i].msgs); !bytes.Equal(got, want) {
			t.Errorf(
				"server %d received %d different bytes",
				i, len(got),
			)
		}
	}
	if !bytes.Equal(shared, want) {
		t.Fatalf(
			"shared slice modified by Send",
		)
	}
}

// TestBurstBeyondOneReadTask: a burst much larger than one read task reads (readBudget
// reads of readBufSize) arrives whole and in order; with an edge-triggered poller nothing
// reports what is left, so the read task must queue itself up again.
func TestBurstBeyondOneReadTask(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ts := newTestServerOn(t, Config{}, false, e.eng)
			cl := dialClient(t, ts, Config{WriteQueueLen: 1000, WriteQueueBytes: 64 << 20})
			srv := ts.accept(t)
			const n, size = 40, 60 << 10 // 2.3 MiB: about 10 read tasks' worth
			for i := range n {
				msg := bytes.Repeat([]byte{byte('a' + i%26)}, size)
				binary.BigEndian.PutUint32(msg, uint32(i))
				if err := cl.conn.Send(msg); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			for i := range n {
				got := recv(t, srv.msgs)
				if len(got) != size || binary.BigEndian.Uint32(got) != uint32(i) || got[size-1] != byte('a'+i%26) {
					t.Fatalf("message %d: %d bytes, number %d", i, len(got), binary.BigEndian.Uint32(got))
				}
			}
		})
	}
}
