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
// Given the server's process id (Config.ServerPIDs), every workload also reports the
// server's CPU time per operation over the measured phase (Extra[ExtraServerCPUPerOp]: per
// connect, per message, per delivery), from utime + stime of /proc/<pid>/stat sampled at
// its start and end only. It counts the server's own cycles rather than the wall clock, so
// other work on the machine moves it far less than it moves a rate and it compares across
// noisy runs; its resolution is one clock tick (10 ms) over the whole phase, so runs of a
// few seconds give it to about a percent. Without a process id the figure is absent and
// Result.Unmeasured says why.
//
// A cluster (several moltzap-server processes on one store and one bus) is loaded through
// all of its nodes: Config.BaseURL is the first node and Config.NodeURLs the others. The
// sockets are opened on the nodes round robin, so the two agents of a DM pair are on
// different nodes (every message crosses the bus), the members of the Fanout conversation
// are spread evenly, and so are Connect's connections. ServerPIDs then lists every node's
// process and the CPU and memory figures are their sums. Extra[ExtraNodes] is the number
// of nodes.
//
// Safety: a run refuses any server that is not on a loopback address, and is bounded both
// by Config.Count and Config.Duration (whichever comes first ends it).
//
// The clients are deliberately thin so that the load generator costs the machine as little
// as possible next to the server it measures: a minimal WebSocket client with rpc.Peer on
// top (runtime/client's connection, with its three goroutines per socket, reconnection and
// notification queue, is too heavy at 50,000 sockets and cannot bind a source address).
// Requests use the generated protocol types: network/connect and task/request go through
// the generated protocol.Client stubs over the Peer (typed params, results decoded and
// checked by protocol.Decode); messages/send, the hot path, sends params encoded once per
// conversation with protocol.MessagesSendParams.AppendJSON and finds the message id of the
// result and of every messages/received by a byte search (tests prove it agrees with
// protocol.Decode), instead of decoding the stored message again for each send.
//
// The server must allow the load: raise its per-agent limits (--messages-per-minute,
// --requests-per-minute).
package loadgen
