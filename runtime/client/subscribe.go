package client

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// On subscribes fn to the notifications of type N (for instance
// protocol.MessagesReceivedNotification). fn runs on the client's single notification
// goroutine in arrival order, together with every other subscriber, so it must not block
// for long; it may call the client. Subscriptions survive reconnects and end with Close.
// cancel removes the subscription: once it returns fn is not called again, apart from a
// delivery already under way. A panic in fn is recovered and logged.
func On[N protocol.Notification](c *Client, fn func(N)) (cancel func()) {
	return c.subs.add(func(n protocol.Notification) {
		if v, ok := n.(N); ok {
			fn(v)
		}
	})
}

// OnAny subscribes fn to every notification, with the same rules as On.
func (c *Client) OnAny(fn func(protocol.Notification)) (cancel func()) {
	return c.subs.add(fn)
}

// subscription is one registered callback.
type subscription struct {
	fn        func(protocol.Notification)
	cancelled atomic.Bool
}

// registry holds the subscriptions in registration order. The slice is copied on write so
// that delivery reads a snapshot without holding the lock.
type registry struct {
	log  *slog.Logger
	mu   sync.Mutex
	subs atomic.Pointer[[]*subscription]
}

func newRegistry(log *slog.Logger) *registry {
	r := &registry{log: log}
	r.subs.Store(&[]*subscription{})
	return r
}

// add registers fn and returns its idempotent cancel function.
func (r *registry) add(fn func(protocol.Notification)) func() {
	s := &subscription{fn: fn}
	if fn == nil {
		return func() {}
	}
	r.mu.Lock()
	old := *r.subs.Load()
	next := make([]*subscription, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	r.subs.Store(&next)
	r.mu.Unlock()
	return func() { r.remove(s) }
}

func (r *registry) remove(s *subscription) {
	if s.cancelled.Swap(true) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.subs.Load()
	next := make([]*subscription, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	r.subs.Store(&next)
}

// deliver calls every live subscription with n, recovering panics.
func (r *registry) deliver(n protocol.Notification) {
	for _, s := range *r.subs.Load() {
		if s.cancelled.Load() {
			continue
		}
		r.call(s, n)
	}
}

func (r *registry) call(s *subscription, n protocol.Notification) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("moltzap client: notification subscriber panicked",
				"method", n.Method(), "panic", p, "stack", string(debug.Stack()))
		}
	}()
	s.fn(n)
}
