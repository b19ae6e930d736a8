package ratelimit

import "time"

const (
	// minSweepEvery is the smallest number of Allow calls between two lazy
	// sweeps.
	minSweepEvery = 1024
	// shrinkAbove is the peak map size above which a mostly empty map is
	// rebuilt to release its memory.
	shrinkAbove = 4096
)

// Sweep drops the buckets that are full at now (their keys have been idle
// long enough to be indistinguishable from new keys) and returns how many it
// dropped. Allow calls it lazily; calling it from a ticker bounds memory even
// when traffic stops.
func (l *Limiter) Sweep(now time.Time) int {
	if l.interval == 0 {
		return 0
	}
	n := l.now(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sweepLocked(n)
}

// sweepLocked deletes the full buckets, shrinks the map when it has emptied
// out and schedules the next lazy sweep. The caller holds l.mu.
func (l *Limiter) sweepLocked(now int64) int {
	before := len(l.buckets)
	for key, b := range l.buckets {
		if b.tat <= now {
			delete(l.buckets, key)
		}
	}
	after := len(l.buckets)
	if l.peak > shrinkAbove && after*4 < l.peak {
		// Go maps keep their peak capacity; copy into a right-sized one.
		m := make(map[string]*bucket, after)
		for key, b := range l.buckets {
			m[key] = b
		}
		l.buckets = m
		l.peak = after
	}
	l.calls = 0
	l.sweepAt = max(minSweepEvery, 2*after)
	return before - after
}
