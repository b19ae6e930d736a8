// Package observatory is the topic-channel WebSocket server of MoltZap
// (protocol reference section 18, seed 003): a very small publish/subscribe
// pattern, not JSON-RPC, meant for live read-only views of the network.
//
// Every message in both directions is one text frame holding a JSON array of
// exactly three elements, [topic, event, payload]. Two client events are
// built in:
//
//   - subscribe, payload {id?: string}: the socket is subscribed to the topic,
//     answered with subscribed {id?} (the id echoed when it is a string), then
//     the join handler of the channel matching the topic runs and typically
//     sends a snapshot to that socket only; snapshot-on-join is how a client
//     recovers after reconnecting (there is no replay log);
//   - unsubscribe, any payload: the subscription is removed (no error if
//     absent), answered with unsubscribed {}.
//
// Any other event is routed to the event handler of the channel matching the
// topic; an event the channel does not handle is logged. Channels are
// registered with a topic pattern holding named parameters, such as
// "conversation:<conversationId>"; the first registered channel that matches
// wins and receives the extracted parameters.
//
// Errors are reported with the event "error" and a payload {code, message}:
// INVALID_PAYLOAD on the topic "error" for a frame that is not JSON or not a
// [string, string, any] triple, INTERNAL_ERROR on the frame's topic when no
// channel matches it.
//
// Server.Broadcast sends an event to every socket subscribed to exactly that
// topic, encoding it once. A connection beyond the cap (Options.MaxConnections,
// default 100) is closed at once with 1008 "Server at maximum capacity";
// Server.Shutdown closes every socket with 1000 "Server shutting down".
// Connection ids are a server-local counter (conn_<n>) used in logs only.
//
// The pattern itself has no authentication; Options.Auth adds it (a bearer
// token on the upgrade, or a first frame [topic, "auth", {token}] for
// browsers, UNAUTHORIZED before it and a close 1008 after a timeout), and
// Options.ReadOnly refuses every client event but subscribe and unsubscribe
// (READ_ONLY), as a view of a live system must.
//
// The package runs on MoltZap's own WebSocket layer, runtime/transport.
package observatory
