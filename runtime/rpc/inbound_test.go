package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

func TestServerBadInputReplies(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string // frames sent in reply
	}{
		{"invalid json", `{"jsonrpc":"2.0",`,
			[]string{`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Invalid JSON"}}`}},
		{"batch", `[{"jsonrpc":"2.0","id":"a","method":"m"}]`,
			[]string{`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request frame"}}`}},
		{"wrong version keeps id", `{"jsonrpc":"1.0","id":"r-1","method":"m"}`,
			[]string{`{"jsonrpc":"2.0","id":"r-1","error":{"code":-32600,"message":"Invalid request frame"}}`}},
		{"numeric id", `{"jsonrpc":"2.0","id":1,"method":"m"}`,
			[]string{`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request frame"}}`}},
		{"both result and error", `{"jsonrpc":"2.0","id":"b","result":{},"error":{"code":1,"message":"x"}}`,
			[]string{`{"jsonrpc":"2.0","id":"b","error":{"code":-32600,"message":"Invalid request frame"}}`}},
		{"extra member", `{"jsonrpc":"2.0","id":"e","method":"m","x":1}`,
			[]string{`{"jsonrpc":"2.0","id":"e","error":{"code":-32600,"message":"Invalid request frame"}}`}},
		{"client notification", `{"jsonrpc":"2.0","method":"presence/changed","params":{}}`,
			[]string{`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request frame"}}`}},
		{"response null id ignored", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Invalid JSON"}}`, nil},
		{"response unknown id ignored", `{"jsonrpc":"2.0","id":"nobody","result":{}}`, nil},
		{"unknown method", `{"jsonrpc":"2.0","id":"u","method":"no/such"}`,
			[]string{`{"jsonrpc":"2.0","id":"u","error":{"code":-32601,"message":"Unknown method: no/such"}}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			var hook []int
			p := NewPeer(rec, nil, Options{Role: RoleServer, OnMalformed: func(n int) { hook = append(hook, n) }})
			p.HandleFrame(context.Background(), []byte(tc.in))
			waitFor(t, "handlers idle", func() bool { s := p.Stats(); return s.InboundRunning == 0 && s.InboundQueued == 0 })
			p.Close(nil)
			if err := p.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := rec.take()
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("sent %q\nwant %q", got, tc.want)
			}
			wantBad := 0
			if len(tc.want) > 0 && tc.name != "unknown method" {
				wantBad = 1
			}
			if int(p.MalformedCount()) != wantBad || len(hook) != wantBad {
				t.Errorf("malformed = %d, hook calls = %v, want %d", p.MalformedCount(), hook, wantBad)
			}
		})
	}
}

func TestServerRequestGetsAnswerWithItsID(t *testing.T) {
	rec := &recorder{}
	p := NewPeer(rec, echo(), Options{Role: RoleServer})
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","id":"c-9","method":"network/ping","params":{}}`))
	waitFor(t, "reply", func() bool { return p.Stats().ResponsesOut == 1 })
	got := rec.take()
	want := `{"jsonrpc":"2.0","id":"c-9","result":{"method":"network/ping","params":{}}}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("sent %q, want %q", got, want)
	}
	p.Close(nil)
}

func TestClientDropsBadInput(t *testing.T) {
	rec := &recorder{}
	logs := newCountHandler()
	var hookCalls atomic.Int64
	p := NewPeer(rec, nil, Options{Role: RoleClient, Logger: slog.New(logs), OnMalformed: func(int) { hookCalls.Add(1) }})
	defer p.Close(nil)
	bad := []string{
		`not json`, `[1]`, `{}`, `{"jsonrpc":"1.0","id":"x","method":"m"}`,
		`{"jsonrpc":"2.0","id":5,"result":{}}`, `{"jsonrpc":"2.0","id":"x","result":1,"error":{"code":1,"message":"m"}}`,
	}
	for i := 0; i < 100; i++ {
		p.HandleFrame(context.Background(), []byte(bad[i%len(bad)]))
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("client answered bad input: %q", got)
	}
	if p.MalformedCount() != 100 || p.Stats().Malformed != 100 || hookCalls.Load() != 100 {
		t.Errorf("malformed = %d, hook = %d", p.MalformedCount(), hookCalls.Load())
	}
	// Logged for the 1st, 50th and 100th.
	if n := logs.count(slog.LevelWarn); n != 3 {
		t.Errorf("warn logs = %d, want 3", n)
	}
}

func TestClientDeliversNotificationsAndCallbacks(t *testing.T) {
	rec := &recorder{}
	var notes []string
	h := HandlerFuncs{
		Notification: func(_ context.Context, m string, params json.RawMessage) {
			notes = append(notes, m+string(params))
		},
		Request: func(_ context.Context, m string, _ json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`{"allow":true}`), nil
		},
	}
	p := NewPeer(rec, h, Options{})
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","method":"a","params":{"n":1}}`))
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","method":"b"}`))
	if fmt.Sprint(notes) != `[a{"n":1} b]` { // synchronous: already delivered
		t.Errorf("notifications = %v", notes)
	}
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","id":"s-1","method":"dispatch/authorize","params":{}}`))
	waitFor(t, "callback answer", func() bool { return p.Stats().ResponsesOut == 1 })
	if got := rec.take(); len(got) != 1 || got[0] != `{"jsonrpc":"2.0","id":"s-1","result":{"allow":true}}` {
		t.Errorf("sent %q", got)
	}
	p.Close(nil)
}

func TestUnmatchedResponsesIgnored(t *testing.T) {
	rec := &recorder{}
	p := NewPeer(rec, nil, Options{IDPrefix: "c"})
	defer p.Close(nil)
	type out struct {
		res json.RawMessage
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := p.Call(context.Background(), "m", nil)
		done <- out{res, err}
	}()
	waitFor(t, "pending", func() bool { return p.Stats().Pending == 1 })
	ctx := context.Background()
	p.HandleFrame(ctx, []byte(`{"jsonrpc":"2.0","id":null,"result":{"wrong":1}}`))
	p.HandleFrame(ctx, []byte(`{"jsonrpc":"2.0","id":"c-999","result":{"wrong":2}}`))
	p.HandleFrame(ctx, []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request frame"}}`))
	select {
	case o := <-done:
		t.Fatalf("call completed by an unmatched response: %+v", o)
	case <-time.After(20 * time.Millisecond):
	}
	p.HandleFrame(ctx, []byte(`{"jsonrpc":"2.0","id":"c-1","result":{"right":true}}`))
	o := <-done
	if o.err != nil || string(o.res) != `{"right":true}` {
		t.Fatalf("call = %s, %v", o.res, o.err)
	}
	// A duplicate response for a completed call is unmatched too.
	p.HandleFrame(ctx, []byte(`{"jsonrpc":"2.0","id":"c-1","result":{"right":true}}`))
	if s := p.Stats(); s.Unmatched != 4 || s.ResponsesIn != 1 || s.Malformed != 0 {
		t.Errorf("stats = %+v", s)
	}
	if got := rec.take(); len(got) != 1 { // only the request itself
		t.Errorf("sent %q", got)
	}
}

func TestBoundedInboundConcurrency(t *testing.T) {
	const limit, total = 4, 24
	var running, maxRunning, finished atomic.Int64
	release := make(chan struct{})
	h := HandlerFuncs{Request: func(ctx context.Context, _ string, params json.RawMessage) (json.RawMessage, error) {
		n := running.Add(1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		running.Add(-1)
		finished.Add(1)
		return params, nil
	}}
	pr := newPair(t, Options{}, Options{MaxConcurrentInbound: limit}, nil, h)
	var wg sync.WaitGroup
	errc := make(chan error, total)
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf(`{"i":%d}`, i)
			res, err := pr.client.Call(context.Background(), "slow", json.RawMessage(want))
			if err != nil || string(res) != want {
				errc <- fmt.Errorf("call %d = %s, %v", i, res, err)
			}
		}()
	}
	waitFor(t, "all requests received", func() bool { return pr.server.Stats().RequestsIn == total })
	waitFor(t, "limit reached", func() bool { return running.Load() == limit })
	time.Sleep(20 * time.Millisecond) // give extra goroutines a chance to (wrongly) start
	s := pr.server.Stats()
	if running.Load() != limit || s.InboundRunning != limit || s.InboundQueued != total-limit {
		t.Fatalf("running = %d, stats = %+v; want %d running, %d queued", running.Load(), s, limit, total-limit)
	}
	close(release)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if maxRunning.Load() != limit || finished.Load() != total {
		t.Errorf("max running = %d, finished = %d", maxRunning.Load(), finished.Load())
	}
	waitFor(t, "workers exit", func() bool { return pr.server.Stats().InboundRunning == 0 })
}

func TestInboundRequestsStartInArrivalOrder(t *testing.T) {
	rec := &recorder{}
	var mu sync.Mutex
	var order []string
	gate := make(chan struct{})
	h := HandlerFuncs{Request: func(_ context.Context, m string, _ json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		order = append(order, m)
		mu.Unlock()
		<-gate
		return json.RawMessage(`{}`), nil
	}}
	p := NewPeer(rec, h, Options{Role: RoleServer, MaxConcurrentInbound: 1})
	const n = 30
	for i := 0; i < n; i++ {
		p.HandleFrame(context.Background(), []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":"r%d","method":"m%d"}`, i, i)))
	}
	close(gate)
	waitFor(t, "all answered", func() bool { return p.Stats().ResponsesOut == n })
	for i, m := range order {
		if m != fmt.Sprintf("m%d", i) {
			t.Fatalf("order = %v", order)
		}
	}
	p.Close(nil)
}

func TestQueueBackPressure(t *testing.T) {
	rec := &recorder{}
	gate := make(chan struct{})
	h := HandlerFuncs{Request: func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		<-gate
		return json.RawMessage(`{}`), nil
	}}
	p := NewPeer(rec, h, Options{Role: RoleServer, MaxConcurrentInbound: 1, MaxQueuedInbound: 2})
	frame := func(i int) []byte { return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":"r%d","method":"m"}`, i)) }
	// 1 running + 2 queued fit without blocking.
	for i := 0; i < 3; i++ {
		p.HandleFrame(context.Background(), frame(i))
	}
	waitFor(t, "one running", func() bool { return p.Stats().InboundQueued == 2 })
	blocked := make(chan struct{})
	go func() {
		p.HandleFrame(context.Background(), frame(3))
		close(blocked)
	}()
	select {
	case <-blocked:
		t.Fatal("HandleFrame did not block on a full queue")
	case <-time.After(20 * time.Millisecond):
	}
	// A context ending while blocked drops the frame.
	ctx, cancel := context.WithCancel(context.Background())
	dropped := make(chan struct{})
	go func() {
		p.HandleFrame(ctx, frame(4))
		close(dropped)
	}()
	cancel()
	<-dropped
	close(gate)
	<-blocked
	waitFor(t, "answers", func() bool { return p.Stats().ResponsesOut == 4 })
	p.Close(nil)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCloseCancelsHandlersAndWait(t *testing.T) {
	rec := &recorder{}
	started := make(chan struct{}, 8)
	var cancelled atomic.Int64
	h := HandlerFuncs{Request: func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		started <- struct{}{}
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // cleanup work Wait must wait for
		cancelled.Add(1)
		return nil, ctx.Err()
	}}
	p := NewPeer(rec, h, Options{Role: RoleServer, MaxConcurrentInbound: 2})
	for i := 0; i < 5; i++ {
		p.HandleFrame(context.Background(), []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":"r%d","method":"m"}`, i)))
	}
	<-started
	<-started
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait before Close = %v, want deadline exceeded", err)
	}
	p.Close(nil)
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Both running handlers saw cancellation; the 3 queued never ran; no
	// response is sent after Close.
	if cancelled.Load() != 2 {
		t.Errorf("cancelled handlers = %d, want 2", cancelled.Load())
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("sent after close: %q", got)
	}
	if s := p.Stats(); s.InboundQueued != 0 || s.InboundRunning != 0 {
		t.Errorf("stats after Wait = %+v", s)
	}
}

func TestHandlerContextCarriesFrameContextValues(t *testing.T) {
	type key struct{}
	rec := &recorder{}
	got := make(chan any, 1)
	h := HandlerFuncs{Request: func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		got <- ctx.Value(key{})
		return nil, nil
	}}
	p := NewPeer(rec, h, Options{Role: RoleServer})
	defer p.Close(nil)
	p.HandleFrame(context.WithValue(context.Background(), key{}, "conn-1"), []byte(`{"jsonrpc":"2.0","id":"a","method":"m"}`))
	if v := <-got; v != "conn-1" {
		t.Errorf("value = %v", v)
	}
	waitFor(t, "reply", func() bool { return p.Stats().ResponsesOut == 1 })
	if f := rec.take(); len(f) != 1 || f[0] != `{"jsonrpc":"2.0","id":"a","result":null}` {
		t.Errorf("sent %q", f)
	}
}

func TestNotificationHandlerPanicContained(t *testing.T) {
	rec := &recorder{}
	h := HandlerFuncs{Notification: func(context.Context, string, json.RawMessage) { panic("bad handler") }}
	p := NewPeer(rec, h, Options{})
	defer p.Close(nil)
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","method":"n"}`))
	if p.Stats().NotificationsIn != 1 {
		t.Error("notification not counted")
	}
}

func TestNilSenderAndHandler(t *testing.T) {
	p := NewPeer(nil, nil, Options{Role: RoleServer})
	defer p.Close(nil)
	if _, err := p.Call(context.Background(), "m", nil); err == nil {
		t.Error("Call with nil sender succeeded")
	}
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","id":"a","method":"m"}`)) // must not panic
	if got := wire.ToError(nil); got.Code != wire.CodeInternalError {
		t.Error("sanity")
	}
}
