package rpc

import (
	"context"
	"encoding/json"
)

// inboundJob is one inbound request waiting for or holding a handler slot.
type inboundJob struct {
	ctx    context.Context
	id     string
	method string
	params json.RawMessage
}

// fifo is a first-in first-out queue of jobs that reuses its backing array.
type fifo struct {
	items []inboundJob
	head  int
}

func (q *fifo) len() int { return len(q.items) - q.head }

func (q *fifo) push(j inboundJob) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 64 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, j)
}

func (q *fifo) pop() (inboundJob, bool) {
	if q.head >= len(q.items) {
		return inboundJob{}, false
	}
	j := q.items[q.head]
	q.items[q.head] = inboundJob{}
	q.head++
	return j, true
}

func (q *fifo) reset() {
	clear(q.items)
	q.items, q.head = nil, 0
}
