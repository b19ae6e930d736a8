package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

// HandleFrame processes one inbound frame. The transport read loop calls it
// for every message, in arrival order; ctx should be the connection's
// context (handler contexts derive from it). b is not retained after
// HandleFrame returns.
//
// Requests are queued for the Handler (bounded concurrency, FIFO) and
// answered with the handler's result or error. Responses complete the
// matching pending Call; responses with a null or unknown id are ignored.
// Notifications are delivered synchronously in the client role. Bad frames
// are answered (server role) or dropped (client role); both count them.
// HandleFrame blocks only when the inbound queue is full (see
// Options.MaxQueuedInbound). Frames arriving after Close are ignored.
func (p *Peer) HandleFrame(ctx context.Context, b []byte) {
	if p.isClosed() {
		return
	}
	f, perr := wire.Parse(b)
	if perr != nil {
		p.badFrame(f, *perr, "unparseable or invalid frame")
		return
	}
	switch f.Kind {
	case wire.KindRequest:
		p.ctr.requestsIn.Add(1)
		p.enqueue(inboundJob{ctx: ctx, id: f.ID, method: f.Method, params: bytes.Clone(f.Params)})
	case wire.KindNotification:
		if p.role == RoleServer {
			// REFERENCE 2.4: only the server sends notifications.
			p.badFrame(wire.Frame{}, wire.InvalidRequest(), "notification from client")
			return
		}
		p.ctr.notificationsIn.Add(1)
		p.notify(ctx, f.Method, f.Params)
	case wire.KindResponse:
		p.complete(f)
	}
}

// badFrame counts and logs a bad frame and, in the server role, answers it
// with e using the frame's id when one was extracted.
func (p *Peer) badFrame(f wire.Frame, e wire.Error, reason string) {
	n := p.ctr.malformed.Add(1)
	if n == 1 || n%50 == 0 {
		p.logger().Warn("rpc: bad inbound frame", "reason", reason, "code", e.Code, "count", n)
	}
	if p.onMalformed != nil {
		p.onMalformed(int(n))
	}
	if p.role != RoleServer {
		return
	}
	var id *string
	if f.HasID {
		id = &f.ID
	}
	p.reply(wire.EncodeError(id, e))
}

// complete hands a response to the pending call with its id.
func (p *Peer) complete(f wire.Frame) {
	if !f.HasID {
		p.ctr.unmatched.Add(1)
		p.logger().Debug("rpc: ignored response with null id", "error", f.Error)
		return
	}
	p.mu.Lock()
	ch, ok := p.pending[f.ID]
	if ok {
		delete(p.pending, f.ID)
	}
	p.mu.Unlock()
	if !ok {
		p.ctr.unmatched.Add(1)
		p.logger().Debug("rpc: no pending call matched response", "id", f.ID)
		return
	}
	p.ctr.responsesIn.Add(1)
	var r callResult
	if f.Error != nil {
		e := *f.Error
		e.Data = bytes.Clone(e.Data)
		r.rpcErr = &e
	} else {
		r.result = bytes.Clone(f.Result)
	}
	ch <- r // buffered; the entry was removed from pending, so only we send
}

// notify delivers a notification, containing handler panics.
func (p *Peer) notify(ctx context.Context, method string, params json.RawMessage) {
	defer func() {
		if v := recover(); v != nil {
			p.logger().Error("rpc: notification handler panicked", "method", method, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	p.handler.HandleNotification(ctx, method, params)
}

// enqueue queues a request for a handler worker, starting one if fewer than
// MaxConcurrentInbound run. It blocks while the queue is full.
func (p *Peer) enqueue(j inboundJob) {
	select {
	case p.slots <- struct{}{}:
	default:
		p.logger().Warn("rpc: inbound queue full; applying back-pressure", "method", j.method, "id", j.id)
		select {
		case p.slots <- struct{}{}:
		case <-j.ctx.Done():
			p.logger().Warn("rpc: dropped inbound request: context ended while queue full", "method", j.method, "id", j.id)
			return
		case <-p.done:
			return
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.queue.push(j)
	switch {
	case p.idle > 0: // a lingering worker takes it: no new goroutine, no stack to grow again
		p.idle--
		p.wake <- struct{}{}
	case p.workers < p.maxWorkers:
		p.workers++
		if p.shared != nil {
			p.shared.Go(p.worker)
		} else {
			go p.worker()
		}
	}
	p.mu.Unlock()
}

// workerLinger is how long an idle worker waits for the next request before it exits. A
// connection sending requests back to back keeps a warm goroutine; an idle connection
// holds none.
const workerLinger = 250 * time.Millisecond

// worker runs queued requests until the queue stays empty for workerLinger (with shared
// Workers: until it is empty) or the Peer closes.
func (p *Peer) worker() {
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	for {
		p.mu.Lock()
		j, ok := p.queue.pop()
		if p.closed || (!ok && !p.waitForWork(&linger)) {
			p.workers--
			if p.closed && p.workers == 0 {
				close(p.drained)
			}
			p.mu.Unlock()
			return
		}
		if !ok { // woken with work queued for us
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		<-p.slots
		p.run(j)
	}
}

// waitForWork is called with mu held and an empty queue; it lingers (mu released) until
// enqueue hands work over, the linger ends or the Peer closes. It returns with mu held,
// reporting whether the worker should look at the queue again.
func (p *Peer) waitForWork(linger **time.Timer) bool {
	if p.shared != nil {
		return false // the goroutine lingers in the shared set, for any Peer
	}
	p.idle++
	p.mu.Unlock()
	if *linger == nil {
		*linger = time.NewTimer(workerLinger)
	} else {
		(*linger).Reset(workerLinger)
	}
	select {
	case <-p.wake: // enqueue already took us off the idle count
		(*linger).Stop()
		p.mu.Lock()
		return true
	case <-(*linger).C:
	case <-p.done:
		(*linger).Stop()
	}
	p.mu.Lock()
	select {
	case <-p.wake: // enqueue handed us work while we were giving up
		return true
	default:
		p.idle--
		return false
	}
}

// run calls the handler for one request and sends the response.
func (p *Peer) run(j inboundJob) {
	ctx, cancel := context.WithCancel(j.ctx)
	r := &runningCall{cancel: cancel}
	if !p.track(r) {
		cancel() // closed already: the handler sees a cancelled context
	}
	result, err := p.invoke(ctx, j)
	p.untrack(r)
	cancel()
	if p.isClosed() {
		return
	}
	var msg []byte
	if err != nil {
		var coded wire.Coded
		if !errors.As(err, &coded) && !errors.Is(err, errHandlerPanic) {
			p.logger().Error("rpc: request handler failed", "method", j.method, "id", j.id, "error", err)
		}
		msg = wire.EncodeError(&j.id, wire.ToError(err))
	} else {
		msg = wire.EncodeResult(j.id, result)
	}
	if p.reply(msg) {
		p.ctr.responsesOut.Add(1)
	}
}

// errHandlerPanic marks the error of a handler that panicked (already
// logged with its stack).
var errHandlerPanic = errors.New("rpc: handler panicked")

// invoke calls the handler, turning a panic into an error.
func (p *Peer) invoke(ctx context.Context, j inboundJob) (result json.RawMessage, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.logger().Error("rpc: request handler panicked", "method", j.method, "id", j.id, "panic", v, "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("%w: %q: %v", errHandlerPanic, j.method, v)
		}
	}()
	return p.handler.HandleRequest(ctx, j.method, j.params)
}

// reply sends a response frame, logging a failure.
func (p *Peer) reply(msg []byte) bool {
	if err := p.sender.Send(msg); err != nil {
		p.logger().Debug("rpc: sending response failed", "error", err)
		return false
	}
	return true
}
