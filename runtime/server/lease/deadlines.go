package lease

import (
	"container/heap"
	"time"
)

// dueKind says what happens when an entry's deadline passes.
type dueKind uint8

const (
	dueNone    dueKind = iota
	dueTTL             // GRANTED or HOLD lease expires
	dueRemoval         // terminal record leaves the registry
)

// maxFirePerLock bounds how many deadlines one critical section handles.
const maxFirePerLock = 256

// deadlines is a min-heap of scheduled entries ordered by deadline; each
// entry knows its index so it can be removed in O(log n).
type deadlines []*entry

// Len is the number of scheduled entries (heap.Interface).
func (d deadlines) Len() int { return len(d) }

// Less orders entries by deadline (heap.Interface).
func (d deadlines) Less(i, j int) bool { return d[i].deadline.Before(d[j].deadline) }

// Swap swaps two entries and their indices (heap.Interface).
func (d deadlines) Swap(i, j int) {
	d[i], d[j] = d[j], d[i]
	d[i].index = i
	d[j].index = j
}

// Push appends x (heap.Interface).
func (d *deadlines) Push(x any) {
	e, _ := x.(*entry)
	e.index = len(*d)
	*d = append(*d, e)
}

// Pop removes the last element (heap.Interface).
func (d *deadlines) Pop() any {
	old := *d
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	*d = old[:n]
	e.index = -1
	return e
}

// scheduleLocked (re)schedules e to fire kind at the monotonic time at. It does nothing
// once the registry is closed.
func (r *Registry) scheduleLocked(e *entry, kind dueKind, at time.Time) {
	r.unscheduleLocked(e)
	if r.closed {
		return
	}
	e.kind = kind
	e.deadline = at
	heap.Push(&r.due, e)
	if e.index == 0 {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// unscheduleLocked cancels e's deadline, if any.
func (r *Registry) unscheduleLocked(e *entry) {
	if e.index >= 0 {
		heap.Remove(&r.due, e.index)
	}
	e.kind = dueNone
}

// run is the scheduler goroutine: it fires due deadlines and sleeps until
// the earliest remaining one, a wake-up or Close.
func (r *Registry) run() {
	defer close(r.exited)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		next, more := r.fireDueLocked(time.Now())
		r.unlockAndFlush()
		if more {
			select {
			case <-r.stop:
				return
			default:
				continue
			}
		}
		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(time.Until(next))
		}
		select {
		case <-r.stop:
			return
		case <-r.wake:
		case <-timer.C:
		}
	}
}

// fireDueLocked handles up to maxFirePerLock deadlines at or before now. It
// returns the next deadline (zero when none) and whether more are already
// due.
func (r *Registry) fireDueLocked(now time.Time) (next time.Time, more bool) {
	for n := 0; len(r.due) > 0; n++ {
		e := r.due[0]
		if e.deadline.After(now) {
			return e.deadline, false
		}
		if n == maxFirePerLock {
			return time.Time{}, true
		}
		heap.Pop(&r.due)
		kind := e.kind
		e.kind = dueNone
		switch kind {
		case dueTTL:
			r.expireLocked(e)
		case dueRemoval:
			r.removeLocked(e)
		}
	}
	return time.Time{}, false
}
