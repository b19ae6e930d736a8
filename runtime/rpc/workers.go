package rpc

import (
	"sync"
	"time"
)

// DefaultWorkerLinger is how long an idle goroutine of a Workers set waits for
// work before it exits: as long as a Peer's own worker lingers.
const DefaultWorkerLinger = workerLinger

// Workers is a set of goroutines that Peers share to run their inbound
// handlers (Options.Workers). A Peer that needs a worker takes an idle one
// instead of starting a goroutine: the first request of every new
// connection (network/connect on a server) then runs on a goroutine whose
// stack has already grown, not on a fresh one that grows it again, copying
// it each time. Idle goroutines exit after the linger, so an idle server
// holds none. The zero value is not usable; use NewWorkers.
type Workers struct {
	linger time.Duration

	mu   sync.Mutex
	idle []*workerG // most recently idle last: the warmest is reused first
}

// workerG is one goroutine of a Workers set.
type workerG struct {
	work  chan func() // buffered: Go never waits for the goroutine
	index int         // position in Workers.idle while idle
}

// NewWorkers returns a set whose idle goroutines exit after linger (zero or
// negative: DefaultWorkerLinger).
func NewWorkers(linger time.Duration) *Workers {
	if linger <= 0 {
		linger = DefaultWorkerLinger
	}
	return &Workers{linger: linger}
}

// Go runs f on an idle goroutine of the set, or on a new one.
func (w *Workers) Go(f func()) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		g := w.idle[n-1]
		w.idle[n-1] = nil
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		g.work <- f
		return
	}
	w.mu.Unlock()
	go w.run(&workerG{work: make(chan func(), 1)}, f)
}

// Idle returns the number of goroutines waiting for work.
func (w *Workers) Idle() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.idle)
}

// run is one goroutine: it runs f, then waits for more work until the linger
// passes with none.
func (w *Workers) run(g *workerG, f func()) {
	t := time.NewTimer(w.linger)
	defer t.Stop()
	for {
		f()
		w.mu.Lock()
		g.index = len(w.idle)
		w.idle = append(w.idle, g)
		w.mu.Unlock()
		t.Reset(w.linger)
		select {
		case f = <-g.work:
			t.Stop()
			continue
		case <-t.C:
		}
		if w.leave(g) {
			return
		}
		f = <-g.work // Go took this goroutine just as the linger ended: its work is coming
	}
}

// leave takes g off the idle list and reports whether it was there.
func (w *Workers) leave(g *workerG) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := g.index
	if i >= len(w.idle) || w.idle[i] != g {
		return false
	}
	last := len(w.idle) - 1
	w.idle[i] = w.idle[last]
	w.idle[i].index = i
	w.idle[last] = nil
	w.idle = w.idle[:last]
	return true
}
