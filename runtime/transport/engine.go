package transport

import (
	"errors"
	"sync"
	"time"
)

// engine is what all the connections of a process share: the readiness
// poller and the goroutine waiting on it, the worker pool that runs reads,
// flushes and teardowns, the flush queue, the timer heap of heartbeats and
// deadlines, and the pools of buffers lent to reads and writes.
type engine struct {
	poller  poller // nil where the platform has none: each Conn reads in a goroutine
	pool    workerPool
	flushes flushQueue
	timers  timerHeap
	epoch   time.Time // origin of the engine clock

	// Buffers lent only while a frame is read or written.
	readBufs sync.Pool // *readScratch
	batches  sync.Pool // *writeBatch
	queues   sync.Pool // *msgQueue

	mu     sync.RWMutex
	conns  map[uint64]*Conn // polled connections by id
	nextID uint64
}

// sharedEngine is the process-wide engine used by Upgrade and Dial, created
// on first use. It is the package's only process-wide value: like the Go
// runtime's own network poller, one poller and one timer heap serve every
// connection. Its goroutines are the poll loop (one, parked in the runtime
// poller) and the idle workers (a few, which exit after workerLinger).
var sharedEngine = sync.OnceValue(func() *engine { return newEngine(true) })

// newEngine returns an engine; withPoller selects the platform poller when
// there is one. Without a poller every Conn gets a reader goroutine.
func newEngine(withPoller bool) *engine {
	e := &engine{epoch: time.Now(), conns: make(map[uint64]*Conn)}
	e.pool.init(&e.flushes)
	e.flushes.init(&e.pool)
	e.timers.init(e.now)
	if withPoller {
		if p, err := newPoller(); err == nil {
			e.poller = p
			go e.pollLoop()
		}
	}
	return e
}

// now is the engine clock: monotonic nanoseconds since epoch, never 0.
func (e *engine) now() int64 {
	return int64(time.Since(e.epoch)) + 1
}

// timeAt converts an engine clock value to wall time.
func (e *engine) timeAt(t int64) time.Time {
	return e.epoch.Add(time.Duration(t - 1))
}

// getReadScratch lends a read buffer and its system call callbacks.
func (e *engine) getReadScratch() *readScratch {
	if rs, ok := e.readBufs.Get().(*readScratch); ok {
		return rs
	}
	return &readScratch{buf: make([]byte, readBufSize)}
}

// putReadScratch returns what getReadScratch lent.
func (e *engine) putReadScratch(rs *readScratch) {
	e.readBufs.Put(rs)
}

// getBatch lends a write batch.
func (e *engine) getBatch() *writeBatch {
	if wb, ok := e.batches.Get().(*writeBatch); ok {
		return wb
	}
	return &writeBatch{}
}

// putBatch returns a batch lent by getBatch, dropping a big arena.
func (e *engine) putBatch(wb *writeBatch) {
	wb.frame = nil
	if cap(wb.arena) > maxPooledArena {
		wb.arena = nil
	}
	e.batches.Put(wb)
}

// getQueue lends an empty message queue.
func (e *engine) getQueue() *msgQueue {
	if q, ok := e.queues.Get().(*msgQueue); ok {
		return q
	}
	return &msgQueue{}
}

// putQueue empties q (dropping its references to the messages) and takes it
// back.
func (e *engine) putQueue(q *msgQueue) {
	clear(q.msgs)
	q.msgs = q.msgs[:0]
	e.queues.Put(q)
}

// register gives c an id for poller events.
func (e *engine) register(c *Conn) {
	e.mu.Lock()
	e.nextID++
	c.id = e.nextID
	e.conns[c.id] = c
	e.mu.Unlock()
}

// unregister forgets c; late poller events for its id are ignored.
func (e *engine) unregister(c *Conn) {
	e.mu.Lock()
	delete(e.conns, c.id)
	e.mu.Unlock()
}

// lookup returns the connection with id, or nil.
func (e *engine) lookup(id uint64) *Conn {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.conns[id]
}

// pollLoop hands every readiness event to a worker until the poller is
// closed.
func (e *engine) pollLoop() {
	ids := make([]uint64, 256)
	for {
		n, err := e.poller.wait(ids)
		if errors.Is(err, errPollerClosed) {
			return
		}
		if err != nil {
			// wait retries EINTR itself; anything else (ENOMEM) is
			// transient: back off instead of spinning.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, id := range ids[:n] {
			if c := e.lookup(id); c != nil {
				e.pool.submit(task{c: c, kind: taskRead})
			}
		}
	}
}

// close stops the poller goroutine; only tests use it, on engines of their
// own, once their connections are closed.
func (e *engine) close() error {
	if e.poller == nil {
		return nil
	}
	return e.poller.close()
}
