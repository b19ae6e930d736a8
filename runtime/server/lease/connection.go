package lease

import "github.com/moltzap/moltzap-go/generated/protocol"

// ConnectionClosed applies a recipient disconnect to every lease bound to
// recipient connection connID: PENDING → ABANDONED (no event; a later
// Resolve fails with ErrNotPending), GRANTED and HOLD → EXPIRED
// (Events.Expired), CLAIMED unchanged (the in-flight send owns it; an
// Unclaim then expires it). Leases whose moderator connection closed are
// not affected: their resolution comes from the server's fail-closed path.
func (r *Registry) ConnectionClosed(connID string) {
	r.mu.Lock()
	for e := range r.byConn[connID] {
		switch e.lease.State {
		case protocol.LeaseStatePENDING:
			r.moveLocked(e, protocol.LeaseStateABANDONED, nil)
		case protocol.LeaseStateGRANTED, protocol.LeaseStateHOLD:
			r.expireLocked(e)
		case protocol.LeaseStateCLAIMED:
			e.recipientGone = true
		}
	}
	r.unlockAndFlush()
}
