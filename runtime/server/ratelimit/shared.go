package ratelimit

import (
	"strings"
	"time"
)

// Track turns the recording of admitted events on or off (off: TakeUsage returns nil and
// Allow records nothing). A cluster node tracks while other nodes exist.
func (l *Limiter) Track(on bool) {
	if l.interval == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case on && l.usage == nil:
		l.usage = make(map[string]int)
	case !on:
		l.usage = nil
	}
}

// TakeUsage returns how many events Allow admitted per key since the previous call (while
// tracking) and starts counting afresh; nil when nothing was admitted.
func (l *Limiter) TakeUsage() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.usage) == 0 {
		return nil
	}
	out := l.usage
	l.usage = make(map[string]int, len(out))
	return out
}

// Charge consumes n tokens of key's bucket for events admitted elsewhere (another node of
// a cluster), without a check: the bucket may end up empty and in debt, by at most one
// more burst, so a key that bursted on several nodes at once waits until the events of
// all of them have refilled (up to the cap).
func (l *Limiter) Charge(key string, n int) {
	if l.interval == 0 || n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now(l.clock())
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tat: now}
		l.buckets[strings.Clone(key)] = b
		l.peak = max(l.peak, len(l.buckets))
	}
	add := int64(n) * l.interval
	if add/l.interval != int64(n) { // overflow
		add = 2 * l.tolerance
	}
	b.tat = min(max(b.tat, now)+add, now+2*l.tolerance)
}

// Interval is the time one token takes to refill (0 when the limiter is disabled).
func (l *Limiter) Interval() time.Duration { return time.Duration(l.interval) }
