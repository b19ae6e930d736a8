package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 5, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func mustAllow(t *testing.T, l *Limiter, key string) {
	t.Helper()
	if ok, retry := l.Allow(key); !ok {
		t.Fatalf("Allow(%q) refused (retry %v), want allowed", key, retry)
	}
}

func mustRefuse(t *testing.T, l *Limiter, key string, wantRetry time.Duration) {
	t.Helper()
	ok, retry := l.Allow(key)
	if ok {
		t.Fatalf("Allow(%q) allowed, want refused", key)
	}
	if retry != wantRetry {
		t.Fatalf("Allow(%q) retryAfter = %v, want %v", key, retry, wantRetry)
	}
}

func TestBurstThenRefuse(t *testing.T) {
	c := newFakeClock()
	l := New(60, 5, c.Now) // one token per second, burst 5
	for range 5 {
		mustAllow(t, l, "a")
	}
	mustRefuse(t, l, "a", time.Second)
	mustRefuse(t, l, "a", time.Second) // refusals consume nothing

	c.Advance(400 * time.Millisecond)
	mustRefuse(t, l, "a", 600*time.Millisecond)
}

func TestBurstDefaultsToRate(t *testing.T) {
	c := newFakeClock()
	l := New(120, 0, c.Now)
	for range 120 {
		mustAllow(t, l, "a")
	}
	mustRefuse(t, l, "a", 500*time.Millisecond)
}

func TestRefillsAtRate(t *testing.T) {
	c := newFakeClock()
	l := New(60, 3, c.Now)
	for range 3 {
		mustAllow(t, l, "a")
	}
	mustRefuse(t, l, "a", time.Second)

	// One token per second.
	for range 10 {
		c.Advance(time.Second)
		mustAllow(t, l, "a")
		mustRefuse(t, l, "a", time.Second)
	}

	// Two and a half seconds refill two tokens.
	c.Advance(2500 * time.Millisecond)
	mustAllow(t, l, "a")
	mustAllow(t, l, "a")
	mustRefuse(t, l, "a", 500*time.Millisecond)

	// A long idle period refills at most burst tokens.
	c.Advance(time.Hour)
	for range 3 {
		mustAllow(t, l, "a")
	}
	mustRefuse(t, l, "a", time.Second)
}

func TestKeysIndependent(t *testing.T) {
	c := newFakeClock()
	l := New(60, 2, c.Now)
	mustAllow(t, l, "a")
	mustAllow(t, l, "a")
	mustRefuse(t, l, "a", time.Second)
	mustAllow(t, l, "b")
	mustAllow(t, l, "b")
	mustRefuse(t, l, "b", time.Second)
	mustRefuse(t, l, "a", time.Second)
}

func TestDisabled(t *testing.T) {
	l := New(0, 0, nil)
	for range 10_000 {
		mustAllow(t, l, "a")
	}
	if l.Len() != 0 || l.Sweep(time.Now()) != 0 {
		t.Fatal("disabled limiter keeps state")
	}
}

func TestDefaultClock(t *testing.T) {
	l := New(1, 1, nil)
	mustAllow(t, l, "a")
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("Allow = %v, %v; want refused with 0 < retry ≤ 1m", ok, retry)
	}
}

func TestSweepDropsFullBuckets(t *testing.T) {
	c := newFakeClock()
	l := New(60, 10, c.Now)
	for range 10 {
		mustAllow(t, l, "busy")
	}
	mustAllow(t, l, "light")
	if l.Len() != 2 {
		t.Fatalf("Len = %d, want 2", l.Len())
	}

	c.Advance(time.Second) // "light" is full again, "busy" is not
	if n := l.Sweep(c.Now()); n != 1 || l.Len() != 1 {
		t.Fatalf("Sweep dropped %d, Len = %d; want 1, 1", n, l.Len())
	}

	c.Advance(9 * time.Second) // "busy" full again too
	if n := l.Sweep(c.Now()); n != 1 || l.Len() != 0 {
		t.Fatalf("Sweep dropped %d, Len = %d; want 1, 0", n, l.Len())
	}

	// Dropping a full bucket is invisible to the caller.
	for range 10 {
		mustAllow(t, l, "busy")
	}
	mustRefuse(t, l, "busy", time.Second)
}

func TestLazyEvictionKeepsMapSmall(t *testing.T) {
	c := newFakeClock()
	l := New(60, 1, c.Now)
	for i := range 200_000 {
		mustAllow(t, l, fmt.Sprintf("agent-%d", i))
		c.Advance(time.Second) // every earlier key is full again
		if n := l.Len(); n > 2*minSweepEvery {
			t.Fatalf("after %d keys Len = %d, want ≤ %d", i+1, n, 2*minSweepEvery)
		}
	}
	l.mu.Lock()
	peak := l.peak
	l.mu.Unlock()
	if peak > 2*minSweepEvery {
		t.Fatalf("peak = %d", peak)
	}
}

func TestShrinkAfterSpike(t *testing.T) {
	c := newFakeClock()
	l := New(60, 1, c.Now)
	const spike = 3 * shrinkAbove
	for i := range spike {
		l.Allow(fmt.Sprintf("k%d", i))
	}
	c.Advance(time.Second)
	if n := l.Sweep(c.Now()); n != spike {
		t.Fatalf("Sweep dropped %d, want %d", n, spike)
	}
	l.mu.Lock()
	peak, sweepAt := l.peak, l.sweepAt
	l.mu.Unlock()
	if peak != 0 || sweepAt != minSweepEvery {
		t.Fatalf("after shrink peak = %d, sweepAt = %d", peak, sweepAt)
	}
}

func TestConcurrentAllow(t *testing.T) {
	c := newFakeClock()
	const burst = 500
	l := New(60, burst, c.Now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				l.Allow(fmt.Sprintf("own-%d-%d", g, i%7))
				if i%50 == 0 {
					l.Sweep(c.Now())
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Fatalf("allowed %d, want exactly %d", got, burst)
	}
}

func TestAllowDoesNotAllocate(t *testing.T) {
	c := newFakeClock()
	l := New(60, 1, c.Now)
	l.Allow("agent")
	allocs := testing.AllocsPerRun(1000, func() {
		l.Allow("agent")
		c.Advance(time.Millisecond)
	})
	if allocs != 0 {
		t.Fatalf("Allow allocates %v times per call", allocs)
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(120, 0, nil)
	l.Allow("agent-0")
	b.ReportAllocs()
	for b.Loop() {
		l.Allow("agent-0")
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := New(120, 0, nil)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("agent-%d", i)
		l.Allow(keys[i])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}

func TestCheckConsumesNothing(t *testing.T) {
	c := newFakeClock()
	l := New(60, 2, c.Now)
	for range 5 {
		if ok, _ := l.Check("a"); !ok {
			t.Fatal("Check refused a fresh key")
		}
	}
	mustAllow(t, l, "a")
	mustAllow(t, l, "a")
	if ok, retry := l.Check("a"); ok || retry != time.Second {
		t.Fatalf("Check = %v, %v; want refused, 1s", ok, retry)
	}
	c.Advance(time.Second)
	if ok, _ := l.Check("a"); !ok {
		t.Fatal("Check refused after refill")
	}
	mustAllow(t, l, "a")
	mustRefuse(t, l, "a", time.Second)
}
