package transport

import (
	"sync"
	"time"
)

// connTimers are the deadlines of one connection, in engine clock
// nanoseconds (0: none). The connection's earliest deadline is its single
// entry in the timer heap. Guarded by Conn.mu, except index and when, which
// belong to the heap (timerHeap.mu).
type connTimers struct {
	nextPing  int64 // next heartbeat tick
	frameBy   int64 // the frame being received must be complete by then
	closeWait int64 // the peer's close frame is awaited until then
	missed    int   // consecutive heartbeat ticks without inbound frames

	index int   // position in the heap, -1 when not in it
	when  int64 // the time the heap holds the connection for
}

// next returns the earliest deadline of t, 0 when there is none.
func (t *connTimers) next() int64 {
	n := int64(0)
	for _, d := range [...]int64{t.nextPing, t.frameBy, t.closeWait} {
		if d != 0 && (n == 0 || d < n) {
			n = d
		}
	}
	return n
}

// timerHeap is the one timer of all connections: a binary min-heap of
// connections by their earliest deadline, and one runtime timer set for the
// top. When it fires, the due connections run their onTimer in the timer's
// goroutine; no goroutine waits while nothing is due.
type timerHeap struct {
	now func() int64

	mu    sync.Mutex
	heap  []*Conn
	timer *time.Timer // created on first use
	armed int64       // when timer fires, 0 when stopped
	due   []*Conn     // reused by fire
}

// init sets the clock.
func (h *timerHeap) init(now func() int64) {
	h.now = now
}

// rescheduleLocked puts c in the heap for its earliest deadline, or takes it
// out when it has none. The caller holds c.mu.
func (c *Conn) rescheduleLocked() {
	if c.finished {
		c.eng.timers.remove(c)
		return
	}
	c.eng.timers.set(c, c.tm.next())
}

// set schedules c at when (0 removes it).
func (h *timerHeap) set(c *Conn, when int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case when == 0:
		h.removeLocked(c)
		return
	case c.tm.index >= 0:
		if c.tm.when == when {
			return
		}
		c.tm.when = when
		h.fix(c.tm.index)
	default:
		c.tm.when = when
		c.tm.index = len(h.heap)
		h.heap = append(h.heap, c)
		h.up(c.tm.index)
	}
	h.armLocked()
}

// remove takes c out of the heap.
func (h *timerHeap) remove(c *Conn) {
	h.mu.Lock()
	h.removeLocked(c)
	h.mu.Unlock()
}

// removeLocked takes c out of the heap if it is in it.
func (h *timerHeap) removeLocked(c *Conn) {
	i := c.tm.index
	if i < 0 {
		return
	}
	last := len(h.heap) - 1
	h.swap(i, last)
	h.heap[last] = nil
	h.heap = h.heap[:last]
	c.tm.index = -1
	if i < last {
		h.fix(i)
	}
	if len(h.heap) == 0 && cap(h.heap) > 1024 {
		h.heap = nil // give back the memory of a past peak
	}
}

// armLocked sets the runtime timer for the top of the heap if it is not set
// early enough already. A timer set too early only fires for nothing.
func (h *timerHeap) armLocked() {
	if len(h.heap) == 0 {
		return
	}
	top := h.heap[0].tm.when
	if h.armed != 0 && h.armed <= top {
		return
	}
	h.armed = top
	d := time.Duration(top - h.now())
	if h.timer == nil {
		h.timer = time.AfterFunc(d, h.fire)
		return
	}
	h.timer.Reset(d)
}

// fire runs onTimer for every connection that is due, then re-arms.
func (h *timerHeap) fire() {
	h.mu.Lock()
	now := h.now()
	h.armed = 0
	due := h.due[:0]
	for len(h.heap) > 0 && h.heap[0].tm.when <= now {
		c := h.heap[0]
		h.removeLocked(c)
		due = append(due, c)
	}
	h.due = nil // fire may run again before this one returns
	h.armLocked()
	h.mu.Unlock()

	for _, c := range due {
		c.onTimer(now)
	}
	clear(due)
	h.mu.Lock()
	if h.due == nil {
		h.due = due[:0]
	}
	h.mu.Unlock()
}

// up moves the entry at i towards the top.
func (h *timerHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if h.heap[parent].tm.when <= h.heap[i].tm.when {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down moves the entry at i towards the leaves and reports whether it moved.
func (h *timerHeap) down(i int) bool {
	start := i
	for {
		small := i
		for _, child := range [2]int{2*i + 1, 2*i + 2} {
			if child < len(h.heap) && h.heap[child].tm.when < h.heap[small].tm.when {
				small = child
			}
		}
		if small == i {
			return i != start
		}
		h.swap(i, small)
		i = small
	}
}

// fix restores the heap order after the entry at i changed.
func (h *timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

// swap exchanges two entries and their indexes.
func (h *timerHeap) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.heap[i].tm.index = i
	h.heap[j].tm.index = j
}
