package bus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// MaxPending bounds the messages queued for one in-process subscription; beyond it new
// messages are dropped for that subscriber (like a NATS slow consumer) and counted by
// InProc.Dropped.
const MaxPending = 65536

// Hub is an in-process broker: the buses it hands out (Connect) reach each other, like
// several server nodes on one NATS. A single node uses New, a hub of its own.
type Hub struct {
	mu         sync.RWMutex
	subs       map[string][]*inprocSub
	responders map[string][]*inprocSub
	next       atomic.Uint64 // round robin over responders
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{subs: map[string][]*inprocSub{}, responders: map[string][]*inprocSub{}}
}

// New returns the bus of a hub of its own: the default single-node bus.
func New() *InProc { return NewHub().Connect() }

// Connect returns a new bus on the hub.
func (h *Hub) Connect() *InProc { return &InProc{hub: h, mine: map[*inprocSub]struct{}{}} }

// InProc is one connection to a Hub; it implements Bus. Messages are delivered by one
// goroutine per subscription, in publish order per publisher; Data is shared by every
// subscriber of a message and must be treated as read-only.
type InProc struct {
	hub     *Hub
	dropped atomic.Uint64

	mu     sync.Mutex
	closed bool
	mine   map[*inprocSub]struct{}
}

var _ Bus = (*InProc)(nil)

// item is one queued delivery: a message, or a request when reply is set.
type item struct {
	subject string
	data    []byte
	reply   func([]byte) error
}

// inprocSub is one subscription with its queue and delivery goroutine.
type inprocSub struct {
	conn      *InProc
	subject   string
	responder bool
	deliver   func(item)

	mu      sync.Mutex
	queue   []item
	pending int  // queued or taken but not yet delivered
	closed  bool // no more pushes; the goroutine exits once the queue is empty
	wake    chan struct{}
	done    chan struct{}
	stopped atomic.Bool // removed from the hub
	abort   atomic.Bool // stopped without drain: deliver nothing more
}

// Dropped returns how many messages this bus's subscriptions lost to a full queue.
func (b *InProc) Dropped() uint64 { return b.dropped.Load() }

// Publish queues data for every subscriber of subject.
func (b *InProc) Publish(subject string, data []byte) error {
	if b.isClosed() {
		return ErrClosed
	}
	b.hub.mu.RLock()
	subs := b.hub.subs[subject]
	b.hub.mu.RUnlock()
	if len(subs) == 0 {
		return nil
	}
	it := item{subject: subject, data: slices.Clone(data)}
	for _, s := range subs {
		s.push(it)
	}
	return nil
}

// Subscribe registers h for subject.
func (b *InProc) Subscribe(subject string, h Handler) (Subscription, error) {
	return b.add(subject, false, func(it item) { h(Msg{Subject: it.subject, Data: it.data}) })
}

// Serve registers r for requests to subject.
func (b *InProc) Serve(subject string, r Responder) (Subscription, error) {
	return b.add(subject, true, func(it item) { r(NewRequest(it.subject, it.data, it.reply)) })
}

// Request sends data to one responder of subject (round robin) and waits for its reply.
func (b *InProc) Request(ctx context.Context, subject string, data []byte) ([]byte, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.hub.mu.RLock()
	rs := b.hub.responders[subject]
	var s *inprocSub
	if len(rs) > 0 {
		s = rs[b.hub.next.Add(1)%uint64(len(rs))]
	}
	b.hub.mu.RUnlock()
	if s == nil {
		return nil, ErrNoResponders
	}
	answer := make(chan []byte, 1)
	var once atomic.Bool
	reply := func(d []byte) error {
		if once.Swap(true) {
			return fmt.Errorf("bus: request on %s already answered", subject)
		}
		answer <- slices.Clone(d)
		return nil
	}
	if !s.push(item{subject: subject, data: slices.Clone(data), reply: reply}) {
		return nil, ErrNoResponders
	}
	select {
	case d := <-answer:
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Ping succeeds while the bus is open.
func (b *InProc) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.Health()
}

// Health is nil until Close.
func (b *InProc) Health() error {
	if b.isClosed() {
		return ErrClosed
	}
	return nil
}

// Close stops this bus's subscriptions after they delivered what was queued for them,
// bounded by ctx (with an ended ctx it drops what is left).
func (b *InProc) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]*inprocSub, 0, len(b.mine))
	for s := range b.mine {
		subs = append(subs, s)
	}
	clear(b.mine)
	b.mu.Unlock()
	for _, s := range subs {
		s.stop(ctx.Err() == nil)
	}
	for _, s := range subs {
		select {
		case <-s.done:
		case <-ctx.Done():
			for _, s := range subs {
				s.stop(false)
			}
			return fmt.Errorf("bus: close: %w", ctx.Err())
		}
	}
	return nil
}

func (b *InProc) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func (b *InProc) add(subject string, responder bool, deliver func(item)) (Subscription, error) {
	if subject == "" {
		return nil, fmt.Errorf("bus: empty subject")
	}
	s := &inprocSub{conn: b, subject: subject, responder: responder, deliver: deliver,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	b.mine[s] = struct{}{}
	b.mu.Unlock()
	h := b.hub
	h.mu.Lock()
	m := h.subs
	if responder {
		m = h.responders
	}
	m[subject] = append(slices.Clip(m[subject]), s)
	h.mu.Unlock()
	go s.run()
	return s, nil
}

// Unsubscribe stops deliveries at once; the message being handled finishes.
func (s *inprocSub) Unsubscribe() error {
	s.conn.mu.Lock()
	delete(s.conn.mine, s)
	s.conn.mu.Unlock()
	s.stop(false)
	return nil
}

// stop removes the subscription from the hub; with drain the queued items are still
// delivered, without it they are dropped (the one being handled finishes).
func (s *inprocSub) stop(drain bool) {
	if !s.stopped.Swap(true) {
		h := s.conn.hub
		h.mu.Lock()
		m := h.subs
		if s.responder {
			m = h.responders
		}
		list := slices.DeleteFunc(slices.Clone(m[s.subject]), func(x *inprocSub) bool { return x == s })
		if len(list) == 0 {
			delete(m, s.subject)
		} else {
			m[s.subject] = list
		}
		h.mu.Unlock()
	}
	if !drain {
		s.abort.Store(true)
	}
	s.mu.Lock()
	s.closed = true
	if !drain {
		s.queue = nil
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// push queues it unless the subscription is closed or full.
func (s *inprocSub) push(it item) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	if s.pending >= MaxPending {
		s.mu.Unlock()
		s.conn.dropped.Add(1)
		return false
	}
	s.queue = append(s.queue, it)
	s.pending++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// run delivers the queue in order until the subscription is closed and empty.
func (s *inprocSub) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		batch, closed := s.queue, s.closed
		s.queue = nil
		s.mu.Unlock()
		for _, it := range batch {
			if s.abort.Load() {
				return
			}
			s.deliver(it)
			s.mu.Lock()
			s.pending--
			s.mu.Unlock()
		}
		if len(batch) > 0 {
			continue
		}
		if closed {
			return
		}
		<-s.wake
	}
}
