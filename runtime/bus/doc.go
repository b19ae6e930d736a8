// Package bus is the seam the server's fan-out goes through when several server nodes share
// one PostgreSQL store, in the spirit of centrifuge's Broker: a Bus carries opaque byte
// messages on subjects between nodes, and the server decides what they mean.
//
// Two implementations exist:
//
//   - InProc (this package): an in-process broker. New gives a node a hub of its own, the
//     default of a single server: nothing leaves the process and, as the server only
//     publishes what a remote node must see, a lone node publishes nothing on its hot
//     paths. NewHub + Connect give several in-process nodes one broker (tests).
//   - natsbus (runtime/bus/natsbus): NATS core (github.com/nats-io/nats.go), chosen with
//     moltzap-server --nats-url nats://... . Subjects are prefixed with a namespace so
//     several clusters can share one NATS.
//
// # Contract
//
// Publish is fire and forget: it never blocks on subscribers, it may drop a message for a
// subscriber that cannot keep up (NATS slow consumer; InProc beyond MaxPending), and a
// message published while the broker is unreachable may be lost. Messages one publisher
// sends on one subject reach each subscriber in the order they were published, one at a
// time (one delivery goroutine per subscription); there is no order across subjects or
// publishers. Subscribers that need completeness detect gaps themselves (the server numbers
// its cluster messages and asks for a full state on a gap).
//
// Serve and Request are request/reply: each request reaches one responder of its subject;
// Request waits until ctx ends and then returns ctx.Err() unchanged, so a caller applies its
// own timeout and tells it apart with errors.Is(err, context.DeadlineExceeded);
// ErrNoResponders says at once that nothing serves the subject.
//
// Health is a non-blocking view of connectivity (the server stops accepting sockets while
// it is not nil); Ping is a round trip (readiness). Close drains: what was published is
// flushed, subscriptions deliver what they hold, then the bus is closed.
//
// The server's use of the bus (subjects, envelopes, presence, routing, TaskMaster calls,
// rate limits) is described in docs/cluster.md and runtime/server/cluster.go.
package bus
