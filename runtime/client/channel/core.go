package channel

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// ErrRunning is returned by Run while another Run of the same core is active.
var ErrRunning = errors.New("moltzap channel: core is already running")

// Core is the channel core of one service. Create it with New, drive it with Run.
type Core struct {
	svc     *service.Service
	conn    Conn
	handler Handler
	opts    Options
	log     *slog.Logger
	now     func() time.Time

	mu       sync.Mutex
	queue    []*item
	parked   map[string][]*item // per conversation; the front is retried first
	closed   map[string]bool    // archived conversations
	clocks   map[string]*clockState
	arrivals uint64
	wake     chan struct{}

	relMu   sync.Mutex
	ring    *releaseRing
	waiters map[string]chan protocol.DispatchReleaseNotification

	running atomic.Bool
	unsubs  []func()
	once    sync.Once
}

// item is one inbound message waiting for dispatch.
type item struct {
	taskID     string
	msg        protocol.Message
	attempt    int64
	receivedAt time.Time
	clock      protocol.LogicalClock
	arrival    uint64 // enqueue order
}

// New returns a core over svc that dispatches granted messages to handler. c carries the
// admission calls and the dispatch/release notifications; it may be nil when
// opts.Admission is false. The core subscribes to the service right away, so messages
// queue up until Run consumes them.
func New(svc *service.Service, c Conn, handler Handler, opts Options) *Core {
	opts = opts.withDefaults()
	core := &Core{
		svc:     svc,
		conn:    c,
		handler: handler,
		opts:    opts,
		log:     opts.Logger,
		now:     time.Now,
		parked:  map[string][]*item{},
		closed:  map[string]bool{},
		clocks:  map[string]*clockState{},
		wake:    make(chan struct{}, 1),
		waiters: map[string]chan protocol.DispatchReleaseNotification{},
	}
	core.ring = newReleaseRing(opts.ReleaseRingSize, opts.ReleaseRingTTL, func() time.Time { return core.now() }, core.log)
	core.unsubs = append(core.unsubs,
		svc.Messages(core.enqueue),
		svc.OnConversationArchived(func(ev service.ConversationEvent) { core.closeConversation(ev.ConversationID) }),
		svc.OnConversationUnarchived(func(ev service.ConversationEvent) { core.reopenConversation(ev.ConversationID) }),
	)
	if c != nil {
		core.unsubs = append(core.unsubs, c.OnAny(core.onNotification))
	}
	return core
}

// Close unsubscribes the core from the service and the client. It does not stop Run
// (cancel its context for that). Idempotent.
func (c *Core) Close() {
	c.once.Do(func() {
		for _, u := range c.unsubs {
			u()
		}
	})
}

// Run consumes the inbound queue until ctx ends, one item at a time, and returns
// ctx.Err(). Queued and parked work is dropped when it returns. Only one Run may be
// active at a time (ErrRunning otherwise).
func (c *Core) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer c.running.Store(false)
	defer c.dropAll()
	for {
		it, err := c.next(ctx)
		if err != nil {
			return err
		}
		c.process(ctx, it)
	}
}

// enqueue is the service's message callback: it stamps m and appends it to the queue,
// unless its conversation is closed.
func (c *Core) enqueue(taskID string, m protocol.Message) {
	conv := string(m.ConversationID)
	archived := c.svc.IsConversationArchived(conv)
	c.mu.Lock()
	if archived || c.closed[conv] {
		c.mu.Unlock()
		c.log.Info("moltzap channel: dropping inbound message for closed conversation",
			"messageId", m.ID, "conversationId", conv)
		return
	}
	c.arrivals++
	c.queue = append(c.queue, &item{
		taskID: taskID, msg: m, receivedAt: c.now(), clock: c.observe(m), arrival: c.arrivals,
	})
	c.mu.Unlock()
	c.signal()
}

func (c *Core) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// next waits for the front of the queue.
func (c *Core) next(ctx context.Context) (*item, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			it := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return it, nil
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.wake:
		}
	}
}

// closeConversation marks conv closed and drops its parked and queued items.
func (c *Core) closeConversation(conv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed[conv] = true
	dropped := len(c.parked[conv])
	delete(c.parked, conv)
	kept := c.queue[:0]
	for _, it := range c.queue {
		if string(it.msg.ConversationID) == conv {
			dropped++
			continue
		}
		kept = append(kept, it)
	}
	clear(c.queue[len(kept):])
	c.queue = kept
	c.log.Info("moltzap channel: conversation closed", "conversationId", conv, "dropped", dropped)
}

// reopenConversation clears the closed mark of conv.
func (c *Core) reopenConversation(conv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.closed, conv)
}

// isClosed reports whether conv is closed (by event or in the service's cache).
func (c *Core) isClosed(conv string) bool {
	if c.svc.IsConversationArchived(conv) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed[conv]
}

// dropAll discards the queued and parked work (Run ended).
func (c *Core) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue)
	for _, p := range c.parked {
		n += len(p)
	}
	c.queue = nil
	c.parked = map[string][]*item{}
	if n > 0 {
		c.log.Info("moltzap channel: core stopped; dropping queued work", "dropped", n)
	}
}

// onNotification routes dispatch/release frames to their waiter or the ring.
func (c *Core) onNotification(n protocol.Notification) {
	rel, ok := n.(protocol.DispatchReleaseNotification)
	if !ok {
		return
	}
	c.relMu.Lock()
	defer c.relMu.Unlock()
	if ch, ok := c.waiters[string(rel.LeaseID)]; ok {
		delete(c.waiters, string(rel.LeaseID))
		ch <- rel // buffered; never blocks
		return
	}
	c.ring.put(rel)
}
