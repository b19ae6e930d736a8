// Package presence is the in-memory presence engine of one MoltZap server
// process (REFERENCE sections 3.2, 3.3, 9.3.3, 10 and 14).
//
// Presence is derived, never set by clients. For one agent:
//
//   - offline: no live connection;
//   - working: at least one live connection holds a GRANTED or CLAIMED
//     dispatch lease (reported with SetActivity);
//   - online: otherwise.
//
// The server reports the inputs: Connected after a successful
// network/connect, Disconnected when the socket closes, SetActivity whenever
// the number of active leases bound to a connection changes, and Subscribe
// for presence/subscribe (after its own visibility check). The Engine calls
// its EmitFunc once per actual change of an agent's derived status, with the
// ids of the connections subscribed to that agent at the moment of the
// change; the server turns that into presence/changed notifications.
//
// The state is process-local and lost on restart; agents repopulate it by
// reconnecting. The Engine starts no goroutines.
package presence
