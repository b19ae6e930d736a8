package presence

import "github.com/moltzap/moltzap-go/generated/protocol"

// maxSpare bounds the capacity of the recycled event buffer.
const maxSpare = 256

// Kinds of queued events.
const (
	eventChange   = iota // the aggregated status changed: emit
	eventLocal           // this node's contribution changed: local
	eventSnapshot        // a Snapshot call: snapshot(statuses)
)

// event is one queued status change or snapshot.
type event struct {
	kind     int
	agentID  protocol.AgentID
	status   protocol.PresenceStatus
	subs     []string
	snapshot func(map[protocol.AgentID]protocol.PresenceStatus)
	statuses map[protocol.AgentID]protocol.PresenceStatus
}

// unlockAndFlush releases e.mu, first delivering the queued events unless
// another goroutine is already delivering them (that goroutine then picks up
// the new ones too, which keeps the global order). The caller holds e.mu.
//
// If emit panics, the draining flag is reset and the panic propagates; the
// events of the interrupted batch are lost, later ones are delivered
// normally.
func (e *Engine) unlockAndFlush() {
	if e.draining || len(e.pending) == 0 {
		e.mu.Unlock()
		return
	}
	e.draining = true
	defer func() {
		e.draining = false
		e.mu.Unlock()
	}()
	for len(e.pending) > 0 {
		batch := e.pending
		e.pending, e.spare = e.spare, nil
		e.deliver(batch)
		if cap(batch) <= maxSpare && e.spare == nil {
			clear(batch)
			e.spare = batch[:0]
		}
	}
}

// deliver hands batch to emit without holding e.mu. It is called and returns
// (also when emit panics) with e.mu held.
func (e *Engine) deliver(batch []event) {
	e.mu.Unlock()
	defer e.mu.Lock()
	for _, ev := range batch {
		switch ev.kind {
		case eventLocal:
			e.local(ev.agentID, ev.status)
		case eventSnapshot:
			ev.snapshot(ev.statuses)
		default:
			e.emit(ev.agentID, ev.status, ev.subs)
		}
	}
}
