package observatory

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// conversationServer registers conversation:<conversationId>, whose join
// handler sends a snapshot naming the parameter, and an echo event.
func conversationServer(opts Options) *Server {
	obs := New(opts)
	obs.Register(MustChannel("conversation:<conversationId>").
		OnJoin(func(_ context.Context, c *ChannelContext) error {
			return c.Send("conversation:snapshot", map[string]string{"conversationId": c.Params["conversationId"]})
		}).
		On("echo", func(_ context.Context, c *ChannelContext, payload json.RawMessage) error {
			return c.Send("echoed", payload)
		}).
		On("shout", func(_ context.Context, c *ChannelContext, payload json.RawMessage) error {
			_, err := c.Broadcast("shouted", payload)
			return err
		}))
	return obs
}

func TestSubscribeEchoesIDThenSnapshotToThatSocketOnly(t *testing.T) {
	obs := conversationServer(Options{})
	url := startServer(t, obs)
	a, b := dial(t, url), dial(t, url)

	b.subscribe(t, "conversation:c1", "b1")
	b.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)

	a.subscribe(t, "conversation:c1", "a1")
	a.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)
	b.sync(t) // b got no second snapshot

	if n := obs.SubscriberCount("conversation:c1"); n != 2 {
		t.Fatalf("SubscriberCount = %d, want 2", n)
	}
}

func TestSubscribeWithoutStringIDAnswersEmptyObject(t *testing.T) {
	obs := conversationServer(Options{})
	c := dial(t, startServer(t, obs))
	for _, payload := range []string{`{}`, `null`, `7`, `{"id":5}`, `{"id":null}`, `"x"`, `{"other":"y"}`} {
		c.send(t, `["conversation:c2","subscribe",`+payload+`]`)
		c.expect(t, "conversation:c2", "subscribed", `{}`)
		c.expect(t, "conversation:c2", "conversation:snapshot", `{"conversationId":"c2"}`)
	}
	if n := obs.SubscriberCount("conversation:c2"); n != 1 {
		t.Fatalf("SubscriberCount = %d, want 1 (subscriptions are a set)", n)
	}
}

func TestUnsubscribe(t *testing.T) {
	obs := conversationServer(Options{})
	c := dial(t, startServer(t, obs))
	c.subscribe(t, "conversation:c1", "s")
	c.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)

	c.send(t, `["conversation:c1","unsubscribe",{"whatever":1}]`)
	c.expect(t, "conversation:c1", "unsubscribed", `{}`)
	if n := obs.SubscriberCount("conversation:c1"); n != 0 {
		t.Fatalf("SubscriberCount = %d, want 0", n)
	}
	if n, err := obs.Broadcast("conversation:c1", "message:received", 1); n != 0 || err != nil {
		t.Fatalf("Broadcast = %d, %v; want 0, nil", n, err)
	}
	// Absent subscriptions and unknown topics are no error.
	c.send(t, `["conversation:c1","unsubscribe",null]`)
	c.expect(t, "conversation:c1", "unsubscribed", `{}`)
	c.send(t, `["nowhere","unsubscribe",null]`)
	c.expect(t, "nowhere", "unsubscribed", `{}`)
}

func TestFirstMatchingChannelWinsWithParams(t *testing.T) {
	obs := New(Options{})
	join := func(name string) JoinHandler {
		return func(_ context.Context, c *ChannelContext) error {
			return c.Send("joined", map[string]any{"channel": name, "params": c.Params})
		}
	}
	obs.Register(MustChannel("task:<taskId>:conv:<conversationId>").OnJoin(join("pair"))).
		Register(MustChannel("task:<taskId>").OnJoin(join("param"))).
		Register(MustChannel("task:fixed").OnJoin(join("literal"))).
		Register(MustChannel("network").OnJoin(join("network")))
	c := dial(t, startServer(t, obs))

	for _, tc := range []struct{ topic, want string }{
		{"task:t1", `{"channel":"param","params":{"taskId":"t1"}}`},
		{"task:fixed", `{"channel":"param","params":{"taskId":"fixed"}}`},
		{"task:t1:conv:c9", `{"channel":"pair","params":{"conversationId":"c9","taskId":"t1"}}`},
		{"network", `{"channel":"network","params":{}}`},
	} {
		c.subscribe(t, tc.topic, "x")
		c.expect(t, tc.topic, "joined", tc.want)
	}
	for _, topic := range []string{"task:", "task", "task:a:b", "networks", "other:network"} {
		c.send(t, `["`+topic+`","subscribe",{"id":"x"}]`)
		c.expect(t, topic, "error", `{"code":"INTERNAL_ERROR","message":"No channel matches topic: `+topic+`"}`)
	}
	if n := obs.SubscriberCount("task:"); n != 0 {
		t.Fatalf("unmatched subscribe was recorded: SubscriberCount = %d", n)
	}
}

// countingPayload counts its encodings.
type countingPayload struct{ n *atomic.Int32 }

func (p countingPayload) MarshalJSON() ([]byte, error) {
	p.n.Add(1)
	return []byte(`{"seq":1}`), nil
}

func TestBroadcastToExactTopicEncodedOnce(t *testing.T) {
	obs := conversationServer(Options{})
	url := startServer(t, obs)
	subs := []*client{dial(t, url), dial(t, url), dial(t, url)}
	for _, c := range subs {
		c.subscribe(t, "conversation:c1", "s")
		c.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)
	}
	other := dial(t, url)
	other.subscribe(t, "conversation:c10", "s")
	other.expect(t, "conversation:c10", "conversation:snapshot", `{"conversationId":"c10"}`)
	idle := dial(t, url)

	var encodings atomic.Int32
	n, err := obs.Broadcast("conversation:c1", "message:received", countingPayload{&encodings})
	if n != 3 || err != nil {
		t.Fatalf("Broadcast = %d, %v; want 3, nil", n, err)
	}
	if got := encodings.Load(); got != 1 {
		t.Fatalf("payload encoded %d times, want 1", got)
	}
	for _, c := range subs {
		c.expect(t, "conversation:c1", "message:received", `{"seq":1}`)
	}
	other.sync(t)
	idle.sync(t)

	// No subscriber: nothing is encoded.
	if n, err := obs.Broadcast("conversation:none", "x", countingPayload{&encodings}); n != 0 || err != nil || encodings.Load() != 1 {
		t.Fatalf("Broadcast without subscribers = %d, %v, encodings %d", n, err, encodings.Load())
	}
	// An unencodable payload is an error.
	if _, err := obs.Broadcast("conversation:c1", "x", func() {}); err == nil {
		t.Fatal("Broadcast of a func: no error")
	}
}

func TestChannelEventsAndContextBroadcast(t *testing.T) {
	obs := conversationServer(Options{})
	url := startServer(t, obs)
	a, b := dial(t, url), dial(t, url)
	b.subscribe(t, "conversation:c1", "s")
	b.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)

	// Routed events need no subscription; Send answers this socket only.
	a.send(t, `["conversation:c1","echo",{"text":"hi"}]`)
	a.expect(t, "conversation:c1", "echoed", `{"text":"hi"}`)
	b.sync(t)

	a.send(t, `["conversation:c1","shout",[1,2]]`)
	b.expect(t, "conversation:c1", "shouted", `[1,2]`)
	a.sync(t) // a is not subscribed

	// Unhandled events are only logged; unmatched topics are errors.
	a.send(t, `["conversation:c1","unknown",{}]`)
	a.sync(t)
	a.send(t, `["nowhere","echo",{}]`)
	a.expect(t, "nowhere", "error", `{"code":"INTERNAL_ERROR","message":"No channel matches topic: nowhere"}`)
}

func TestInvalidPayload(t *testing.T) {
	obs := conversationServer(Options{})
	c := dial(t, startServer(t, obs))
	const invalidJSON = `{"code":"INVALID_PAYLOAD","message":"Invalid JSON"}`
	const notTuple = `{"code":"INVALID_PAYLOAD","message":"Message must be [topic, event, payload]"}`
	for _, tc := range []struct{ msg, want string }{
		{`not json`, invalidJSON},
		{`["a","b",`, invalidJSON},
		{``, invalidJSON},
		{`{"topic":"a"}`, notTuple},
		{`"a"`, notTuple},
		{`null`, notTuple},
		{`[]`, notTuple},
		{`["a","b"]`, notTuple},
		{`["a","b",1,2]`, notTuple},
		{`[1,"subscribe",{}]`, notTuple},
		{`["a",null,{}]`, notTuple},
		{`[null,"subscribe",{}]`, notTuple},
		{`["a",["b"],{}]`, notTuple},
	} {
		c.send(t, tc.msg)
		c.expect(t, "error", "error", tc.want)
	}
	// The connection is still usable, and null is a valid payload.
	c.send(t, ` ["conversation:c3", "echo", null] `)
	c.expect(t, "conversation:c3", "echoed", `null`)
}

func TestConnectionCap(t *testing.T) {
	if New(Options{}).opts.MaxConnections != DefaultMaxConnections || DefaultMaxConnections != 100 {
		t.Fatal("default cap is not 100")
	}
	obs := conversationServer(Options{MaxConnections: 2})
	url := startServer(t, obs)
	a, b := dial(t, url), dial(t, url)
	a.sync(t)
	b.sync(t)

	over := dial(t, url)
	info := over.closed(t)
	if info.Code != transport.ClosePolicyViolation || info.Reason != "Server at maximum capacity" {
		t.Fatalf("over the cap: closed %v, want 1008 %q", info, "Server at maximum capacity")
	}
	if n := obs.ConnectionCount(); n != 2 {
		t.Fatalf("ConnectionCount = %d, want 2", n)
	}
	a.sync(t) // the admitted ones are unaffected

	// A freed slot admits a new connection.
	if err := b.conn.Close(transport.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ConnectionCount 1", func() bool { return obs.ConnectionCount() == 1 })
	c := dial(t, url)
	c.sync(t)
}

func TestShutdownClosesEverySocket(t *testing.T) {
	obs := conversationServer(Options{})
	blocked := make(chan struct{})
	obs.Register(MustChannel("slow").OnJoin(func(ctx context.Context, _ *ChannelContext) error {
		close(blocked)
		<-ctx.Done() // released by Shutdown
		return ctx.Err()
	}))
	hs := httptest.NewServer(obs)
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	clients := []*client{dial(t, url), dial(t, url), dial(t, url)}
	clients[0].subscribe(t, "conversation:c1", "s")
	clients[0].expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)
	clients[1].subscribe(t, "slow", "s")
	<-blocked
	clients[2].sync(t)
	if n := obs.ConnectionCount(); n != 3 {
		t.Fatalf("ConnectionCount = %d, want 3", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := obs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, c := range clients {
		info := c.closed(t)
		if info.Code != transport.CloseNormal || info.Reason != "Server shutting down" {
			t.Fatalf("client %d closed %v, want 1000 %q", i, info, "Server shutting down")
		}
	}
	if n, s := obs.ConnectionCount(), obs.SubscriberCount("conversation:c1"); n != 0 || s != 0 {
		t.Fatalf("after Shutdown: ConnectionCount %d, SubscriberCount %d", n, s)
	}

	// Later connections are closed the same way; Shutdown may be repeated.
	late := dial(t, url)
	if info := late.closed(t); info.Code != transport.CloseNormal || info.Reason != "Server shutting down" {
		t.Fatalf("late connection closed %v", info)
	}
	if err := obs.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestShutdownHonoursContext(t *testing.T) {
	obs := New(Options{})
	release := make(chan struct{})
	entered := make(chan struct{})
	// A handler ignoring its context keeps its connection open.
	obs.Register(MustChannel("stuck").OnJoin(func(context.Context, *ChannelContext) error {
		close(entered)
		<-release
		return nil
	}))
	url := startServer(t, obs)
	c := dial(t, url)
	c.subscribe(t, "stuck", "s")
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := obs.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	close(release)
	if info := c.closed(t); info.Code != transport.CloseNormal {
		t.Fatalf("closed %v, want 1000", info)
	}
}

func TestCountsFollowDisconnects(t *testing.T) {
	obs := conversationServer(Options{})
	url := startServer(t, obs)
	a, b := dial(t, url), dial(t, url)
	for _, c := range []*client{a, b} {
		c.subscribe(t, "conversation:c1", "s")
		c.expect(t, "conversation:c1", "conversation:snapshot", `{"conversationId":"c1"}`)
	}
	a.subscribe(t, "conversation:c2", "s")
	a.expect(t, "conversation:c2", "conversation:snapshot", `{"conversationId":"c2"}`)
	if obs.ConnectionCount() != 2 || obs.SubscriberCount("conversation:c1") != 2 || obs.SubscriberCount("conversation:c2") != 1 {
		t.Fatalf("counts %d %d %d", obs.ConnectionCount(), obs.SubscriberCount("conversation:c1"), obs.SubscriberCount("conversation:c2"))
	}
	if err := a.conn.Close(transport.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a dropped", func() bool {
		return obs.ConnectionCount() == 1 && obs.SubscriberCount("conversation:c1") == 1 && obs.SubscriberCount("conversation:c2") == 0
	})
	if n, _ := obs.Broadcast("conversation:c1", "e", 1); n != 1 {
		t.Fatalf("Broadcast reached %d, want 1", n)
	}
	b.expect(t, "conversation:c1", "e", "1")
}

func TestHandlerPanicIsContained(t *testing.T) {
	obs := New(Options{})
	obs.Register(MustChannel("boom").On("go", func(context.Context, *ChannelContext, json.RawMessage) error {
		panic("boom")
	}))
	c := dial(t, startServer(t, obs))
	c.send(t, `["boom","go",{}]`)
	c.sync(t)
}

func TestBadUpgradeIs400(t *testing.T) {
	hs := httptest.NewServer(New(Options{}))
	defer hs.Close()
	resp, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
}

func TestWatchedFollowsSubscriptions(t *testing.T) {
	obs := conversationServer(Options{})
	url := startServer(t, obs)
	if obs.Watched() {
		t.Fatal("Watched with no connection")
	}
	a, b := dial(t, url), dial(t, url)
	a.subscribe(t, "conversation:w", "1")
	a.expect(t, "conversation:w", "conversation:snapshot", `{"conversationId":"w"}`)
	a.subscribe(t, "conversation:w", "again") // a second subscribe to the same topic counts once
	a.expect(t, "conversation:w", "conversation:snapshot", `{"conversationId":"w"}`)
	b.subscribe(t, "conversation:v", "2")
	b.expect(t, "conversation:v", "conversation:snapshot", `{"conversationId":"v"}`)
	if !obs.Watched() {
		t.Fatal("not Watched with two subscriptions")
	}
	a.send(t, `["conversation:w","unsubscribe",{}]`)
	a.expect(t, "conversation:w", "unsubscribed", "{}")
	if !obs.Watched() {
		t.Fatal("not Watched while b is still subscribed")
	}
	_ = b.conn.Close(transport.CloseNormal, "")
	b.closed(t)
	waitFor(t, "no subscription left", func() bool { return !obs.Watched() })
}

func TestCapClosesTheSocketsAcceptedLast(t *testing.T) {
	obs := conversationServer(Options{MaxConnections: 3})
	hs := httptest.NewUnstartedServer(obs)
	hs.Config.ConnContext = obs.ConnContext
	hs.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = obs.Shutdown(ctx)
		hs.Close()
	})
	u, err := url.Parse("ws" + strings.TrimPrefix(hs.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	// Four TCP connections accepted in order, whose upgrades then finish in
	// the reverse order: the one accepted last is refused all the same.
	var conns [4]net.Conn
	for i := range conns {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
		waitFor(t, "accept", func() bool { return obs.accepted.Load() >= uint64(i+1) })
	}
	var readers [4]*bufio.Reader
	for i := 3; i >= 0; i-- {
		br, _, err := ws.Dialer{}.Upgrade(conns[i], u)
		if err != nil {
			t.Fatalf("upgrade %d: %v", i, err)
		}
		if br == nil {
			br = bufio.NewReader(conns[i])
		}
		readers[i] = br
		if i > 0 {
			waitFor(t, "admission", func() bool { return obs.ConnectionCount() == 4-i })
		}
	}
	_ = conns[3].SetReadDeadline(time.Now().Add(waitTimeout))
	op, payload, err := readSmallFrame(readers[3])
	if err != nil {
		t.Fatalf("read from the socket accepted last: %v", err)
	}
	code, reason := ws.ParseCloseFrameData(payload)
	if op != ws.OpClose || code != ws.StatusPolicyViolation || reason != ReasonAtCapacity {
		t.Fatalf("socket accepted last got %v %d %q, want close 1008 %q", op, code, reason, ReasonAtCapacity)
	}
	if n := obs.ConnectionCount(); n != 3 {
		t.Fatalf("ConnectionCount = %d, want 3", n)
	}
	for i := 0; i < 3; i++ {
		_ = conns[i].SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := readSmallFrame(readers[i]); err == nil {
			t.Fatalf("socket %d accepted within the cap received a frame", i)
		}
	}
}

// readSmallFrame reads one unmasked server frame of at most 1 KiB.
func readSmallFrame(r io.Reader) (ws.OpCode, []byte, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return 0, nil, err
	}
	if h.Length > 1024 {
		return 0, nil, fmt.Errorf("frame of %d bytes", h.Length)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return h.OpCode, p, nil
}
