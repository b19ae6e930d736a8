// Package batch is the queue of a store's group commit: requests of concurrent callers are
// taken by one goroutine, as many as are waiting (up to a bound), and handed to the store's
// commit function together. How a batch is written and how callers learn their outcome is
// the store's.
package batch

import (
	"context"
	"runtime"
	"sync"
)

// Queue feeds batches of requests to one committer goroutine.
type Queue[R any] struct {
	queue     chan R
	commit    func([]R)
	closedErr error
	yield     bool

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	exited chan struct{}
}

// New starts a queue whose committer calls commit with batches of at most max requests.
// Enqueue answers closedErr after Close. With yield set the committer yields once before
// taking a batch, so that requests a few microseconds behind the first join it.
func New[R any](max int, closedErr error, yield bool, commit func([]R)) *Queue[R] {
	q := &Queue[R]{queue: make(chan R, max), commit: commit, closedErr: closedErr, yield: yield, exited: make(chan struct{})}
	go q.run()
	return q
}

// Enqueue hands r to the committer: once it returns nil, a batch holding r will be
// committed. It fails with the closed error after Close, or with ctx's error when ctx ends
// while the queue is full.
func (q *Queue[R]) Enqueue(ctx context.Context, r R) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return q.closedErr
	}
	select {
	case q.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Closed reports whether Close has been called.
func (q *Queue[R]) Closed() bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.closed
}

// Close stops accepting requests, lets the queued ones commit and waits for the committer.
func (q *Queue[R]) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.queue)
	}
	q.mu.Unlock()
	<-q.exited
}

// run commits batches until the queue is closed and drained.
func (q *Queue[R]) run() {
	defer close(q.exited)
	batch := make([]R, 0, cap(q.queue))
	for r := range q.queue {
		batch = append(batch[:0], r)
		if q.yield {
			runtime.Gosched()
		}
	drain:
		for len(batch) < cap(q.queue) {
			select {
			case r, ok := <-q.queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		q.commit(batch)
		clear(batch)
	}
}
