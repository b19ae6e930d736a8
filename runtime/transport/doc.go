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
//     message (oversize closes the connection with 1009); a frame must
//     arrive completely within Config.ReadTimeout of its first byte (a peer
//     that stops mid-frame is closed with 1008);
//   - outbound messages are sent as single text frames through a bounded
//     per-connection queue, so a slow peer never blocks the sender (a full
//     queue closes the connection with 1008);
//   - a heartbeat sends WebSocket pings and closes an unresponsive peer with
//     1001;
//   - the close handshake is performed in both directions, and a connection
//     that ends without it reports 1006.
//
// A Conn is created by Upgrade, by a Listener or by Dial and must then be
// started (Start, which returns at once, or Serve, which waits for the end)
// or closed (Close).
//
// # No goroutine per idle connection
//
// All connections of a process share one engine:
//
//   - Reads are readiness-driven. On Linux the socket is registered with an
//     epoll instance (edge-triggered); the epoll descriptor is
//     itself waited on through the Go runtime's poller, so one parked
//     goroutine watches every connection. When a socket is readable a worker
//     reads what is there without blocking, into a pooled 16 KiB buffer,
//     parses it with an incremental frame parser (frames may be split
//     anywhere across reads), delivers complete messages to onMessage, then
//     gives the buffer back. Between frames a
//     connection holds no buffer; in the middle of a frame it holds only the
//     part received, and the frame deadline bounds how long.
//   - Writes are batched. Send appends the message to the connection's queue
//     (the same bytes may be queued on any number of connections: a
//     notification is encoded once) and, unless a flush is already pending,
//     puts the connection on the engine's flush queue. At most GOMAXPROCS
//     runners drain that queue; each writes everything queued on a
//     connection, frame headers and payloads, with one non-blocking writev.
//     When the socket is full, the rest of that connection's writes move to
//     a goroutine of its own that blocks with the write deadline, so a slow
//     consumer never holds a runner.
//   - Heartbeats, frame deadlines and the wait for the peer's close frame
//     live in one timer heap with one runtime timer.
//   - Workers are started on demand and at most a few idle ones are kept
//     for a short while. onMessage runs on a worker and may block (the rpc
//     layer applies back-pressure that way): that holds back only its own
//     connection, which is why busy workers are not capped. They are bounded
//     by the connections that have work: one read and one write at a time
//     each.
//
// The upgrade keeps nothing of net/http: bytes read past the handshake are
// copied out of the hijacked buffer, which is dropped with the writer, so
// with Start the HTTP handler and its request are released at once. A
// Listener goes further: it reads the request heads of the sockets it
// accepts itself and upgrades the plain WebSocket requests of its path
// without net/http at all (no request, header map, bufio buffers or
// connection goroutine; the short goroutine that reads the head ends with
// the handshake). Every other request, and every upgrade that is unusual in
// any way, goes on to the http.Server serving the Listener with the bytes
// read so far put back, so it is answered exactly as without the Listener.
//
// Elsewhere (other platforms, TLS connections, or when registration with the
// poller fails) a Conn reads in a goroutine of its own with blocking reads,
// the portable fallback; writes, timers and the rest are the same.
//
// The engine is the package's one process-wide value, like the Go runtime's
// own network poller. Lock order: Conn.mu before the engine's locks (timer
// heap, registry, flush queue, worker pool); no engine lock is held while
// taking a Conn.mu.
package transport
