// Package transport is the WebSocket layer of MoltZap: it upgrades HTTP
// requests (server side) or dials URLs (client side) and exchanges whole
// messages, one message per WebSocket data frame sequence, over a Conn.
//
// The package knows nothing about the JSON-RPC protocol carried on top of it.
// It implements the transport rules of the protocol reference (sections 2.1,
// 2.2, 2.6 and 2.7):
//
//   - text and binary messages are both delivered as bytes; fragmented
//     messages are reassembled and the read limit applies to the whole
//     message (oversize closes the connection with 1009);
//   - outbound messages are sent as single text frames through a bounded
//     per-connection queue drained by a dedicated writer goroutine, so a slow
//     peer never blocks the sender (a full queue closes the connection with
//     1008);
//   - a heartbeat sends WebSocket pings and closes an unresponsive peer with
//     1001;
//   - the close handshake is performed in both directions, and a connection
//     that ends without it reports 1006.
//
// A Conn is created by Upgrade or Dial and must then be served (Serve) or
// closed (Close); Serve runs the read loop in the caller's goroutine until the
// connection ends.
package transport
