// Package loadgen generates load against a MoltZap server on the local machine and measures
// it. It backs the `moltzap bench` subcommand and is usable as a library:
//
//	res, err := loadgen.DM(ctx, loadgen.Config{BaseURL: "http://127.0.0.1:8080", Count: 2000, Duration: time.Minute})
//	fmt.Print(res.Table())
//
// Three workloads are provided:
//
//   - Connect registers Count agents over HTTP, opens and authenticates one WebSocket per
//     agent (network/connect) and reports connects/s and, given the server's process id,
//     the resident memory each idle authenticated connection costs.
//   - DM runs Concurrency pairs of agents, each pair in a one-to-one conversation; each
//     pair sends sequentially and the latency of every message is measured from just before
//     messages/send to messages/received at the peer.
//   - Fanout runs one conversation of GroupSize members and one sender; the latency of a
//     message is measured from just before messages/send until the last recipient got it.
//
// Safety: a run refuses any server that is not on a loopback address, and is bounded both
// by Config.Count and Config.Duration (whichever comes first ends it).
//
// The clients are deliberately thin (a minimal WebSocket client with rpc.Peer on top, and a
// byte search for the message id of messages/received) so that the load generator costs
// the machine as little as possible next to the server it measures. The server must allow
// the load: raise its per-agent limits (--messages-per-minute, --requests-per-minute).
package loadgen
