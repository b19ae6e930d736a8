// Package feed is the seam between the MoltZap server and read-only live
// views of its network, such as the Observatory: the server reports what
// happens to an Observer and answers a view's snapshot questions as a
// Source. The package holds the interfaces and the payload types they carry,
// nothing else, so that the server and the views depend on it and not on
// each other.
//
// Feeding a view must cost the send path nothing measurable when nobody
// watches: the server asks Observer.Watching (an atomic load in a real view)
// before it builds any event.
package feed

import (
	"context"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Observer receives the events of the network as the server sees them. Its
// methods are called from the server's request and connection goroutines,
// concurrently, and must not block: a view queues or drops, it never waits
// on a client.
type Observer interface {
	// Watching reports whether anyone watches the view at all; while it is
	// false the server builds and reports no event.
	Watching() bool

	// AgentConnected reports a connection admitted for a.AgentID; a counts
	// the agent's open connections, this one included.
	AgentConnected(a AgentPresence)
	// AgentDisconnected reports a connection of a.AgentID that ended; a
	// counts the connections that remain.
	AgentDisconnected(a AgentPresence)
	// PresenceChanged reports an agent's new derived presence.
	PresenceChanged(agentID protocol.AgentID, status protocol.PresenceStatus)

	// TaskCreated reports a task that tasks/request created.
	TaskCreated(t protocol.Task)
	// TaskClosed reports a task that was closed.
	TaskClosed(t protocol.Task)
	// TaskFailed reports a task the sweeper failed (no acceptance in time).
	TaskFailed(taskID protocol.TaskID)
	// ConversationCreated reports a conversation created in task taskID.
	ConversationCreated(taskID protocol.TaskID, c protocol.Conversation)
	// ConversationArchived reports an archived conversation.
	ConversationArchived(taskID protocol.TaskID, convID protocol.ConversationID)
	// ConversationUnarchived reports a conversation taken out of the archive.
	ConversationUnarchived(taskID protocol.TaskID, convID protocol.ConversationID)
	// ParticipantsAdded reports agents added to a conversation.
	ParticipantsAdded(taskID protocol.TaskID, convID protocol.ConversationID, agentIDs []protocol.AgentID)
	// ParticipantRemoved reports an agent removed from a conversation.
	ParticipantRemoved(taskID protocol.TaskID, convID protocol.ConversationID, agentID protocol.AgentID)

	// MessageReceived reports a stored message the fan-out delivered.
	MessageReceived(m ObservedMessage)
	// MessageBlocked reports a stored message its TaskMaster blocked.
	MessageBlocked(m ObservedMessage)

	// LeaseChanged reports a dispatch lease after a transition (minted as
	// PENDING, then every state it reaches).
	LeaseChanged(l protocol.LeaseRecord)
}

// Source answers the snapshot questions of a view: what a client that
// subscribes (or re-subscribes after a reconnect) is shown first.
type Source interface {
	// OnlineAgents returns the agents with at least one open connection.
	OnlineAgents(ctx context.Context) ([]AgentPresence, error)
	// RecentTasks returns recent tasks of the online agents, newest first,
	// at most limit.
	RecentTasks(ctx context.Context, limit int) ([]protocol.Task, error)
	// Task returns a task with its participants and conversations; ok is
	// false when there is no such task.
	Task(ctx context.Context, taskID protocol.TaskID) (v TaskView, ok bool, err error)
	// Conversation returns a conversation with its last limit messages and
	// their fan-out decisions, oldest first; ok is false when there is no
	// such conversation.
	Conversation(ctx context.Context, convID protocol.ConversationID, limit int) (v ConversationView, ok bool, err error)
	// Leases returns the dispatch leases of a conversation the server still
	// holds (live ones and recently finished ones), oldest first.
	Leases(convID protocol.ConversationID) []protocol.LeaseRecord
}

// AgentPresence is an agent with open connections.
type AgentPresence struct {
	AgentID     protocol.AgentID        `json:"agentId"`
	Name        protocol.AgentName      `json:"name"`
	OwnerUserID protocol.UserID         `json:"ownerUserId,omitempty"`
	Status      protocol.PresenceStatus `json:"status"`
	// Connections is the number of open sockets of the agent.
	Connections int `json:"connections"`
	// ConnectedAt is when the agent's oldest open socket was accepted
	// (absent when none is open).
	ConnectedAt *protocol.DateTime `json:"connectedAt,omitempty"`
}

// TaskView is a task with its participants and conversations.
type TaskView struct {
	Task          protocol.Task           `json:"task"`
	Participants  []protocol.AgentID      `json:"participants"`
	Conversations []protocol.Conversation `json:"conversations"`
}

// ConversationView is a conversation with its latest messages.
type ConversationView struct {
	Conversation protocol.Conversation `json:"conversation"`
	TaskID       protocol.TaskID       `json:"taskId"`
	Messages     []ObservedMessage     `json:"messages"`
}

// Verdicts of a Decision.
const (
	VerdictForward = "forward" // delivered to Recipients
	VerdictBlock   = "block"   // stored, not delivered
	VerdictPending = "pending" // the TaskMaster has not decided yet
)

// Decision is the fan-out verdict of a message.
type Decision struct {
	Verdict    string             `json:"verdict"`
	Reason     string             `json:"reason,omitempty"`
	Recipients []protocol.AgentID `json:"recipients,omitempty"`
}

// ObservedMessage is a stored message with its fan-out decision.
type ObservedMessage struct {
	TaskID   protocol.TaskID  `json:"taskId"`
	Message  protocol.Message `json:"message"`
	Decision Decision         `json:"decision"`
}

// Nop is an Observer nobody watches: Watching is false and every event is
// discarded. It is what the server uses when no view is configured.
type Nop struct{}

var _ Observer = Nop{}

// Watching reports false.
func (Nop) Watching() bool { return false }

// AgentConnected discards the event.
func (Nop) AgentConnected(AgentPresence) {}

// AgentDisconnected discards the event.
func (Nop) AgentDisconnected(AgentPresence) {}

// PresenceChanged discards the event.
func (Nop) PresenceChanged(protocol.AgentID, protocol.PresenceStatus) {}

// TaskCreated discards the event.
func (Nop) TaskCreated(protocol.Task) {}

// TaskClosed discards the event.
func (Nop) TaskClosed(protocol.Task) {}

// TaskFailed discards the event.
func (Nop) TaskFailed(protocol.TaskID) {}

// ConversationCreated discards the event.
func (Nop) ConversationCreated(protocol.TaskID, protocol.Conversation) {}

// ConversationArchived discards the event.
func (Nop) ConversationArchived(protocol.TaskID, protocol.ConversationID) {}

// ConversationUnarchived discards the event.
func (Nop) ConversationUnarchived(protocol.TaskID, protocol.ConversationID) {}

// ParticipantsAdded discards the event.
func (Nop) ParticipantsAdded(protocol.TaskID, protocol.ConversationID, []protocol.AgentID) {}

// ParticipantRemoved discards the event.
func (Nop) ParticipantRemoved(protocol.TaskID, protocol.ConversationID, protocol.AgentID) {}

// MessageReceived discards the event.
func (Nop) MessageReceived(ObservedMessage) {}

// MessageBlocked discards the event.
func (Nop) MessageBlocked(ObservedMessage) {}

// LeaseChanged discards the event.
func (Nop) LeaseChanged(protocol.LeaseRecord) {}
