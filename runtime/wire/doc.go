// Package wire implements the MoltZap JSON-RPC 2.0 framing layer: strict
// classification of inbound frames, compact encoders for outbound frames,
// the JSON-RPC error object and the reserved error codes.
//
// The rules follow protocol REFERENCE sections 2.3 (frame shapes), 2.4 and
// 2.5 (handling of bad input) and 5 (error registry). One frame carries
// exactly one JSON object; batches are not supported; ids are strings.
// A request's members may nest MaxDepth (64) levels; a deeper request is
// answered -32600 with its id (see Parse).
//
// The package imports only the standard library so that every other layer
// (generated code, rpc, server, clients) can build on it.
package wire
