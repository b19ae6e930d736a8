package lease

import (
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Resolve applies the admission verdict to a PENDING lease, exactly once
// (first writer wins): grant → GRANTED with the verdict's leaseTimeoutMs or
// DefaultTTL (reported back in the verdict, Q2); deny → DENIED; hold → HOLD
// for HoldTTL (Q3). Events.Released is called once for the resolution.
//
// Errors: ErrInvalidVerdict (lease left PENDING), ErrNotFound, and
// ErrNotPending when the lease was already resolved or ABANDONED (its
// recipient disconnected while the verdict was in flight); no event is
// emitted on error.
func (r *Registry) Resolve(leaseID protocol.LeaseID, verdict protocol.DispatchAdmissionDecision) (Resolution, error) {
	d, err := r.cfg.decide(verdict)
	if err != nil {
		return Resolution{}, fmt.Errorf("resolve lease %s: %w", leaseID, err)
	}
	now := r.cfg.clock()

	r.mu.Lock()
	e, ok := r.lookupLocked(leaseID)
	if !ok {
		r.mu.Unlock()
		return Resolution{}, fmt.Errorf("resolve: %w", notFound(leaseID))
	}
	if st := e.lease.State; st != protocol.LeaseStatePENDING {
		r.mu.Unlock()
		return Resolution{}, fmt.Errorf("resolve lease %s (%s): %w", leaseID, st, ErrNotPending)
	}
	e.lease.Verdict = d.verdict
	e.lease.ResolvedAt = now
	e.lease.LeaseTimeoutMs = d.timeoutMs
	e.ttl = d.ttl
	r.moveLocked(e, d.state, &event{kind: evReleased, verdict: d.verdict, timeoutMs: d.reported})
	if d.state != protocol.LeaseStateDENIED {
		r.startTTLLocked(e, d.ttl)
	}
	res := Resolution{Lease: e.lease, Verdict: d.verdict, LeaseTimeoutMs: d.reported}
	r.unlockAndFlush()
	return res, nil
}
