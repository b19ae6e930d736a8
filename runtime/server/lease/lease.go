package lease

import (
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Binding is what a lease is bound to, recorded at mint time and never
// changed afterwards (REFERENCE 12.3).
type Binding struct {
	// RecipientAgentID is the agent that requested admission; only it may
	// spend the lease.
	RecipientAgentID protocol.AgentID
	// RecipientConnID is the connection that made dispatch/request; it gets
	// dispatch/release and its close abandons or expires the lease.
	RecipientConnID string
	// ModeratorConnID is the moderator (TaskMaster) connection, "" when none;
	// it gets dispatches/consumed and dispatches/expired.
	ModeratorConnID string
	// TaskID is the conversation's task.
	TaskID protocol.TaskID
	// ConversationID is the conversation of the message.
	ConversationID protocol.ConversationID
	// AppID is the task's app.
	AppID protocol.AppID
}

// Lease is a snapshot of one lease. Snapshots are values: later transitions
// do not change them. Verdict (and the pointers inside it) is shared with the
// registry and must be treated as read-only.
type Lease struct {
	// Binding is the immutable mint-time binding.
	Binding
	// LeaseID is the lease id (lowercase UUIDv7).
	LeaseID protocol.LeaseID
	// DispatchID is the dispatch id (lowercase UUIDv7).
	DispatchID protocol.DispatchID
	// State is the lease state at the time of the snapshot.
	State protocol.LeaseState
	// Verdict is the verdict as reported in dispatch/release (a grant always
	// carries leaseTimeoutMs); nil while PENDING and for ABANDONED leases.
	Verdict protocol.DispatchAdmissionDecision
	// MintedAt is when the lease was minted.
	MintedAt time.Time
	// ResolvedAt is when a verdict resolved the lease; zero if none did.
	ResolvedAt time.Time
	// ConsumedAt is when a reply consumed the lease; zero if none did.
	ConsumedAt time.Time
	// ExpiredAt is when the lease expired; zero if it did not.
	ExpiredAt time.Time
	// ConsumedMessageID is the reply that consumed the lease; "" if none.
	ConsumedMessageID protocol.MessageID
	// LeaseTimeoutMs is the TTL that applies to the lease in milliseconds
	// (the grant's timeout, or the hold TTL for a HOLD); 0 when none applies.
	LeaseTimeoutMs int64
}

// Terminal reports whether the lease is in a terminal state (CONSUMED,
// DENIED, EXPIRED or ABANDONED).
func (l Lease) Terminal() bool { return isTerminal(l.State) }

// Active reports whether the lease counts as activity of its recipient
// connection for presence (GRANTED or CLAIMED).
func (l Lease) Active() bool { return isActive(l.State) }

// Record converts the snapshot to the wire record of dispatches/get; absent
// times, message id and timeout become JSON null.
func (l Lease) Record() protocol.LeaseRecord {
	rec := protocol.LeaseRecord{
		DispatchID:            l.DispatchID,
		LeaseID:               l.LeaseID,
		ConversationID:        l.ConversationID,
		TaskID:                l.TaskID,
		AppID:                 string(l.AppID), // the schema types LeaseRecord.appId as a plain string
		RecipientAgentID:      l.RecipientAgentID,
		ModeratorConnectionID: l.ModeratorConnID,
		State:                 l.State,
		Verdict:               l.Verdict,
		MintedAt:              formatDateTime(l.MintedAt),
		ResolvedAt:            optDateTime(l.ResolvedAt),
		ConsumedAt:            optDateTime(l.ConsumedAt),
		ExpiredAt:             optDateTime(l.ExpiredAt),
	}
	if l.ConsumedMessageID != "" {
		id := l.ConsumedMessageID
		rec.ConsumedMessageID = &id
	}
	if l.LeaseTimeoutMs > 0 {
		ms := l.LeaseTimeoutMs
		rec.LeaseTimeoutMs = &ms
	}
	return rec
}

// isTerminal reports whether s is a terminal lease state.
func isTerminal(s protocol.LeaseState) bool {
	switch s {
	case protocol.LeaseStateCONSUMED, protocol.LeaseStateDENIED,
		protocol.LeaseStateEXPIRED, protocol.LeaseStateABANDONED:
		return true
	}
	return false
}

// isActive reports whether s counts for presence "working".
func isActive(s protocol.LeaseState) bool {
	return s == protocol.LeaseStateGRANTED || s == protocol.LeaseStateCLAIMED
}
