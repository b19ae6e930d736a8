package lease

import "github.com/moltzap/moltzap-go/generated/protocol"

// ReleaseNotification builds the dispatch/release params for the resolution
// (sent to the recipient connection only).
func (r Resolution) ReleaseNotification() protocol.DispatchReleaseNotification {
	return protocol.DispatchReleaseNotification{
		DispatchID:     r.Lease.DispatchID,
		LeaseID:        r.Lease.LeaseID,
		Verdict:        r.Verdict,
		LeaseTimeoutMs: r.LeaseTimeoutMs,
	}
}

// ConsumedNotification builds the dispatches/consumed params of a CONSUMED
// lease (sent to the moderator connection only).
func (l Lease) ConsumedNotification() protocol.DispatchesConsumedNotification {
	return protocol.DispatchesConsumedNotification{
		DispatchID:     l.DispatchID,
		LeaseID:        l.LeaseID,
		ConversationID: l.ConversationID,
		MessageID:      l.ConsumedMessageID,
		ConsumedAt:     formatDateTime(l.ConsumedAt),
	}
}

// ExpiredNotification builds the dispatches/expired params of an EXPIRED
// lease (sent to the moderator connection only).
func (l Lease) ExpiredNotification() protocol.DispatchesExpiredNotification {
	return protocol.DispatchesExpiredNotification{
		DispatchID:     l.DispatchID,
		LeaseID:        l.LeaseID,
		ConversationID: l.ConversationID,
		ExpiredAt:      formatDateTime(l.ExpiredAt),
	}
}
