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
// In a cluster each node runs an Engine over its own connections and is told
// what the other nodes report (SetRemote, ReplaceRemote, DropNode): an agent
// is offline only when no node holds a connection of it, working when any
// node has it working. NewWithLocal adds a LocalFunc that receives the
// changes of this node's own contribution (what it must tell the others),
// and Snapshot delivers that contribution whole, in order with those changes.
//
// The state is process-local and lost on restart; agents repopulate it by
// reconnecting. The Engine starts no goroutines.
package presence
