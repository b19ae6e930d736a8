package transport

import (
	"runtime"
	"sync"
	"time"
)

// workerLinger is how long an idle worker waits for a task before exiting.
const workerLinger = 2 * time.Second

// taskKind says what a task does with its connection.
type taskKind uint8

const (
	// taskRead reads what the socket has (registering it with the poller the
	// first time).
	taskRead taskKind = iota
	// taskFlush writes everything queued on the connection.
	taskFlush
	// taskTeardown closes the connection and calls onClose.
	taskTeardown
	// taskFlushRunner drains the engine's flush queue (c is nil).
	taskFlushRunner
)

// task is one unit of work for a worker: a value, so that handing it to an
// idle worker allocates nothing.
type task struct {
	c    *Conn
	kind taskKind
}

// run performs t.
func (p *workerPool) run(t task) {
	switch t.kind {
	case taskRead:
		t.c.readTask()
	case taskFlush:
		t.c.flush(true)
	case taskTeardown:
		t.c.teardown()
	case taskFlushRunner:
		p.flushes.run()
	}
}

// workerPool runs tasks on goroutines that exist only while there is work:
// a task goes to an idle worker when there is one, otherwise to a new
// goroutine; up to maxIdle finished workers wait workerLinger for the next
// task, keeping their grown stacks warm, then exit.
//
// There is no cap on busy workers, on purpose: onMessage may block (the rpc
// layer applies back-pressure by blocking it, and a blocked request may wait
// for a response that another connection's read must deliver), so a fixed
// pool would let a few stuck connections stall the reads of all others. The
// number of busy workers is bounded by the connections instead: at most one
// read task and one flush task per connection at a time, none for an idle
// connection.
type workerPool struct {
	flushes *flushQueue // drained by taskFlushRunner

	mu      sync.Mutex
	idle    int       // workers waiting on tasks
	maxIdle int       // most workers kept waiting
	tasks   chan task // to idle workers; capacity maxIdle, so a send under mu never blocks
}

// init sizes the pool for the machine; flush runners drain flushes.
func (p *workerPool) init(flushes *flushQueue) {
	p.flushes = flushes
	p.maxIdle = max(4, 2*runtime.GOMAXPROCS(0))
	p.tasks = make(chan task, p.maxIdle)
}

// submit runs t on a worker without blocking.
func (p *workerPool) submit(t task) {
	p.mu.Lock()
	if p.idle > 0 {
		// Each decrement of idle is matched by one task in the channel, so
		// the send never blocks (len(tasks) <= maxIdle).
		p.idle--
		p.tasks <- t
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	go p.worker(t)
}

// worker runs t, then further tasks until it has been idle for workerLinger
// or maxIdle workers are idle already.
func (p *workerPool) worker(t task) {
	var linger *time.Timer
	for {
		p.run(t)
		t = task{}
		p.mu.Lock()
		if p.idle >= p.maxIdle {
			p.mu.Unlock()
			return
		}
		p.idle++
		p.mu.Unlock()
		if linger == nil {
			linger = time.NewTimer(workerLinger)
		} else {
			linger.Reset(workerLinger)
		}
		var ok bool
		select {
		case t = <-p.tasks:
			ok = true
		case <-linger.C:
			t, ok = p.expire()
		}
		if !ok {
			return
		}
	}
}

// expire retires an idle worker whose linger ran out, unless a task was
// handed to the idle workers meanwhile: the submitter counted this worker
// out of idle already, so it takes the task.
func (p *workerPool) expire() (task, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case t := <-p.tasks:
		return t, true
	default:
		p.idle--
		return task{}, false
	}
}
