package lease

import (
	"fmt"
	"strings"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Claim reserves a GRANTED lease for a messages/send (REFERENCE 12.6 steps
// 1-3): GRANTED → CLAIMED, TTL cancelled. Errors, checked in this order:
// ErrNotFound; *InvalidStateError{State, Expected: [GRANTED]}; ErrMismatch
// when senderAgentID is not the recipient or conversationID is not the
// lease's conversation (ids compare case-insensitively).
func (r *Registry) Claim(leaseID protocol.LeaseID, senderAgentID protocol.AgentID, conversationID protocol.ConversationID) (Lease, error) {
	r.mu.Lock()
	e, ok := r.lookupLocked(leaseID)
	if !ok {
		r.mu.Unlock()
		return Lease{}, fmt.Errorf("claim: %w", notFound(leaseID))
	}
	if err := requireLocked(e, protocol.LeaseStateGRANTED); err != nil {
		r.mu.Unlock()
		return Lease{}, err
	}
	if !strings.EqualFold(string(e.lease.RecipientAgentID), string(senderAgentID)) ||
		!strings.EqualFold(string(e.lease.ConversationID), string(conversationID)) {
		r.mu.Unlock()
		return Lease{}, fmt.Errorf("claim lease %s by agent %s in conversation %s: %w",
			leaseID, senderAgentID, conversationID, ErrMismatch)
	}
	r.unscheduleLocked(e)
	r.moveLocked(e, protocol.LeaseStateCLAIMED, nil) // GRANTED and CLAIMED are both active: no event
	snap := e.lease
	r.unlockAndFlush()
	return snap, nil
}

// Consume finalises a CLAIMED lease once the reply messageID is committed:
// CLAIMED → CONSUMED and Events.Consumed (dispatches/consumed). Errors:
// ErrNotFound; *InvalidStateError{Expected: [CLAIMED]}.
func (r *Registry) Consume(leaseID protocol.LeaseID, messageID protocol.MessageID) (Lease, error) {
	now := r.cfg.clock()
	r.mu.Lock()
	e, ok := r.lookupLocked(leaseID)
	if !ok {
		r.mu.Unlock()
		return Lease{}, fmt.Errorf("consume: %w", notFound(leaseID))
	}
	if err := requireLocked(e, protocol.LeaseStateCLAIMED); err != nil {
		r.mu.Unlock()
		return Lease{}, err
	}
	e.lease.ConsumedAt = now
	e.lease.ConsumedMessageID = messageID
	r.moveLocked(e, protocol.LeaseStateCONSUMED, &event{kind: evConsumed})
	snap := e.lease
	r.unlockAndFlush()
	return snap, nil
}

// Unclaim rolls a CLAIMED lease back after the send's insert failed:
// CLAIMED → GRANTED with the TTL restarted at its original timeout. If the
// recipient connection closed while the lease was CLAIMED, the lease expires
// instead (GRANTED with a closed recipient → EXPIRED, Events.Expired).
// Errors: ErrNotFound; *InvalidStateError{Expected: [CLAIMED]}.
func (r *Registry) Unclaim(leaseID protocol.LeaseID) (Lease, error) {
	r.mu.Lock()
	e, ok := r.lookupLocked(leaseID)
	if !ok {
		r.mu.Unlock()
		return Lease{}, fmt.Errorf("unclaim: %w", notFound(leaseID))
	}
	if err := requireLocked(e, protocol.LeaseStateCLAIMED); err != nil {
		r.mu.Unlock()
		return Lease{}, err
	}
	r.moveLocked(e, protocol.LeaseStateGRANTED, nil)
	if e.recipientGone {
		r.expireLocked(e)
	} else {
		r.startTTLLocked(e, e.ttl)
	}
	snap := e.lease
	r.unlockAndFlush()
	return snap, nil
}
