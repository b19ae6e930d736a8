package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkersReuseAnIdleGoroutine(t *testing.T) {
	w := NewWorkers(time.Minute)
	done := make(chan struct{})
	w.Go(func() { close(done) })
	<-done
	waitFor(t, "the goroutine idles", func() bool { return w.Idle() == 1 })

	release := make(chan struct{})
	running := make(chan struct{})
	w.Go(func() { close(running); <-release })
	<-running
	if n := w.Idle(); n != 0 {
		t.Fatalf("%d idle while the only goroutine runs the second function: it was not reused", n)
	}
	// A second function while the first runs needs a goroutine of its own.
	second := make(chan struct{})
	w.Go(func() { close(second) })
	<-second
	close(release)
	waitFor(t, "both idle", func() bool { return w.Idle() == 2 })
}

func TestWorkersExitAfterTheLinger(t *testing.T) {
	w := NewWorkers(20 * time.Millisecond)
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range 3 {
		wg.Add(1)
		w.Go(func() { defer wg.Done(); <-release })
	}
	close(release)
	wg.Wait()
	waitFor(t, "every goroutine exits", func() bool { return w.Idle() == 0 })
	// The set still works after its goroutines are gone.
	ran := make(chan struct{})
	w.Go(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("Go after the linger did not run")
	}
}

// TestPeersOnSharedWorkers: several peers on one set answer every request, keep their own
// concurrency limit, and Close still cancels a running handler and Wait waits for it.
func TestPeersOnSharedWorkers(t *testing.T) {
	w := NewWorkers(time.Minute)
	const peers, calls, limit = 4, 40, 3
	var running [peers]atomic.Int64
	var overLimit atomic.Bool
	var wg sync.WaitGroup
	for i := range peers {
		h := HandlerFuncs{Request: func(_ context.Context, _ string, params json.RawMessage) (json.RawMessage, error) {
			if running[i].Add(1) > limit {
				overLimit.Store(true)
			}
			time.Sleep(time.Millisecond)
			running[i].Add(-1)
			return params, nil
		}}
		pr := newPair(t, Options{}, Options{MaxConcurrentInbound: limit, Workers: w}, nil, h)
		for j := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				want := fmt.Sprintf(`{"peer":%d,"call":%d}`, i, j)
				if res, err := pr.client.Call(context.Background(), "m", json.RawMessage(want)); err != nil || string(res) != want {
					t.Errorf("peer %d call %d = %s, %v", i, j, res, err)
				}
			}()
		}
	}
	wg.Wait()
	if overLimit.Load() {
		t.Errorf("a peer ran more than %d handlers at once on the shared set", limit)
	}
	if n := w.Idle(); n == 0 || n > peers*limit {
		t.Errorf("%d idle goroutines after the calls, want 1..%d", n, peers*limit)
	}

	rec := &recorder{}
	started := make(chan struct{})
	var cancelled atomic.Bool
	p := NewPeer(rec, HandlerFuncs{Request: func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
		close(started)
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		cancelled.Store(true)
		return nil, ctx.Err()
	}}, Options{Role: RoleServer, Workers: w})
	p.HandleFrame(context.Background(), []byte(`{"jsonrpc":"2.0","id":"r1","method":"m"}`))
	<-started
	p.Close(errors.New("test"))
	if err := p.Wait(context.Background()); err != nil || !cancelled.Load() {
		t.Fatalf("Wait = %v, handler cancelled and done = %v", err, cancelled.Load())
	}
}
