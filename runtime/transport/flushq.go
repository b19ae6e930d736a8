package transport

import (
	"runtime"
	"sync"
)

// flushQueue is the run queue of the writers of pollable connections: a
// connection with something to write joins it once (Conn.writing), and at
// most maxRunners workers drain it, each writing one connection's queue with
// a non-blocking writev and moving on. A fan-out to N connections thus costs
// N queue appends and a few worker wake-ups, not N goroutine hand-offs, and
// no write waits for a slow socket (that rest moves to a goroutine of its
// own, see Conn.flush).
type flushQueue struct {
	pool       *workerPool
	maxRunners int

	mu      sync.Mutex
	conns   []*Conn // FIFO from head
	head    int
	runners int // taskFlushRunner tasks submitted and not finished
}

// init sizes the queue for the machine.
func (q *flushQueue) init(pool *workerPool) {
	q.pool = pool
	q.maxRunners = runtime.GOMAXPROCS(0)
}

// push queues c for a flush and starts a runner if fewer than maxRunners
// run.
func (q *flushQueue) push(c *Conn) {
	q.mu.Lock()
	if q.head > 1024 && 2*q.head >= len(q.conns) {
		// Under sustained load the queue never empties: slide it down.
		n := copy(q.conns, q.conns[q.head:])
		clear(q.conns[n:])
		q.conns, q.head = q.conns[:n], 0
	}
	q.conns = append(q.conns, c)
	start := q.runners < q.maxRunners
	if start {
		q.runners++
	}
	q.mu.Unlock()
	if start {
		q.pool.submit(task{kind: taskFlushRunner})
	}
}

// pop takes the next connection, or ends the runner when there is none.
func (q *flushQueue) pop() *Conn {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.conns) {
		q.runners--
		if cap(q.conns) > 4096 {
			q.conns = nil // give back the memory of a past peak
		} else {
			clear(q.conns)
			q.conns = q.conns[:0]
		}
		q.head = 0
		return nil
	}
	c := q.conns[q.head]
	q.conns[q.head] = nil
	q.head++
	return c
}

// run is a runner: it flushes queued connections until none is left.
//
// Before each connection it yields once: the frames of a fan-out reach a connection from
// several requests a few microseconds apart, and letting the goroutines queueing them run
// first puts more of them in the same writev (measured with 8 messages in flight to 50
// members: 5 frames per writev instead of 1.7, 1.3x deliveries/s, same DM latency).
func (q *flushQueue) run() {
	for c := q.pop(); c != nil; c = q.pop() {
		runtime.Gosched()
		c.flush(false)
	}
}
