package reliability_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// TestSlowConsumerNeverReads: a recipient authenticates over a raw WebSocket and then
// never reads again, while a sender pushes slowMessages x 32,000-character messages
// (about 96 MB of fan-out, far more than the socket buffers hold) to it and to a fast
// recipient. The server closes the slow socket with 1008 and the slow-consumer reason
// (from its debug log), the server's connection count drops to 2, the fast recipient
// gets every message once and in seq order, no send fails, and the server's peak RSS
// (VmHWM of /proc/<pid>/status) stays under rssLimit, less than the data the slow
// queue would hold if it were unbounded.
func TestSlowConsumerNeverReads(t *testing.T) {
	const (
		slowMessages = 3000
		textLen      = 32000
		rssLimitKB   = 64 << 10 // 64 MiB
	)
	srv := startServer(t, freeAddr(t), t.TempDir(), "--write-queue", "16", "--log-level", "debug")
	ag := registerAgents(t, srv.url(), "slowc", 3)
	sender, fast, slow := ag[0], ag[1], ag[2]

	// The slow consumer: network/connect, then its read loop blocks for good.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	ws, err := transport.Dial(ctx, "ws://"+srv.addr+"/ws", transport.Config{})
	cancel()
	if err != nil {
		t.Fatalf("dial slow: %v", err)
	}
	hello := make(chan []byte, 1)
	unstop := make(chan struct{})
	slowClosed := make(chan transport.CloseInfo, 1)
	go func() {
		first := true
		slowClosed <- ws.Serve(context.Background(), func(b []byte) {
			if first {
				first = false
				hello <- b
				return
			}
			<-unstop // never reads again
		})
	}()
	t.Cleanup(func() { close(unstop); _ = ws.Close(transport.CloseNormal, "") })
	frame, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "c1", "method": "network/connect",
		"params": map[string]any{"agentKey": slow.Key, "minProtocol": protocol.ProtocolVersion, "maxProtocol": "9999.1231.999999"}})
	if err := ws.Send(frame); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-hello:
		if !strings.Contains(string(b), `"result"`) {
			t.Fatalf("slow consumer connect: %s", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow consumer: no network/connect answer")
	}

	cs := dialAgent(t, srv.url(), sender, true, nil)
	cf := dialAgent(t, srv.url(), fast, true, nil)
	var mu sync.Mutex
	var got []protocol.Message
	client.On(cf, func(n protocol.MessagesReceivedNotification) {
		mu.Lock()
		got = append(got, n.Message)
		mu.Unlock()
	})
	g := newGroup(t, cs, "firehose", []agent{fast, slow})
	if n := srv.connections(); n != 3 {
		t.Fatalf("server counts %d connections, want 3", n)
	}
	baseKB := srv.procStatusKB("VmRSS")

	body := strings.Repeat("x", textLen)
	sent := make([]protocol.Message, 0, slowMessages)
	for i := 0; i < slowMessages; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := cs.MessagesSend(ctx, protocol.MessagesSendParams{TaskID: g.Task, ConversationID: g.Conv,
			Parts: text(fmt.Sprintf("%06d-%s", i, body))})
		cancel()
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		sent = append(sent, res.Message)
	}

	if !waitFor(60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= slowMessages }) {
		mu.Lock()
		t.Fatalf("the fast recipient got %d of %d messages", len(got), slowMessages)
	}
	mu.Lock()
	if len(got) != slowMessages {
		t.Errorf("the fast recipient got %d messages, want %d", len(got), slowMessages)
	}
	for i := range min(len(got), len(sent)) {
		if got[i].ID != sent[i].ID || got[i].Seq != sent[i].Seq {
			t.Fatalf("fast recipient message %d: %s seq %s, want %s seq %s", i, got[i].ID, got[i].Seq, sent[i].ID, sent[i].Seq)
		}
	}
	mu.Unlock()

	if !waitFor(30*time.Second, func() bool { return srv.connections() == 2 }) {
		t.Fatalf("the server never disconnected the slow consumer (%d connections)", srv.connections())
	}
	var closeLine string
	if !waitFor(10*time.Second, func() bool { closeLine = slowCloseLog(srv.out.String(), slow.ID); return closeLine != "" }) {
		t.Fatalf("no \"connection closed\" log line for the slow consumer:\n%s", tail(srv.out.String(), 3000))
	}
	if !strings.Contains(closeLine, "1008") || !strings.Contains(closeLine, "slow consumer") {
		t.Fatalf("slow consumer closed without code 1008 and a slow-consumer reason: %s", closeLine)
	}
	peakKB, nowKB := srv.procStatusKB("VmHWM"), srv.procStatusKB("VmRSS")
	t.Logf("slow consumer close: %s", closeLine)
	t.Logf("server RSS: %d KiB before the load, %d KiB now, peak %d KiB (limit %d KiB); %d MB fanned out",
		baseKB, nowKB, peakKB, rssLimitKB, slowMessages*textLen/1_000_000)
	if peakKB > rssLimitKB {
		t.Fatalf("server peak RSS %d KiB exceeds %d KiB", peakKB, rssLimitKB)
	}
	select {
	case info := <-slowClosed:
		t.Logf("the slow consumer's socket ended: %s", info)
	default: // it does not read, so it may not have noticed yet
	}
}

// slowCloseLog returns the server's JSON "connection closed" log line for agentID.
func slowCloseLog(logs, agentID string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		if rec["msg"] == "connection closed" && rec["agent"] == agentID {
			if s, ok := rec["close"].(string); ok {
				return s
			}
			return sc.Text()
		}
	}
	return ""
}
