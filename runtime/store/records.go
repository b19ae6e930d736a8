package store

import (
	"encoding/json"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Agent is a registered agent with its credentials.
type Agent struct {
	ID          protocol.AgentID
	Name        protocol.AgentName
	Description string          // "" = none
	DisplayName string          // "" = none
	OwnerUserID protocol.UserID // "" = unclaimed
	Status      protocol.AgentStatus
	// APIKeyID is the 16 lowercase hex key id of the agent's API key (unique).
	APIKeyID string
	// APIKeySecretHash is the lowercase hex SHA-256 of the key's secret.
	APIKeySecretHash string
	// ClaimToken is the agent's unique claim token ("" = none).
	ClaimToken string
	CreatedAt  time.Time
	UpdatedAt  time.Time // defaults to CreatedAt on insert
}

// Contact is an edge between two users, seen from one of them: OwnerUserID
// is the viewing user, ContactUserID the other one and Direction says who
// requested the edge.
type Contact struct {
	ID            protocol.ContactID
	OwnerUserID   protocol.UserID
	ContactUserID protocol.UserID
	Relationship  string // "" = none
	Status        protocol.ContactStatus
	Direction     protocol.ContactDirection
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ForViewer returns c seen from userID and whether userID is one of its two
// users.
func (c Contact) ForViewer(userID protocol.UserID) (Contact, bool) {
	switch userID {
	case c.OwnerUserID:
		return c, true
	case c.ContactUserID:
		c.OwnerUserID, c.ContactUserID = c.ContactUserID, c.OwnerUserID
		if c.Direction == protocol.ContactDirectionOutgoing {
			c.Direction = protocol.ContactDirectionIncoming
		} else {
			c.Direction = protocol.ContactDirectionOutgoing
		}
		return c, true
	}
	return Contact{}, false
}

// RequesterUserID returns the user who requested the edge.
func (c Contact) RequesterUserID() protocol.UserID {
	if c.Direction == protocol.ContactDirectionIncoming {
		return c.ContactUserID
	}
	return c.OwnerUserID
}

// TargetUserID returns the user the edge was requested from.
func (c Contact) TargetUserID() protocol.UserID {
	if c.Direction == protocol.ContactDirectionIncoming {
		return c.OwnerUserID
	}
	return c.ContactUserID
}

// Task is a unit of work owned by an app.
type Task struct {
	ID               protocol.TaskID
	AppID            protocol.AppID
	InitiatorAgentID protocol.AgentID
	Status           protocol.TaskStatus
	StartedAt        *time.Time // set when the task becomes active
	EndedAt          *time.Time // set when the task fails or closes
	CreatedAt        time.Time
}

// Terminal reports whether the task is failed or closed.
func (t Task) Terminal() bool {
	return t.Status == protocol.TaskStatusFailed || t.Status == protocol.TaskStatusClosed
}

// TaskParticipant is an agent's membership of a task.
type TaskParticipant struct {
	TaskID     protocol.TaskID
	AgentID    protocol.AgentID
	AdmittedAt *time.Time // nil = invited, not admitted (reserved)
}

// ParticipantRemoval is the outcome of RemoveTaskParticipant.
type ParticipantRemoval struct {
	// Removed reports whether the agent was a participant of the task.
	Removed bool
	// ConversationIDs lists the conversations of the task the agent was
	// removed from, ordered by id.
	ConversationIDs []protocol.ConversationID
	// Remaining is the number of participants left in the task.
	Remaining int
}

// Conversation is a message stream inside a task.
type Conversation struct {
	ID            protocol.ConversationID
	TaskID        protocol.TaskID
	Type          protocol.ConversationType
	Name          string // "" = none
	CreatedBy     protocol.AgentID
	Metadata      json.RawMessage // nil = none; must be valid JSON otherwise
	LastMessageAt *time.Time
	ArchivedAt    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ConversationListItem is a conversation with its member agent ids.
type ConversationListItem struct {
	Conversation Conversation
	Participants []protocol.AgentID
}

// DecisionTag is the kind of a TM decision on a message, as stored (the
// protocol has no pending verdict, so this is the store's own type).
type DecisionTag string

// Decision tags.
const (
	DecisionPending DecisionTag = "pending"
	DecisionForward DecisionTag = "forward"
	DecisionBlock   DecisionTag = "block"
)

// Decision is the task manager's verdict on a message. Its JSON form is the
// stored form: {"tag":"pending"}, {"tag":"forward","recipients":[...]} or
// {"tag":"block","reason":"..."}.
type Decision struct {
	Tag        DecisionTag        `json:"tag"`
	Recipients []protocol.AgentID `json:"recipients,omitempty"` // forward only
	Reason     string             `json:"reason,omitempty"`     // block only
}

// Message is a stored message.
type Message struct {
	ID             protocol.MessageID
	ConversationID protocol.ConversationID
	TaskID         protocol.TaskID
	SenderID       protocol.AgentID
	ReplyToID      protocol.MessageID // "" = none
	// Seq is the per-conversation sequence number, assigned by the store.
	Seq int64
	// Parts is the encoded message body; the store keeps it as opaque bytes.
	Parts          []byte
	TaggedEntities []protocol.AgentID // nil = none
	Decision       Decision
	CreatedAt      time.Time
}

// MessageViewer is who reads a conversation's history.
type MessageViewer struct {
	AgentID protocol.AgentID
	// SeesAll is set for the task manager, who sees every message.
	SeesAll bool
}

// CanSee reports whether v may see m: everything when SeesAll, otherwise
// its own messages and those forwarded to it.
func (v MessageViewer) CanSee(m Message) bool {
	if v.SeesAll || m.SenderID == v.AgentID {
		return true
	}
	if m.Decision.Tag != DecisionForward {
		return false
	}
	for _, r := range m.Decision.Recipients {
		if r == v.AgentID {
			return true
		}
	}
	return false
}
