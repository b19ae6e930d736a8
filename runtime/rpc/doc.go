// Package rpc implements a JSON-RPC 2.0 peer over a message transport: the
// outbound side (calls with string ids, a pending map, per-call timeouts,
// fail-all-on-close, notifications) and the inbound side (strict frame
// classification, bounded concurrent request handling, in-order
// notification delivery, bad-input handling per REFERENCE 2.4 and 2.5).
//
// A Peer is symmetric: MoltZap servers call back into TaskMaster clients on
// the same socket, so both roles originate and answer requests. The Role only
// changes how bad input is treated: a server answers it with JSON-RPC
// errors, a client drops and counts it.
//
// The transport (a WebSocket connection, implemented elsewhere) supplies a
// Sender for outbound frames and calls HandleFrame for each inbound frame,
// in arrival order. The package depends only on runtime/wire and the
// standard library.
package rpc
