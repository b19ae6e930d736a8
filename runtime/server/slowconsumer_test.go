package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// stallingPeer authenticates, then stops reading its socket entirely (its read loop blocks),
// like a consumer that cannot keep up.
type stallingPeer struct {
	ws     *transport.Conn
	stall  atomic.Bool
	unstop chan struct{}
	closed chan transport.CloseInfo
	hello  chan []byte
}

func (e *env) dialStalling(a agent) *stallingPeer {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, err := transport.Dial(ctx, e.ws, transport.Config{})
	if err != nil {
		e.t.Fatal(err)
	}
	s := &stallingPeer{ws: ws, unstop: make(chan struct{}), closed: make(chan transport.CloseInfo, 1), hello: make(chan []byte, 1)}
	go func() {
		s.closed <- ws.Serve(context.Background(), func(b []byte) {
			if s.stall.Load() {
				<-s.unstop // never reads again until the test ends
				return
			}
			select {
			case s.hello <- b:
			default:
			}
		})
	}()
	e.t.Cleanup(func() { close(s.unstop); _ = ws.Close(transport.CloseNormal, "") })
	frame, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "c1", "method": "network/connect",
		"params": map[string]any{"agentKey": a.Key, "minProtocol": "0", "maxProtocol": "9999"}})
	if err := ws.Send(frame); err != nil {
		e.t.Fatal(err)
	}
	select {
	case b := <-s.hello:
		if !strings.Contains(string(b), `"result"`) {
			e.t.Fatalf("connect: %s", b)
		}
	case <-time.After(5 * time.Second):
		e.t.Fatal("no connect answer")
	}
	s.stall.Store(true)
	return s
}

// TestSlowConsumerIsolation: a recipient that never reads is disconnected once its bounded
// write queue fills; the other recipient keeps receiving every message promptly and the
// sender is never blocked.
func TestSlowConsumerIsolation(t *testing.T) {
	logs := &warnings{}
	e := newEnv(t, func(c *server.Config) {
		c.Logger = slog.New(logs)
		c.WriteQueueLen = 8
		c.Limits.MessagesPerMinute = 1_000_000
		c.Limits.RequestsPerMinute = 1_000_000
	})
	sender, fast, slow := e.register("sender"), e.register("fast"), e.register("slow")
	e.dialStalling(slow)
	ps, pf := e.connectAs(sender), e.connectAs(fast)
	var req protocol.TaskRequestResult
	ps.mustCall("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{fast.ID, slow.ID},
		"initialConversation": map[string]any{"name": "firehose"}}, &req)

	const n = 150
	text := strings.Repeat("x", 30000) // large frames fill the stalled socket's buffers quickly
	for i := 0; i < n; i++ {
		ps.mustCall("messages/send", map[string]any{"taskId": req.Task.ID, "conversationId": req.Conversation.ID,
			"parts": []map[string]any{{"type": "text", "text": text}}}, nil)
	}
	// A hang guard, not a speed assertion: if the stalled socket blocked fan-out, the fast
	// reader would never get every message.
	deadline := time.Now().Add(60 * time.Second)
	for len(pf.notesOf("messages/received")) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the fast reader got %d of %d messages", len(pf.notesOf("messages/received")), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The stalled client cannot see its own close (it does not read); the server's side does:
	// three sockets were open, the stalled one is dropped.
	for {
		if _, body := get(t, e.http.URL+"/health"); strings.Contains(body, `"connections":2`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never disconnected the stalled consumer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, body := get(t, e.http.URL+"/metrics"); !strings.Contains(body, "moltzap_fanout_dropped_total") || strings.Contains(body, "moltzap_fanout_dropped_total 0\n") {
		t.Fatal("no fan-out drop was counted for the stalled consumer")
	}
	// The operator sees it: one warning naming the agent.
	if got := logs.agentsWarned("slow consumer closed: write queue full"); len(got) != 1 || got[0] != slow.ID {
		t.Fatalf("slow-consumer warnings for agents %v, want exactly [%s]", got, slow.ID)
	}
}

// warnings is a slog.Handler keeping the agent of every warning, by message.
type warnings struct {
	mu     sync.Mutex
	agents map[string][]string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }

func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	agent := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "agent" {
			agent = a.Value.String()
		}
		return true
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.agents == nil {
		w.agents = map[string][]string{}
	}
	w.agents[r.Message] = append(w.agents[r.Message], agent)
	return nil
}

func (w *warnings) agentsWarned(msg string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.agents[msg]...)
}
