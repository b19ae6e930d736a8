// Package bustest is the conformance suite every bus.Bus implementation runs: one test
// function per rule of the runtime/bus contract, against buses a test's Factory connects to
// one broker.
package bustest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/bus"
)

// Factory returns a function connecting a new bus to one broker private to the test (a
// fresh namespace or hub); each call is another node. Buses are closed by the suite.
type Factory func(t *testing.T) (connect func() bus.Bus)

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	t.Run("PublishReachesEverySubscriberInOrder", func(t *testing.T) { testOrder(t, f) })
	t.Run("UnsubscribeStopsDelivery", func(t *testing.T) { testUnsubscribe(t, f) })
	t.Run("RequestReply", func(t *testing.T) { testRequest(t, f) })
	t.Run("NoResponders", func(t *testing.T) { testNoResponders(t, f) })
	t.Run("RequestTimeoutIsContextError", func(t *testing.T) { testTimeout(t, f) })
	t.Run("ServeIsAQueueGroup", func(t *testing.T) { testQueue(t, f) })
	t.Run("CloseDrainsAndHealthTells", func(t *testing.T) { testClose(t, f) })
}

const wait = 5 * time.Second

func open(t *testing.T, connect func() bus.Bus) bus.Bus {
	t.Helper()
	b := connect()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = b.Close(ctx)
	})
	return b
}

// collector records the payloads one subscription received.
type collector struct {
	mu   sync.Mutex
	got  []string
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) handle(m bus.Msg) {
	c.mu.Lock()
	c.got = append(c.got, string(m.Data))
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// waitFor waits until n payloads arrived and returns them.
func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		got := append([]string(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("got %d messages within %s, want %d", len(got), wait, n)
		}
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// sync makes sure subscriptions made on b reached the broker before another bus publishes.
func settle(t *testing.T, b bus.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func testOrder(t *testing.T, f Factory) {
	connect := f(t)
	pub, a, b := open(t, connect), open(t, connect), open(t, connect)
	ca, cb := newCollector(), newCollector()
	if _, err := a.Subscribe("order", ca.handle); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe("order", cb.handle); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe("other", func(bus.Msg) { t.Error("message on another subject delivered") }); err != nil {
		t.Fatal(err)
	}
	settle(t, a)
	settle(t, b)
	const n = 500
	buf := make([]byte, 0, 16)
	for i := range n {
		buf = fmt.Appendf(buf[:0], "m%d", i)
		if err := pub.Publish("order", buf); err != nil { // the bus must not keep buf
			t.Fatal(err)
		}
	}
	for name, c := range map[string]*collector{"a": ca, "b": cb} {
		got := c.waitFor(t, n)
		for i, s := range got {
			if want := fmt.Sprintf("m%d", i); s != want {
				t.Fatalf("subscriber %s: message %d = %q, want %q", name, i, s, want)
			}
		}
	}
}

func testUnsubscribe(t *testing.T, f Factory) {
	connect := f(t)
	pub, sub := open(t, connect), open(t, connect)
	c := newCollector()
	s, err := sub.Subscribe("u", c.handle)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, sub)
	if err := pub.Publish("u", []byte("one")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 1)
	if err := s.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	settle(t, sub)
	if err := pub.Publish("u", []byte("two")); err != nil {
		t.Fatal(err)
	}
	settle(t, pub)
	time.Sleep(50 * time.Millisecond)
	if n := c.count(); n != 1 {
		t.Fatalf("%d messages after Unsubscribe, want 1", n)
	}
}

func testRequest(t *testing.T, f Factory) {
	connect := f(t)
	client, server := open(t, connect), open(t, connect)
	if _, err := server.Serve("echo", func(r bus.Request) {
		go func() { _ = r.Reply(append([]byte("re:"), r.Data...)) }() // an answer from another goroutine
	}); err != nil {
		t.Fatal(err)
	}
	settle(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := range 20 {
		want := fmt.Sprintf("re:q%d", i)
		got, err := client.Request(ctx, "echo", fmt.Appendf(nil, "q%d", i))
		if err != nil || string(got) != want {
			t.Fatalf("request %d = %q, %v; want %q", i, got, err, want)
		}
	}
}

func testNoResponders(t *testing.T, f Factory) {
	connect := f(t)
	client := open(t, connect)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	start := time.Now()
	_, err := client.Request(ctx, "nobody", []byte("x"))
	if !errors.Is(err, bus.ErrNoResponders) {
		t.Fatalf("request to nobody: %v, want ErrNoResponders", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("no responders took %s, want it at once", d)
	}
}

func testTimeout(t *testing.T, f Factory) {
	connect := f(t)
	client, server := open(t, connect), open(t, connect)
	if _, err := server.Serve("slow", func(bus.Request) {}); err != nil { // never answers
		t.Fatal(err)
	}
	settle(t, server)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.Request(ctx, "slow", []byte("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unanswered request: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("timeout after %s, want about 150ms", d)
	}
}

func testQueue(t *testing.T, f Factory) {
	connect := f(t)
	client, s1, s2 := open(t, connect), open(t, connect), open(t, connect)
	var mu sync.Mutex
	served := map[string]int{}
	serve := func(name string) bus.Responder {
		return func(r bus.Request) {
			mu.Lock()
			served[name]++
			mu.Unlock()
			_ = r.Reply([]byte(name))
		}
	}
	if _, err := s1.Serve("q", serve("s1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Serve("q", serve("s2")); err != nil {
		t.Fatal(err)
	}
	settle(t, s1)
	settle(t, s2)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	const n = 40
	for range n {
		if _, err := client.Request(ctx, "q", nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if served["s1"]+served["s2"] != n {
		t.Fatalf("served %v, want %d requests answered once each", served, n)
	}
}

func testClose(t *testing.T, f Factory) {
	connect := f(t)
	pub, sub := open(t, connect), open(t, connect)
	c := newCollector()
	if _, err := sub.Subscribe("c", c.handle); err != nil {
		t.Fatal(err)
	}
	settle(t, sub)
	if err := pub.Health(); err != nil {
		t.Fatalf("healthy bus: %v", err)
	}
	const n = 100
	for i := range n {
		if err := pub.Publish("c", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := pub.Close(ctx); err != nil { // drains what was published
		t.Fatalf("close: %v", err)
	}
	c.waitFor(t, n)
	if err := pub.Health(); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("health after close: %v, want ErrClosed", err)
	}
	if err := pub.Publish("c", []byte("late")); err == nil {
		t.Fatal("publish after close succeeded")
	}
}
