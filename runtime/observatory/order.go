package observatory

import (
	"context"
	"net"
	"time"

	"github.com/moltzap/moltzap-go/runtime/transport"
)

// admitGrace is how long after its admission a connection that has sent
// nothing may still give its place to one accepted before it (see
// ConnContext).
const admitGrace = 250 * time.Millisecond

// acceptKey is the context key of a connection's accept sequence number.
type acceptKey struct{}

// ConnContext is meant for http.Server.ConnContext: it numbers the TCP
// connections in the order the listener accepted them. With it, when sockets
// opened together exceed the cap, the ones closed with 1008 are those
// accepted last, as a client that opens them one after another expects;
// without it, the ones whose upgrade finished last are closed (goroutines
// finish upgrades in no particular order).
func (s *Server) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, acceptKey{}, s.accepted.Add(1))
}

// acceptSeq returns the accept number ConnContext gave the request's
// connection, or 0.
func acceptSeq(ctx context.Context) uint64 {
	seq, _ := ctx.Value(acceptKey{}).(uint64)
	return seq
}

// evictLaterLocked makes room at the cap for a connection accepted as seq:
// it drops the admitted connection accepted last after seq, if that one was
// admitted less than admitGrace ago and has sent nothing, and closes it with
// 1008 as if it had been refused. It reports whether it made room.
func (s *Server) evictLaterLocked(seq uint64) bool {
	if seq == 0 {
		return false
	}
	var victim *conn
	for c := range s.conns {
		if c.acceptSeq > seq && !c.active.Load() && time.Since(c.admittedAt) < admitGrace &&
			(victim == nil || c.acceptSeq > victim.acceptSeq) {
			victim = c
		}
	}
	if victim == nil {
		return false
	}
	for topic := range victim.subs {
		s.unsubscribeLocked(victim, topic)
	}
	delete(s.conns, victim)
	s.log.Warn("observatory: connection rejected", "remote", victim.ws.RemoteAddr(), "reason", ReasonAtCapacity)
	go func() { _ = victim.ws.Close(transport.ClosePolicyViolation, ReasonAtCapacity) }()
	return true
}
