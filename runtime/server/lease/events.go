package lease

import "github.com/moltzap/moltzap-go/generated/protocol"

// Events receives what the registry did. Every call is made without the
// registry lock held; the calls for one lease come in the order its
// transitions happened (in fact all calls are totally ordered).
type Events interface {
	// Released is called exactly once per resolved lease (never for an
	// ABANDONED one): the server sends dispatch/release {dispatchId, leaseId,
	// verdict, leaseTimeoutMs?} to l.RecipientConnID. leaseTimeoutMs is set
	// for grants only.
	Released(l Lease, verdict protocol.DispatchAdmissionDecision, leaseTimeoutMs *int64)
	// Expired is called when a GRANTED or HOLD lease expires (TTL or
	// recipient disconnect): dispatches/expired to l.ModeratorConnID.
	Expired(l Lease)
	// Consumed is called when a CLAIMED lease is consumed:
	// dispatches/consumed to l.ModeratorConnID.
	Consumed(l Lease)
	// ActivityChanged is called whenever ActiveForConn(connID) changed (a
	// lease of that recipient connection entered or left GRANTED/CLAIMED);
	// presence re-derives the connection's status.
	ActivityChanged(connID string)
	// Changed is called after every state change of a lease, with the
	// lease as it now is: PENDING when it is minted, then each state it
	// reaches (read-only views follow leases through it).
	Changed(l Lease)
}

// nopEvents discards every event.
type nopEvents struct{}

// Released discards the event.
func (nopEvents) Released(Lease, protocol.DispatchAdmissionDecision, *int64) {}

// Expired discards the event.
func (nopEvents) Expired(Lease) {}

// Consumed discards the event.
func (nopEvents) Consumed(Lease) {}

// ActivityChanged discards the event.
func (nopEvents) ActivityChanged(string) {}

// Changed discards the event.
func (nopEvents) Changed(Lease) {}

// eventKind selects the Events method of a queued event.
type eventKind uint8

const (
	evReleased eventKind = iota + 1
	evExpired
	evConsumed
	evActivity
	evChanged
)

// maxSpareEvents bounds the queue buffer kept for reuse after a burst.
const maxSpareEvents = 1024

// event is one queued Events call.
type event struct {
	kind      eventKind
	lease     Lease
	verdict   protocol.DispatchAdmissionDecision
	timeoutMs *int64
	connID    string
}

// deliver makes the Events call for ev.
func (c config) deliver(ev *event) {
	switch ev.kind {
	case evReleased:
		c.events.Released(ev.lease, ev.verdict, ev.timeoutMs)
	case evExpired:
		c.events.Expired(ev.lease)
	case evConsumed:
		c.events.Consumed(ev.lease)
	case evActivity:
		c.events.ActivityChanged(ev.connID)
	case evChanged:
		c.events.Changed(ev.lease)
	}
}

// unlockAndFlush releases r.mu (which the caller holds) and delivers the
// queued events unless another goroutine is already delivering them, in
// which case that goroutine delivers them after the ones before them.
func (r *Registry) unlockAndFlush() {
	if r.delivering || len(r.queue) == 0 {
		r.mu.Unlock()
		return
	}
	r.delivering = true
	r.deliverLoop()
}

// deliverLoop is entered with r.mu held and r.delivering set, drains the
// queue batch by batch outside the lock and returns with r.mu released. A
// panicking handler leaves the registry consistent: the events after the
// failed one go back to the front of the queue, delivering is reset, and
// they go out with the next transition.
func (r *Registry) deliverLoop() {
	var rest []event // undelivered tail of the current batch
	held := true
	defer func() {
		if !held {
			r.mu.Lock()
			r.queue = append(rest, r.queue...)
		}
		r.delivering = false
		r.mu.Unlock()
	}()
	for len(r.queue) > 0 {
		batch := r.queue
		r.queue = r.spare[:0]
		r.spare = nil
		r.mu.Unlock()
		held = false
		for i := range batch {
			rest = batch[i+1:]
			r.cfg.deliver(&batch[i])
		}
		rest = nil
		clear(batch)
		r.mu.Lock()
		held = true
		if cap(batch) <= maxSpareEvents {
			r.spare = batch[:0]
		}
	}
}
