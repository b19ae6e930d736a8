package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Peer is one end of a JSON-RPC connection. It is safe for concurrent use.
// Create it with NewPeer; release it with Close and, to wait for inbound
// handlers, Wait.
type Peer struct {
	sender      Sender
	handler     Handler
	log         *slog.Logger // Options.Logger; see logger
	logAttrs    []any
	role        Role
	prefix      string
	callTimeout time.Duration
	onMalformed func(count int)
	maxWorkers  int
	shared      *Workers // Options.Workers; nil: goroutines of our own

	nextID atomic.Uint64
	ctr    counters

	// slots holds one token per queued (not yet started) inbound request.
	slots chan struct{}
	// done is closed by Close.
	done chan struct{}
	// drained is closed once the Peer is closed and no handler runs.
	drained chan struct{}

	mu       sync.Mutex
	closed   bool
	closeErr error // wraps ErrClosed; set when closed
	pending  map[string]chan callResult
	queue    fifo
	running  *runningCall // the calls whose handler runs, cancelled by Close
	workers  int          // running worker goroutines
	idle     int          // workers waiting for work (lingering)
	// wake hands queued work to a lingering worker; its capacity is the worker limit, so a
	// send under mu never blocks.
	wake chan struct{}
}

// NewPeer returns a Peer that sends through s and dispatches inbound frames
// to h. A nil h answers every request with -32601 and ignores
// notifications; a nil s makes every send fail.
func NewPeer(s Sender, h Handler, opts Options) *Peer {
	o := opts.withDefaults()
	if s == nil {
		s = nilSender{}
	}
	if h == nil {
		h = HandlerFuncs{}
	}
	return &Peer{
		sender:      s,
		handler:     h,
		log:         o.Logger,
		logAttrs:    o.LogAttrs,
		role:        o.Role,
		prefix:      o.IDPrefix,
		callTimeout: o.CallTimeout,
		onMalformed: o.OnMalformed,
		maxWorkers:  o.MaxConcurrentInbound,
		shared:      o.Workers,
		slots:       make(chan struct{}, o.MaxQueuedInbound),
		wake:        make(chan struct{}, o.MaxConcurrentInbound),
		done:        make(chan struct{}),
		drained:     make(chan struct{}),
		pending:     make(map[string]chan callResult),
	}
}

// nilSender is used when NewPeer is given no Sender.
type nilSender struct{}

func (nilSender) Send([]byte) error { return errors.New("rpc: no sender") }

// Close shuts the Peer down: every pending call fails with ErrClosed
// (wrapping err when it is not nil), queued inbound requests are dropped,
// contexts of running handlers are cancelled, and later calls, sends and
// inbound frames are refused or ignored. Close does not wait for running
// handlers; use Wait for that. Close is idempotent; only the first err is
// kept.
func (p *Peer) Close(err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.closeErr = ErrClosed
	if err != nil {
		p.closeErr = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	pending := p.pending
	p.pending = nil
	p.queue.reset()
	if p.workers == 0 {
		close(p.drained)
	}
	var cancels []context.CancelFunc
	for r := p.running; r != nil; r = r.next {
		cancels = append(cancels, r.cancel)
	}
	p.running = nil
	p.mu.Unlock()

	close(p.done)
	for _, cancel := range cancels {
		cancel()
	}
	for _, ch := range pending {
		ch <- callResult{closed: true} // buffered; each entry is completed once
	}
}

// logger is Options.Logger with Options.LogAttrs, made when a line is logged.
func (p *Peer) logger() *slog.Logger {
	if len(p.logAttrs) == 0 {
		return p.log.With("rpc_role", p.role.String(), "rpc_prefix", p.prefix)
	}
	return p.log.With(p.logAttrs...).With("rpc_role", p.role.String(), "rpc_prefix", p.prefix)
}

// runningCall is an inbound request whose handler runs: Close cancels its context. The
// Peer links them in a list (no context of its own to derive them from, which every idle
// connection would keep).
type runningCall struct {
	cancel     context.CancelFunc
	prev, next *runningCall
}

// track links r unless the Peer is closed, and reports whether it did.
func (p *Peer) track(r *runningCall) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	r.next = p.running
	if r.next != nil {
		r.next.prev = r
	}
	p.running = r
	return true
}

// untrack unlinks r (Close drops the whole list: nothing to do once closed).
func (p *Peer) untrack(r *runningCall) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		p.running = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	}
}

// Wait blocks until the Peer is closed and every inbound handler has
// returned, or ctx ends.
func (p *Peer) Wait(ctx context.Context) error {
	select {
	case <-p.drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rpc: wait for inbound handlers: %w", ctx.Err())
	}
}

// Done returns a channel that is closed when Close is called.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err returns nil while the Peer is open and the close error (wrapping
// ErrClosed) after Close.
func (p *Peer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeErr
}

// isClosed reports whether Close has been called.
func (p *Peer) isClosed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
