package loadgen

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// receivedFrame encodes a messages/received frame the way the server does.
func receivedFrame(t *testing.T, id, text string) []byte {
	t.Helper()
	n := protocol.MessagesReceivedNotification{
		TaskID: protocol.TaskID(uuid.NewString()),
		Message: protocol.Message{
			ID: protocol.MessageID(id), ConversationID: protocol.ConversationID(uuid.NewString()),
			SenderID: protocol.AgentID(uuid.NewString()), Seq: "7",
			Parts:     protocol.MessageParts{protocol.TextPart{Text: text}},
			CreatedAt: "2026-11-23T10:00:00.000Z",
		},
	}
	params, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocoltest.ValidateReference("#/$defs/MessagesReceivedNotification", params); err != nil {
		t.Fatalf("fixture fails its schema: %v", err)
	}
	return wire.EncodeNotification("messages/received", params)
}

func TestReceivedIDAgreesWithDecode(t *testing.T) {
	tricky := []string{
		"plain",
		`"message":{"id":"00000000-0000-0000-0000-000000000000"}`,
		`{"jsonrpc":"2.0","method":"messages/received","params":{"message":{"id":"x"}}}`,
	}
	for _, text := range tricky {
		id := uuid.Must(uuid.NewV7()).String()
		frame := receivedFrame(t, id, text)
		got, ok := receivedID(frame)
		if !ok {
			t.Fatalf("no id found in %s", frame)
		}
		f, perr := wire.Parse(frame)
		if perr != nil {
			t.Fatal(perr)
		}
		full, err := protocol.Decode[protocol.MessagesReceivedNotification](f.Params)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(full.Message.ID) || got.String() != id {
			t.Fatalf("byte search found %s, decode found %s", got, full.Message.ID)
		}
	}
}

func TestReceivedIDRejects(t *testing.T) {
	id := uuid.NewString()
	good := receivedFrame(t, id, "hi")
	for name, frame := range map[string][]byte{
		"other notification": wire.EncodeNotification("task/created", json.RawMessage(`{"task":{"id":"`+id+`"}}`)),
		"response":           wire.EncodeResult("c-1", json.RawMessage(`{"message":{"id":"`+id+`"}}`)),
		"truncated":          good[:len(receivedPrefix)+30],
		"empty":              nil,
	} {
		if k, ok := receivedID(frame); ok {
			t.Errorf("%s: found %s", name, k)
		}
	}
	// The messages/send result carries the id the same way.
	res := []byte(`{"message":{"id":"` + id + `","conversationId":"c","parts":[]}}`)
	if k, ok := messageID(res); !ok || k.String() != id {
		t.Fatalf("result id %s %v", k, ok)
	}
}

func TestParseVmRSS(t *testing.T) {
	status := []byte("Name:\tmoltzap\nVmPeak:\t  9999 kB\nVmRSS:\t   2048 kB\nThreads:\t4\n")
	if n, err := parseVmRSS(status); err != nil || n != 2048*1024 {
		t.Fatalf("%d %v", n, err)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tlots kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestNetDialRotatesSources(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Config{BaseURL: "http://" + ln.Addr().String(), Count: 1, Duration: time.Second,
		SourceAddrs: []string{"127.0.0.2", "127.0.0.3"}}.check(1)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(c)
	seen := map[string]int{}
	for range 4 {
		conn, err := r.netDial(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		ip := conn.LocalAddr().(*net.TCPAddr).IP.String()
		seen[ip]++
		conn.Close()
	}
	if seen["127.0.0.2"] != 2 || seen["127.0.0.3"] != 2 {
		t.Fatalf("source addresses used: %v", seen)
	}
}

func TestAppendFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 65535, 65536, 70000} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i)
		}
		b := appendFrame(nil, 0x1, p, 0xA1B2C3D4)
		if b[0] != 0x81 || b[1]&0x80 == 0 {
			t.Fatalf("%d: header % x", n, b[:2])
		}
		hdr := 2 + 4
		switch {
		case n >= 65536:
			hdr += 8
		case n >= 126:
			hdr += 2
		}
		if len(b) != hdr+n {
			t.Fatalf("%d: frame length %d", n, len(b))
		}
		mask := b[hdr-4 : hdr]
		for i := range n {
			if b[hdr+i]^mask[i%4] != p[i] {
				t.Fatalf("%d: byte %d not masked correctly", n, i)
			}
		}
	}
}

func TestSendParamsAreValid(t *testing.T) {
	taskID, convID := protocol.TaskID(uuid.NewString()), protocol.ConversationID(uuid.NewString())
	raw := sendParams(taskID, convID)
	if err := protocoltest.ValidateReference("#/$defs/MessagesSendParams", raw); err != nil {
		t.Fatalf("%s fails its schema: %v", raw, err)
	}
	p, err := protocol.DecodeMessagesSendParams(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.TaskID != taskID || p.ConversationID != convID || len(p.Parts) != 1 || p.Parts[0] != (protocol.TextPart{Text: sendText}) {
		t.Fatalf("decoded %+v", p)
	}
}

func TestSendResultIDAgreesWithDecode(t *testing.T) {
	id := uuid.Must(uuid.NewV7()).String()
	res := protocol.MessagesSendResult{Message: protocol.Message{
		ID: protocol.MessageID(id), ConversationID: protocol.ConversationID(uuid.NewString()),
		SenderID: protocol.AgentID(uuid.NewString()), Seq: "3",
		Parts:     protocol.MessageParts{protocol.TextPart{Text: `"message":{"id":"00000000-0000-0000-0000-000000000000"}`}},
		CreatedAt: "2026-11-23T10:00:00.000Z",
	}}.AppendJSON(nil)
	full, err := protocol.Decode[protocol.MessagesSendResult](res)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := messageID(res)
	if !ok || k.String() != string(full.Message.ID) || k.String() != id {
		t.Fatalf("byte search found %s (%v), decode found %s", k, ok, full.Message.ID)
	}
}

func TestReleaseLineMax(t *testing.T) {
	for in, want := range map[string]protocol.ProtocolVersionString{"2026.525.0": "2026.525.999999", "2027.101.12": "2027.101.999999"} {
		if got := releaseLineMax(in); got != want {
			t.Errorf("releaseLineMax(%q) = %q, want %q", in, got, want)
		}
	}
}
