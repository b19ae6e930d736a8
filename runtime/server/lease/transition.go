package lease

import (
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// moveLocked sets e's state to `to` and does the bookkeeping every
// transition shares: queue main (if any) with the post-transition snapshot,
// keep the activity count and ActivityChanged in step, and on a terminal
// state drop the TTL, leave the per-connection index and start retention.
func (r *Registry) moveLocked(e *entry, to protocol.LeaseState, main *event) {
	from := e.lease.State
	e.lease.State = to
	if main != nil {
		main.lease = e.lease
		r.queue = append(r.queue, *main)
	}
	r.queue = append(r.queue, event{kind: evChanged, lease: e.lease})
	conn := e.lease.RecipientConnID
	if wasActive, nowActive := isActive(from), isActive(to); wasActive != nowActive {
		if nowActive {
			r.active[conn]++
		} else if r.active[conn] <= 1 {
			delete(r.active, conn)
		} else {
			r.active[conn]--
		}
		r.queue = append(r.queue, event{kind: evActivity, connID: conn})
	}
	if isTerminal(to) {
		if conns := r.byConn[conn]; conns != nil {
			delete(conns, e)
			if len(conns) == 0 {
				delete(r.byConn, conn)
			}
		}
		e.removeAt = time.Now().Add(r.cfg.retention)
		r.scheduleLocked(e, dueRemoval, e.removeAt)
	}
}

// startTTLLocked schedules e's expiry after d.
func (r *Registry) startTTLLocked(e *entry, d time.Duration) {
	r.scheduleLocked(e, dueTTL, time.Now().Add(d))
}

// expireLocked moves a GRANTED or HOLD lease to EXPIRED and queues Expired;
// other states are left alone (TTL never applies to CLAIMED).
func (r *Registry) expireLocked(e *entry) {
	switch e.lease.State {
	case protocol.LeaseStateGRANTED, protocol.LeaseStateHOLD:
		e.lease.ExpiredAt = r.cfg.clock()
		r.moveLocked(e, protocol.LeaseStateEXPIRED, &event{kind: evExpired})
	}
}

// requireLocked returns an *InvalidStateError unless e is in state want.
func requireLocked(e *entry, want protocol.LeaseState) error {
	if e.lease.State == want {
		return nil
	}
	return &InvalidStateError{
		LeaseID:  e.lease.LeaseID,
		State:    e.lease.State,
		Expected: []protocol.LeaseState{want},
	}
}
