package client

import (
	"log/slog"
	"sync"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// queueWarnLen is the queue length at which the first growth warning is logged; the next
// warnings come each time the length doubles.
const queueWarnLen = 1024

// noteQueue is the unbounded FIFO between the socket reader (push) and the client's single
// delivery goroutine (run). push never blocks, so a slow subscriber cannot stall the
// reader; the queue length is monitored and logged as it grows.
type noteQueue struct {
	log  *slog.Logger
	wake chan struct{} // capacity 1: "items may be waiting"
	stop chan struct{} // closed by close

	mu     sync.Mutex
	items  []protocol.Notification
	closed bool
	warnAt int
}

func newNoteQueue(log *slog.Logger) *noteQueue {
	return &noteQueue{
		log:    log,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		warnAt: queueWarnLen,
	}
}

// push appends n; it is dropped once the queue is closed.
func (q *noteQueue) push(n protocol.Notification) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, n)
	l := len(q.items)
	warn := l >= q.warnAt
	if warn {
		q.warnAt *= 2
	}
	q.mu.Unlock()
	if warn {
		q.log.Warn("moltzap client: notification queue is growing; a subscriber is slow", "queued", l)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run delivers queued notifications in order until close; it is the client's single
// notification goroutine.
func (q *noteQueue) run(deliver func(protocol.Notification)) {
	for {
		q.mu.Lock()
		batch := q.items
		q.items = nil
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return
		}
		if len(batch) == 0 {
			select {
			case <-q.wake:
			case <-q.stop:
			}
			continue
		}
		for i, n := range batch {
			select {
			case <-q.stop:
				return
			default:
			}
			deliver(n)
			batch[i] = nil
		}
	}
}

// close stops delivery: notifications still queued are dropped. It does not wait for a
// delivery in progress.
func (q *noteQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	q.items = nil
	close(q.stop)
}
