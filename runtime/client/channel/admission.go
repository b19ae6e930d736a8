package channel

import (
	"context"
	"fmt"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// verdictKind is the outcome of an admission.
type verdictKind int

const (
	verdictGrant verdictKind = iota
	verdictDeny
	verdictHold
)

// decision is an admission outcome as the consumer acts on it.
type decision struct {
	kind    verdictKind
	reason  string
	leaseID string        // effective lease of a grant ("" for an implicit grant)
	timeout time.Duration // handler bound of a grant with a lease
	target  string        // dispatchMessageId of a grant
}

// Reasons of the denies the core synthesises.
const (
	reasonUnavailable = "dispatch admission unavailable"
	reasonWaitTimeout = "dispatch release wait timed out"
)

// admit asks the server whether cand may be dispatched. Without admission every candidate
// is granted implicitly. Errors and timeouts are denies; nothing is retried or cancelled.
func (c *Core) admit(ctx context.Context, cand *item) decision {
	if !c.opts.Admission || c.conn == nil {
		return decision{kind: verdictGrant}
	}
	dctx, cancel := context.WithTimeout(ctx, c.opts.AdmissionTimeout)
	defer cancel()
	ack, err := c.conn.DispatchRequest(dctx, c.requestParams(cand))
	if err != nil {
		c.log.Warn("moltzap channel: "+reasonUnavailable, "messageId", cand.msg.ID, "err", err)
		return decision{kind: verdictDeny, reason: reasonUnavailable}
	}
	rel, err := c.awaitRelease(dctx, string(ack.LeaseID))
	if err != nil {
		c.log.Warn("moltzap channel: "+reasonWaitTimeout, "messageId", cand.msg.ID, "leaseId", ack.LeaseID, "err", err)
		return decision{kind: verdictDeny, reason: reasonWaitTimeout}
	}
	return c.decide(string(ack.LeaseID), rel)
}

// decide turns a release into a decision; a grant's leaseId overrides the ack's.
func (c *Core) decide(ackLease string, rel protocol.DispatchReleaseNotification) decision {
	switch v := rel.Verdict.(type) {
	case protocol.DispatchGrant:
		d := decision{kind: verdictGrant, leaseID: ackLease, timeout: c.opts.DefaultLeaseTimeout}
		if v.LeaseID != nil && *v.LeaseID != "" {
			d.leaseID = string(*v.LeaseID)
		}
		switch {
		case v.LeaseTimeoutMs != nil && *v.LeaseTimeoutMs > 0:
			d.timeout = time.Duration(*v.LeaseTimeoutMs) * time.Millisecond
		case rel.LeaseTimeoutMs != nil && *rel.LeaseTimeoutMs > 0:
			d.timeout = time.Duration(*rel.LeaseTimeoutMs) * time.Millisecond
		}
		if v.DispatchMessageID != nil {
			d.target = string(*v.DispatchMessageID)
		}
		return d
	case protocol.DispatchDeny:
		return decision{kind: verdictDeny, reason: deref(v.Reason)}
	case protocol.DispatchHold:
		return decision{kind: verdictHold, reason: deref(v.Reason)}
	}
	return decision{kind: verdictDeny, reason: fmt.Sprintf("unknown verdict %T", rel.Verdict)}
}

// awaitRelease returns the release of leaseID: a buffered early one, or the one the
// release handler hands over before ctx ends. The waiter is removed on return.
func (c *Core) awaitRelease(ctx context.Context, leaseID string) (protocol.DispatchReleaseNotification, error) {
	c.relMu.Lock()
	if rel, ok := c.ring.take(leaseID); ok {
		c.relMu.Unlock()
		return rel, nil
	}
	ch := make(chan protocol.DispatchReleaseNotification, 1)
	c.waiters[leaseID] = ch
	c.relMu.Unlock()
	select {
	case rel := <-ch:
		return rel, nil
	case <-ctx.Done():
	}
	c.relMu.Lock()
	if c.waiters[leaseID] == ch {
		delete(c.waiters, leaseID)
	}
	c.relMu.Unlock()
	select {
	case rel := <-ch: // delivered while we were giving up
		return rel, nil
	default:
		return protocol.DispatchReleaseNotification{}, fmt.Errorf("wait for the release of lease %s: %w", leaseID, ctx.Err())
	}
}

// requestParams builds dispatch/request for cand.
func (c *Core) requestParams(cand *item) protocol.DispatchRequestParams {
	received := formatTime(cand.receivedAt)
	attempt := cand.attempt
	clock := cand.clock
	pending := c.pendingSnapshot(cand)
	p := protocol.DispatchRequestParams{
		ConversationID: cand.msg.ConversationID,
		MessageID:      cand.msg.ID,
		SenderAgentID:  cand.msg.SenderID,
		Parts:          cand.msg.Parts,
		ReceivedAt:     &received,
		Clock:          &clock,
		Attempt:        &attempt,
		Pending:        make([]protocol.PendingMessage, 0, len(pending)),
	}
	for _, it := range pending {
		clk := it.clock
		p.Pending = append(p.Pending, protocol.PendingMessage{
			MessageID:      it.msg.ID,
			ConversationID: it.msg.ConversationID,
			SenderAgentID:  it.msg.SenderID,
			CreatedAt:      it.msg.CreatedAt,
			ReceivedAt:     formatTime(it.receivedAt),
			Clock:          &clk,
			Parts:          it.msg.Parts,
		})
	}
	return p
}

// formatTime renders t as a protocol DateTime (UTC, milliseconds, Z).
func formatTime(t time.Time) protocol.DateTime {
	return protocol.DateTime(t.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}

func deref[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}
