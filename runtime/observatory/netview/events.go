package netview

import (
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/feed"
)

// Watching reports whether any observer is subscribed to any topic.
func (v *View) Watching() bool { return v.obs.Watched() }

// broadcast sends an event to a topic's subscribers (nothing is encoded
// when there are none).
func (v *View) broadcast(topic, event string, payload any) {
	if _, err := v.obs.Broadcast(topic, event, payload); err != nil {
		v.log.Error("netview: broadcast", "topic", topic, "event", event, "err", err)
	}
}

// AgentConnected broadcasts agent:connected on network.
func (v *View) AgentConnected(a feed.AgentPresence) { v.broadcast(TopicNetwork, "agent:connected", a) }

// AgentDisconnected broadcasts agent:disconnected on network.
func (v *View) AgentDisconnected(a feed.AgentPresence) {
	v.broadcast(TopicNetwork, "agent:disconnected", a)
}

// presencePayload is the payload of presence:changed.
type presencePayload struct {
	AgentID protocol.AgentID        `json:"agentId"`
	Status  protocol.PresenceStatus `json:"status"`
}

// PresenceChanged broadcasts presence:changed on network.
func (v *View) PresenceChanged(agentID protocol.AgentID, status protocol.PresenceStatus) {
	v.broadcast(TopicNetwork, "presence:changed", presencePayload{AgentID: agentID, Status: status})
}

// taskPayload is the payload of task:created and task:closed.
type taskPayload struct {
	Task protocol.Task `json:"task"`
}

// taskIDPayload is the payload of task:failed.
type taskIDPayload struct {
	TaskID protocol.TaskID `json:"taskId"`
}

// TaskCreated broadcasts task:created on network and task:<id>.
func (v *View) TaskCreated(t protocol.Task) { v.taskEvent(t.ID, "task:created", taskPayload{Task: t}) }

// TaskClosed broadcasts task:closed on network and task:<id>.
func (v *View) TaskClosed(t protocol.Task) { v.taskEvent(t.ID, "task:closed", taskPayload{Task: t}) }

// TaskFailed broadcasts task:failed on network and task:<id>.
func (v *View) TaskFailed(taskID protocol.TaskID) {
	v.taskEvent(taskID, "task:failed", taskIDPayload{TaskID: taskID})
}

// taskEvent broadcasts a task lifecycle event on network and on the task.
func (v *View) taskEvent(taskID protocol.TaskID, event string, payload any) {
	v.broadcast(TopicNetwork, event, payload)
	v.broadcast(PrefixTask+lower(taskID), event, payload)
}

// conversationPayload is the payload of conversation:created.
type conversationPayload struct {
	Conversation protocol.Conversation `json:"conversation"`
}

// conversationIDPayload is the payload of conversation:archived and
// conversation:unarchived.
type conversationIDPayload struct {
	ConversationID protocol.ConversationID `json:"conversationId"`
}

// ConversationCreated broadcasts conversation:created on task:<id>.
func (v *View) ConversationCreated(taskID protocol.TaskID, c protocol.Conversation) {
	v.broadcast(PrefixTask+lower(taskID), "conversation:created", conversationPayload{Conversation: c})
}

// ConversationArchived broadcasts conversation:archived on task:<id>.
func (v *View) ConversationArchived(taskID protocol.TaskID, convID protocol.ConversationID) {
	v.broadcast(PrefixTask+lower(taskID), "conversation:archived", conversationIDPayload{ConversationID: convID})
}

// ConversationUnarchived broadcasts conversation:unarchived on task:<id>.
func (v *View) ConversationUnarchived(taskID protocol.TaskID, convID protocol.ConversationID) {
	v.broadcast(PrefixTask+lower(taskID), "conversation:unarchived", conversationIDPayload{ConversationID: convID})
}

// participantsAddedPayload is the payload of participants:added.
type participantsAddedPayload struct {
	ConversationID protocol.ConversationID `json:"conversationId"`
	AgentIDs       []protocol.AgentID      `json:"agentIds"`
}

// participantRemovedPayload is the payload of participants:removed.
type participantRemovedPayload struct {
	ConversationID protocol.ConversationID `json:"conversationId"`
	AgentID        protocol.AgentID        `json:"agentId"`
}

// ParticipantsAdded broadcasts participants:added on task:<id>.
func (v *View) ParticipantsAdded(taskID protocol.TaskID, convID protocol.ConversationID, agentIDs []protocol.AgentID) {
	v.broadcast(PrefixTask+lower(taskID), "participants:added", participantsAddedPayload{ConversationID: convID, AgentIDs: agentIDs})
}

// ParticipantRemoved broadcasts participants:removed on task:<id>.
func (v *View) ParticipantRemoved(taskID protocol.TaskID, convID protocol.ConversationID, agentID protocol.AgentID) {
	v.broadcast(PrefixTask+lower(taskID), "participants:removed", participantRemovedPayload{ConversationID: convID, AgentID: agentID})
}

// MessageReceived broadcasts message:received on conversation:<id>.
func (v *View) MessageReceived(m feed.ObservedMessage) {
	v.broadcast(PrefixConversation+lower(m.Message.ConversationID), "message:received", m)
}

// MessageBlocked broadcasts message:blocked on conversation:<id>.
func (v *View) MessageBlocked(m feed.ObservedMessage) {
	v.broadcast(PrefixConversation+lower(m.Message.ConversationID), "message:blocked", m)
}

// leasePayload is the payload of the lease:* events.
type leasePayload struct {
	Lease protocol.LeaseRecord `json:"lease"`
}

// leaseEvent names the event of the state a lease reached (REFERENCE 18.3, plus
// lease:claimed for a reply in flight).
func leaseEvent(state protocol.LeaseState) string {
	switch state {
	case protocol.LeaseStatePENDING:
		return "lease:minted"
	case protocol.LeaseStateGRANTED, protocol.LeaseStateHOLD, protocol.LeaseStateDENIED:
		return "lease:released" // the verdict is the record's state and verdict
	case protocol.LeaseStateCLAIMED:
		return "lease:claimed"
	case protocol.LeaseStateCONSUMED:
		return "lease:consumed"
	case protocol.LeaseStateEXPIRED:
		return "lease:expired"
	case protocol.LeaseStateABANDONED:
		return "lease:abandoned"
	}
	return "lease:changed"
}

// LeaseChanged broadcasts lease:<transition> on dispatch:<conversationId>.
func (v *View) LeaseChanged(l protocol.LeaseRecord) {
	v.broadcast(PrefixDispatch+lower(l.ConversationID), leaseEvent(l.State), leasePayload{Lease: l})
}
