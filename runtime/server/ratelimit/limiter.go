package ratelimit

import (
	"math"
	"strings"
	"sync"
	"time"
)

// Limiter holds one token bucket per key. It is safe for concurrent use and
// allocates nothing in Allow for a key it already holds.
type Limiter struct {
	// interval is the time to refill one token, in nanoseconds; zero means
	// the limiter is disabled.
	interval int64
	// tolerance is burst × interval: how far ahead of the clock a key's
	// theoretical arrival time may run.
	tolerance int64
	clock     func() time.Time
	epoch     time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	// calls counts Allow calls since the last sweep; sweepAt is the count
	// that triggers the next one.
	calls, sweepAt int
	// peak is the largest size of buckets since it was last rebuilt.
	peak int
	// usage counts the events Allow admitted per key since the last TakeUsage, while
	// tracking (nil otherwise).
	usage map[string]int
}

// bucket is the state of one key: the theoretical arrival time of its next
// token, in nanoseconds since the limiter's epoch. The bucket is full when
// tat is not after now.
type bucket struct {
	tat int64
}

// New returns a limiter that admits ratePerMinute events per minute per key
// with bursts of up to burst events. burst ≤ 0 means burst = ratePerMinute.
// ratePerMinute ≤ 0 disables limiting (Allow always succeeds). clock is the
// time source (nil means time.Now); tests pass a fake one.
func New(ratePerMinute int, burst int, clock func() time.Time) *Limiter {
	if clock == nil {
		clock = time.Now
	}
	l := &Limiter{
		clock:   clock,
		epoch:   clock(),
		buckets: make(map[string]*bucket),
		sweepAt: minSweepEvery,
	}
	if ratePerMinute <= 0 {
		return l
	}
	if burst <= 0 {
		burst = ratePerMinute
	}
	l.interval = max(int64(time.Minute)/int64(ratePerMinute), 1)
	if int64(burst) > math.MaxInt64/4/l.interval {
		l.tolerance = math.MaxInt64 / 4
	} else {
		l.tolerance = int64(burst) * l.interval
	}
	return l
}

// Allow consumes one token of key's bucket. It reports whether a token was
// available; when not, nothing is consumed and retryAfter is how long until
// the next token is available (the caller rounds it up to whole milliseconds
// for retryAfterMs).
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l.interval == 0 {
		return true, 0
	}
	l.mu.Lock()
	// Read the clock under the lock so that the calls see time in order.
	now := l.now(l.clock())
	l.calls++
	if l.calls >= l.sweepAt {
		l.sweepLocked(now)
	}
	b := l.buckets[key]
	if b == nil {
		// A new key starts with a full bucket; burst ≥ 1 so this call is
		// admitted.
		b = &bucket{tat: now}
		l.buckets[strings.Clone(key)] = b
		l.peak = max(l.peak, len(l.buckets))
	}
	next := max(b.tat, now) + l.interval
	if excess := next - now - l.tolerance; excess > 0 {
		l.mu.Unlock()
		return false, time.Duration(excess)
	}
	b.tat = next
	if l.usage != nil {
		l.usage[key]++
	}
	l.mu.Unlock()
	return true, 0
}

// Check reports whether key's bucket holds a token, like Allow, but consumes nothing; when
// it does not, retryAfter is how long until it will. Callers that charge only for some
// outcomes (failed authentications) Check first and Allow once the outcome is known.
func (l *Limiter) Check(key string) (ok bool, retryAfter time.Duration) {
	if l.interval == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now(l.clock())
	b := l.buckets[key]
	if b == nil {
		return true, 0
	}
	if excess := max(b.tat, now) + l.interval - now - l.tolerance; excess > 0 {
		return false, time.Duration(excess)
	}
	return true, 0
}

// Len returns the number of keys currently holding a bucket (for metrics and
// tests).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// now converts t to nanoseconds since the limiter's epoch.
func (l *Limiter) now(t time.Time) int64 {
	return int64(t.Sub(l.epoch))
}
