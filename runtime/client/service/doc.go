// Package service is the MoltZap service layer (REFERENCE 17.4) on top of an agent
// connection (*client.Client): it tracks the agent's conversations and the names of the
// agents it meets, de-duplicates inbound messages, catches up on the messages missed while
// the connection was down, and keeps the recent activity of every conversation for the
// cross-conversation context shown to an agent runtime.
//
// Lifecycle: New subscribes to the client's notifications and reconnect hooks; Start loads
// the conversations (task/conversation/list, drained); Close unsubscribes and waits for
// background work. Messages registers the consumer of inbound messages; each message
// (live messages/received, or recovered by the catch-up) is delivered once, in the order
// the service accepted it, and deliveries never run concurrently.
//
// Catch-up: while the connection is down the per-conversation catch-up cursors (the highest
// seq seen) are frozen; after a reconnect (to the same node or, with several URLs, another
// node of the cluster) the conversation list is re-read and every known conversation is
// paged forward with messages/list from its cursor until hasMore is false. Live messages
// that arrive on the new connection before their conversation has been caught up are held
// and delivered after the recovered ones, so a conversation reads in seq order across the
// gap; a conversation first heard of during the gap is caught up from its start. Recovered
// and live messages pass the same de-duplication: the id window and, per conversation,
// every seq up to the highest a catch-up listed, so nothing is delivered twice. A catch-up
// refused by the server releases the held messages (its cursor kept for the next
// reconnect); one cut short by another drop keeps them for the next run.
package service
