package server

import (
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server/lease"
)

// leaseEvents turns what the lease registry did into notifications (REFERENCE 10 #13-15)
// and presence updates (REFERENCE 14). The registry calls it without its lock held and in
// transition order.
type leaseEvents struct{ s *Server }

var _ lease.Events = leaseEvents{}

// Released sends dispatch/release to the recipient connection bound to the lease only.
// Lease events are addressed by connection id: a connection of another node (a TaskMaster
// there) is reached through the cluster (notifyConnID).
//
// A deny from a moderator (a lease with a moderator connection; in-process verdicts have
// none) first evicts the recipient from the conversation (REFERENCE 12.5), so that the
// eviction holds by the time the recipient reads the verdict.
func (e leaseEvents) Released(l lease.Lease, verdict protocol.DispatchAdmissionDecision, leaseTimeoutMs *int64) {
	if _, deny := verdict.(protocol.DispatchDeny); deny && l.ModeratorConnID != "" {
		e.s.evictRecipient(e.s.ctx, l.TaskID, l.ConversationID, l.RecipientAgentID)
	}
	e.s.notifyConnID(l.RecipientConnID, protocol.DispatchReleaseNotification{
		DispatchID:     l.DispatchID,
		LeaseID:        l.LeaseID,
		Verdict:        verdict,
		LeaseTimeoutMs: leaseTimeoutMs,
	})
}

// Expired sends dispatches/expired to the lease's moderator connection only.
func (e leaseEvents) Expired(l lease.Lease) {
	if l.ModeratorConnID == "" {
		return
	}
	e.s.notifyConnID(l.ModeratorConnID, l.ExpiredNotification())
}

// Consumed sends dispatches/consumed to the lease's moderator connection only.
func (e leaseEvents) Consumed(l lease.Lease) {
	if l.ModeratorConnID == "" {
		return
	}
	e.s.notifyConnID(l.ModeratorConnID, l.ConsumedNotification())
}

// ActivityChanged re-derives the presence of the recipient connection ("working" while it
// has a GRANTED or CLAIMED lease). Reports for a connection that is gone are ignored by the
// presence engine.
func (e leaseEvents) ActivityChanged(connID string) {
	e.s.presence.SetActivity(connID, e.s.leases.ActiveForConn(connID))
}

// leaseError maps a lease registry error of Claim to its wire error (REFERENCE 12.6):
// unknown lease -32002 "lease <id> not found"; wrong state -32001 {reason: LeaseInvalid,
// state, expected}; other recipient or conversation -32001 {reason: LeaseMismatch}.
func leaseError(leaseID protocol.LeaseID, err error) error {
	if errors.Is(err, lease.ErrNotFound) {
		return protocol.NotFoundError{Message: fmt.Sprintf("lease %s not found", leaseID)}
	}
	if data, ok := lease.ForbiddenData(err); ok {
		msg := "Lease is not claimable"
		if errors.Is(err, lease.ErrMismatch) {
			msg = "Lease does not belong to this sender and conversation"
		}
		return protocol.ForbiddenError{Message: msg, Data: &data}
	}
	return fmt.Errorf("claim lease %s: %w", leaseID, err)
}

// Changed reports the lease's new state to the feed (the Observatory's dispatch topic).
func (e leaseEvents) Changed(l lease.Lease) {
	if e.s.watching() {
		e.s.cfg.Feed.LeaseChanged(l.Record())
	}
}
