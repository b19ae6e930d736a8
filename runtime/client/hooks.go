package client

import (
	"runtime/debug"
	"sync"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// OnDisconnect registers fn to be called once per unexpected disconnect, after
// Options.OnDisconnect and with the same argument, on the client's connection goroutine.
// It lets a layer built on an existing client (a service) observe disconnects.
func (c *Client) OnDisconnect(fn func(CloseInfo)) (cancel func()) {
	return c.disconnectHooks.add(fn)
}

// OnReconnect registers fn to be called once per successful reconnect, after
// Options.OnReconnect and with the same argument, on the client's connection goroutine.
func (c *Client) OnReconnect(fn func(protocol.HelloOk)) (cancel func()) {
	return c.reconnectHooks.add(fn)
}

// hooks is an ordered, concurrency-safe list of callbacks.
type hooks[T any] struct {
	mu   sync.Mutex
	next uint64
	fns  []hook[T]
}

type hook[T any] struct {
	id uint64
	fn func(T)
}

func (h *hooks[T]) add(fn func(T)) func() {
	if fn == nil {
		return func() {}
	}
	h.mu.Lock()
	h.next++
	id := h.next
	h.fns = append(h.fns, hook[T]{id: id, fn: fn})
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, x := range h.fns {
			if x.id == id {
				h.fns = append(h.fns[:i:i], h.fns[i+1:]...)
				return
			}
		}
	}
}

func (h *hooks[T]) snapshot() []func(T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]func(T), len(h.fns))
	for i, x := range h.fns {
		out[i] = x.fn
	}
	return out
}

// safely runs a user callback, recovering and logging a panic.
func (c *Client) safely(what string, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("moltzap client: "+what+" panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn()
}
