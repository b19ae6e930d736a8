package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// benchReceivedPrefix starts every messages/received frame.
var benchReceivedPrefix = []byte(`{"jsonrpc":"2.0","method":"messages/received"`)

// benchResponsePrefix starts every response frame.
var benchResponsePrefix = []byte(`{"jsonrpc":"2.0","id":`)

// benchWorld is an in-process server on 127.0.0.1 over a fresh SQLite store, with the
// per-agent limits raised so that benchmarks are never rate limited.
type benchWorld struct {
	b     *testing.B
	base  string
	ws    string
	owner string // every agent is claimed by this user
	names atomic.Int64
}

func newBenchWorld(b *testing.B, mod ...func(*server.Config)) *benchWorld {
	b.Helper()
	st, err := sqlite.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	cfg := server.Config{Limits: server.Limits{
		MessagesPerMinute: 10_000_000, RequestsPerMinute: 10_000_000, MaxGroupParticipants: 4096,
	}}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := server.New(cfg, st)
	if err != nil {
		b.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
		_ = st.Close()
	})
	return &benchWorld{b: b, base: hs.URL, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", owner: uuid.NewString()}
}

// benchPost posts a JSON body and decodes the answer.
func (w *benchWorld) benchPost(path string, body, out any) error {
	raw, _ := json.Marshal(body)
	resp, err := http.Post(w.base+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d", path, resp.StatusCode)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// benchAgent registers and claims an agent and returns its API key.
func (w *benchWorld) benchAgent() (string, error) {
	name := fmt.Sprintf("bench-%d", w.names.Add(1))
	var reg struct{ APIKey, ClaimToken string }
	if err := w.benchPost("/api/v1/auth/register", map[string]string{"name": name}, &reg); err != nil {
		return "", err
	}
	return reg.APIKey, w.benchPost("/api/v1/auth/claim", map[string]string{"claimToken": reg.ClaimToken, "ownerUserId": w.owner}, nil)
}

// benchCaller is an authenticated agent connection with an rpc.Peer: the sender side.
type benchCaller struct {
	ws      *transport.Conn
	peer    *rpc.Peer
	agentID string
}

// benchCall connects a new agent with a request-capable client.
func (w *benchWorld) benchCaller() *benchCaller {
	w.b.Helper()
	key, err := w.benchAgent()
	if err != nil {
		w.b.Fatal(err)
	}
	ws, err := transport.Dial(context.Background(), w.ws, transport.Config{})
	if err != nil {
		w.b.Fatal(err)
	}
	c := &benchCaller{ws: ws, peer: rpc.NewPeer(ws, nil, rpc.Options{})}
	go func() {
		ws.Serve(context.Background(), func(m []byte) { c.peer.HandleFrame(context.Background(), m) })
		c.peer.Close(nil)
	}()
	w.b.Cleanup(func() { _ = ws.Close(transport.CloseNormal, "") })
	var hello struct{ AgentID string }
	c.call("network/connect", map[string]string{"agentKey": key, "minProtocol": "0", "maxProtocol": "9999.9999.9999"}, &hello)
	c.agentID = hello.AgentID
	return c
}

func (c *benchCaller) call(method string, params, out any) {
	raw, _ := json.Marshal(params)
	res, err := c.peer.Call(context.Background(), method, raw)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", method, err))
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			panic(err)
		}
	}
}

// benchCounter counts messages/received frames over many recipient connections and
// signals when the count reaches a target.
type benchCounter struct {
	got    atomic.Int64
	target atomic.Int64
	hit    chan struct{}
}

func newBenchCounter() *benchCounter { return &benchCounter{hit: make(chan struct{}, 1)} }

func (k *benchCounter) add() {
	if n := k.got.Add(1); n == k.target.Load() {
		k.hit <- struct{}{}
	}
}

// benchRecipients connects n agents as raw transport clients that authenticate and then
// only count messages/received frames; it returns their agent ids.
func (w *benchWorld) benchRecipients(n int, k *benchCounter) []string {
	w.b.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := atomic.Int64{}
	for range min(n, 32) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				id, err := w.benchRecipient(k)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				ids[i] = id
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		w.b.Fatal(firstErr)
	}
	return ids
}

func (w *benchWorld) benchRecipient(k *benchCounter) (string, error) {
	key, err := w.benchAgent()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := transport.Dial(ctx, w.ws, transport.Config{})
	if err != nil {
		return "", err
	}
	w.b.Cleanup(func() { _ = ws.Close(transport.CloseNormal, "") })
	hello := make(chan []byte, 1)
	go ws.Serve(context.Background(), func(m []byte) {
		switch {
		case bytes.HasPrefix(m, benchReceivedPrefix):
			k.add()
		case bytes.HasPrefix(m, benchResponsePrefix):
			select {
			case hello <- m:
			default:
			}
		}
	})
	params, _ := json.Marshal(map[string]string{"agentKey": key, "minProtocol": "0", "maxProtocol": "9999.9999.9999"})
	if err := ws.Send(wire.EncodeRequest("c-1", "network/connect", params)); err != nil {
		return "", err
	}
	select {
	case m := <-hello:
		var res struct {
			Result struct{ AgentID string }
		}
		if err := json.Unmarshal(m, &res); err != nil || res.Result.AgentID == "" {
			return "", fmt.Errorf("network/connect answered %s", m)
		}
		return res.Result.AgentID, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// benchConversation has c request a default-app task with members invited and an
// initial conversation of all of them, and returns the encoded messages/send params.
func (c *benchCaller) benchConversation(members []string) json.RawMessage {
	var res struct {
		Task         struct{ ID string }
		Conversation struct{ ID string }
	}
	c.call("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": members,
		"initialConversation": map[string]any{"participants": members}}, &res)
	params, _ := json.Marshal(map[string]any{"taskId": res.Task.ID, "conversationId": res.Conversation.ID,
		"parts": []map[string]string{{"type": "text", "text": "benchmark message of a realistic size: the quick brown fox jumps over the lazy dog."}}})
	return params
}

// BenchmarkRoundTrip measures one request over a real socket to an in-process server,
// one client, sequential: network/ping (dispatch floor) and messages/send in a two-member
// conversation (store insert, verdict, fan-out to the connected peer, response).
func BenchmarkRoundTrip(b *testing.B) {
	w := newBenchWorld(b)
	c := w.benchCaller()
	b.Run("ping", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.peer.Call(ctx, "network/ping", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("messages_send", func(b *testing.B) {
		k := newBenchCounter()
		params := c.benchConversation(w.benchRecipients(1, k))
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.peer.Call(ctx, "messages/send", params); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFanout measures one messages/send to a conversation of 1, 50 and 1000 recipient
// connections, from just before the send until every recipient got messages/received.
// Recipients are raw transport clients that only count frames.
func BenchmarkFanout(b *testing.B) {
	w := newBenchWorld(b)
	for _, n := range []int{1, 50, 1000} {
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			c := w.benchCaller()
			k := newBenchCounter()
			params := c.benchConversation(w.benchRecipients(n, k))
			ctx := context.Background()
			b.ReportAllocs()
			sent := int64(0)
			for b.Loop() {
				sent++
				k.target.Store(sent * int64(n))
				if _, err := c.peer.Call(ctx, "messages/send", params); err != nil {
					b.Fatal(err)
				}
				select {
				case <-k.hit:
				case <-time.After(10 * time.Second):
					b.Fatalf("only %d of %d deliveries after 10s", k.got.Load(), sent*int64(n))
				}
			}
			b.ReportMetric(float64(sent*int64(n))/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkFeed measures messages/send to one recipient with no feed configured, with an
// Observer nobody watches (the Observatory on, no observer connected: one atomic load per
// event) and with one that watches (events built and handed over), so that the cost of
// the feed on the send path is read off one run.
func BenchmarkFeed(b *testing.B) {
	for _, tc := range []struct {
		name string
		feed func() server.Config
	}{
		{"none", func() server.Config { return server.Config{} }},
		{"unwatched", func() server.Config { return server.Config{Feed: &feedRecorder{}} }},
		{"watched", func() server.Config {
			r := &feedRecorder{discard: true}
			r.watching.Store(true)
			return server.Config{Feed: r}
		}},
	} {
		b.Run("feed="+tc.name, func(b *testing.B) {
			w := newBenchWorld(b, func(c *server.Config) { c.Feed = tc.feed().Feed })
			c := w.benchCaller()
			k := newBenchCounter()
			params := c.benchConversation(w.benchRecipients(1, k))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.peer.Call(ctx, "messages/send", params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSendGates measures messages/send to one recipient with the facts it checks read
// from the store each time (SharedStore, as with several nodes on one database) and cached
// (one node, the default), in the same run.
func BenchmarkSendGates(b *testing.B) {
	for _, shared := range []bool{true, false} {
		name := "cached"
		if shared {
			name = "store"
		}
		b.Run("gates="+name, func(b *testing.B) {
			w := newBenchWorld(b, func(c *server.Config) { c.SharedStore = shared })
			c := w.benchCaller()
			k := newBenchCounter()
			params := c.benchConversation(w.benchRecipients(1, k))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.peer.Call(ctx, "messages/send", params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
