package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

// callResult completes one pending call.
type callResult struct {
	result json.RawMessage
	rpcErr *wire.Error
	closed bool // the Peer closed first
}

// Call sends a request and waits for its response. The id is
// "<prefix>-<n>". It returns the raw result on success; a *wire.Error
// (unwrapped) when the peer answered with an error response; an error
// wrapping ErrTimeout when Options.CallTimeout elapsed first (it applies
// only when ctx has no earlier deadline); ctx.Err() wrapped when ctx ended
// first; an error wrapping ErrClosed when the Peer is or becomes closed; or
// the Sender's error wrapped. params may be nil (omitted on the wire).
func (p *Peer) Call(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rpc: call %q: %w", method, err)
	}
	id := p.prefix + "-" + strconv.FormatUint(p.nextID.Add(1), 10)
	ch := make(chan callResult, 1)

	p.mu.Lock()
	if p.closed {
		err := p.closeErr
		p.mu.Unlock()
		return nil, fmt.Errorf("rpc: call %q: %w", method, err)
	}
	p.pending[id] = ch
	p.mu.Unlock()

	if err := p.sender.Send(wire.EncodeRequest(id, method, params)); err != nil {
		p.forget(id)
		return nil, fmt.Errorf("rpc: send %q request: %w", method, err)
	}
	p.ctr.requestsOut.Add(1)

	var timeout <-chan time.Time
	if p.callTimeout > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > p.callTimeout {
			t := time.NewTimer(p.callTimeout)
			defer t.Stop()
			timeout = t.C
		}
	}

	select {
	case r := <-ch:
		return p.finish(method, r)
	case <-ctx.Done():
		if r, ok := p.forgetOrTake(id, ch); ok {
			return p.finish(method, r)
		}
		return nil, fmt.Errorf("rpc: call %q: %w", method, ctx.Err())
	case <-timeout:
		if r, ok := p.forgetOrTake(id, ch); ok {
			return p.finish(method, r)
		}
		return nil, fmt.Errorf("rpc: call %q after %v: %w", method, p.callTimeout, ErrTimeout)
	}
}

// finish turns a delivered result into Call's return values.
func (p *Peer) finish(method string, r callResult) (json.RawMessage, error) {
	switch {
	case r.closed:
		return nil, fmt.Errorf("rpc: call %q: %w", method, p.Err())
	case r.rpcErr != nil:
		return nil, r.rpcErr
	default:
		return r.result, nil
	}
}

// forget removes a pending entry.
func (p *Peer) forget(id string) {
	p.mu.Lock()
	delete(p.pending, id)
	p.mu.Unlock()
}

// forgetOrTake removes the pending entry for id. If it was already removed,
// a result is on its way (or already in ch); it is taken and returned so a
// response that raced the timeout is not lost.
func (p *Peer) forgetOrTake(id string, ch chan callResult) (callResult, bool) {
	p.mu.Lock()
	_, ok := p.pending[id]
	if ok {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if ok {
		return callResult{}, false
	}
	return <-ch, true
}

// Notify sends a notification. It fails with an error wrapping ErrClosed
// after Close, or with the Sender's error.
func (p *Peer) Notify(method string, params json.RawMessage) error {
	if p.isClosed() {
		return fmt.Errorf("rpc: notify %q: %w", method, p.Err())
	}
	if err := p.sender.Send(wire.EncodeNotification(method, params)); err != nil {
		return fmt.Errorf("rpc: send %q notification: %w", method, err)
	}
	p.ctr.notificationsOut.Add(1)
	return nil
}

// SendRaw sends an already encoded frame, e.g. a notification encoded once
// for fan-out to many peers. b must not be modified afterwards. It fails
// with an error wrapping ErrClosed after Close, or with the Sender's error.
func (p *Peer) SendRaw(b []byte) error {
	if p.isClosed() {
		return fmt.Errorf("rpc: send raw frame: %w", p.Err())
	}
	if err := p.sender.Send(b); err != nil {
		return fmt.Errorf("rpc: send raw frame: %w", err)
	}
	p.ctr.rawOut.Add(1)
	return nil
}
