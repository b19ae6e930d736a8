package rpc

import "sync/atomic"

// Stats is a snapshot of a Peer's counters.
type Stats struct {
	RequestsIn       uint64 // valid inbound requests
	RequestsOut      uint64 // outbound requests sent by Call
	NotificationsIn  uint64 // inbound notifications delivered (client role)
	NotificationsOut uint64 // notifications sent by Notify
	ResponsesIn      uint64 // inbound responses that completed a pending call
	ResponsesOut     uint64 // responses sent for inbound requests
	RawOut           uint64 // frames sent by SendRaw
	Malformed        uint64 // bad inbound frames (see MalformedCount)
	Unmatched        uint64 // inbound responses with a null or unknown id
	Pending          int    // outbound calls waiting for a response
	InboundQueued    int    // inbound requests waiting for a handler slot
	InboundRunning   int    // busy or idle-exiting handler workers
}

// counters are the atomic counters behind Stats.
type counters struct {
	requestsIn, requestsOut           atomic.Uint64
	notificationsIn, notificationsOut atomic.Uint64
	responsesIn, responsesOut         atomic.Uint64
	rawOut, malformed, unmatched      atomic.Uint64
}

// Stats returns a snapshot of the Peer's counters.
func (p *Peer) Stats() Stats {
	s := Stats{
		RequestsIn:       p.ctr.requestsIn.Load(),
		RequestsOut:      p.ctr.requestsOut.Load(),
		NotificationsIn:  p.ctr.notificationsIn.Load(),
		NotificationsOut: p.ctr.notificationsOut.Load(),
		ResponsesIn:      p.ctr.responsesIn.Load(),
		ResponsesOut:     p.ctr.responsesOut.Load(),
		RawOut:           p.ctr.rawOut.Load(),
		Malformed:        p.ctr.malformed.Load(),
		Unmatched:        p.ctr.unmatched.Load(),
	}
	p.mu.Lock()
	s.Pending = len(p.pending)
	s.InboundQueued = p.queue.len()
	s.InboundRunning = p.workers
	p.mu.Unlock()
	return s
}

// MalformedCount returns how many bad inbound frames (unparseable, invalid,
// or notifications received in the server role) this Peer has seen.
func (p *Peer) MalformedCount() uint64 { return p.ctr.malformed.Load() }
