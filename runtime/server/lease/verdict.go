package lease

import (
	"fmt"
	"math"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Resolution is the outcome of a successful Resolve: exactly what
// dispatch/release reports.
type Resolution struct {
	// Lease is the lease right after the transition.
	Lease Lease
	// Verdict is the reported verdict; a grant always carries
	// leaseTimeoutMs (the default TTL when the verdict had none, Q2).
	Verdict protocol.DispatchAdmissionDecision
	// LeaseTimeoutMs is the top-level dispatch/release leaseTimeoutMs: set
	// for a grant (mirroring Verdict), nil for deny and hold.
	LeaseTimeoutMs *int64
}

// decision is a verdict normalised for the registry.
type decision struct {
	verdict   protocol.DispatchAdmissionDecision
	state     protocol.LeaseState
	ttl       time.Duration // 0 for deny
	timeoutMs int64         // recorded as Lease.LeaseTimeoutMs
	reported  *int64        // dispatch/release leaseTimeoutMs
}

// decide validates v and derives the transition it causes. The returned
// verdict is a private copy (no pointer shared with v).
func (c config) decide(v protocol.DispatchAdmissionDecision) (decision, error) {
	switch x := v.(type) {
	case protocol.DispatchGrant:
		return c.decideGrant(x)
	case *protocol.DispatchGrant:
		if x != nil {
			return c.decideGrant(*x)
		}
	case protocol.DispatchDeny:
		return decision{verdict: protocol.DispatchDeny{Reason: cloneString(x.Reason)}, state: protocol.LeaseStateDENIED}, nil
	case *protocol.DispatchDeny:
		if x != nil {
			return c.decide(*x)
		}
	case protocol.DispatchHold:
		return decision{
			verdict:   protocol.DispatchHold{Reason: cloneString(x.Reason)},
			state:     protocol.LeaseStateHOLD,
			ttl:       c.holdTTL,
			timeoutMs: durationMs(c.holdTTL),
		}, nil
	case *protocol.DispatchHold:
		if x != nil {
			return c.decide(*x)
		}
	}
	return decision{}, fmt.Errorf("%w: %T", ErrInvalidVerdict, v)
}

// decideGrant applies Q2: a grant without leaseTimeoutMs gets the default TTL
// and reports it.
func (c config) decideGrant(g protocol.DispatchGrant) (decision, error) {
	out := protocol.DispatchGrant{
		LeaseID:           cloneString(g.LeaseID),
		DispatchMessageID: cloneString(g.DispatchMessageID),
	}
	var ms int64
	var ttl time.Duration
	if g.LeaseTimeoutMs != nil {
		ms = *g.LeaseTimeoutMs
		if ms < 1 {
			return decision{}, fmt.Errorf("%w: grant leaseTimeoutMs %d is below 1", ErrInvalidVerdict, ms)
		}
		ttl = msDuration(ms)
	} else {
		ttl = c.defaultTTL
		ms = durationMs(ttl)
	}
	out.LeaseTimeoutMs = &ms
	return decision{verdict: out, state: protocol.LeaseStateGRANTED, ttl: ttl, timeoutMs: ms, reported: &ms}, nil
}

// cloneString copies an optional string-typed value.
func cloneString[T ~string](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// durationMs converts d to whole milliseconds, at least 1.
func durationMs(d time.Duration) int64 {
	return max(d.Milliseconds(), 1)
}

// msDuration converts milliseconds to a Duration, saturating on overflow.
func msDuration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}
