package store

import (
	"encoding/json"
	"time"
)

// AgentStatus is the lifecycle status of an agent.
type AgentStatus string

// Agent statuses.
const (
	AgentPendingClaim AgentStatus = "pending_claim"
	AgentActive       AgentStatus = "active"
	AgentSuspended    AgentStatus = "suspended"
)

// Valid reports whether s is a known agent status.
func (s AgentStatus) Valid() bool {
	switch s {
	case AgentPendingClaim, AgentActive, AgentSuspended:
		return true
	}
	return false
}

// Agent is a registered agent with its credentials.
type Agent struct {
	ID          string
	Name        string
	Description string // "" = none
	DisplayName string // "" = none
	OwnerUserID string // "" = unclaimed
	Status      AgentStatus
	// APIKeyID is the 16 lowercase hex key id of the agent's API key (unique).
	APIKeyID string
	// APIKeySecretHash is the lowercase hex SHA-256 of the key's secret.
	APIKeySecretHash string
	// ClaimToken is the agent's unique claim token ("" = none).
	ClaimToken string
	CreatedAt  time.Time
	UpdatedAt  time.Time // defaults to CreatedAt on insert
}

// ContactStatus is the state of a contact edge.
type ContactStatus string

// Contact statuses.
const (
	ContactPending  ContactStatus = "pending"
	ContactAccepted ContactStatus = "accepted"
)

// ContactDirection tells, from the viewing user, who requested an edge.
type ContactDirection string

// Contact directions.
const (
	// ContactOutgoing: the viewer requested the edge.
	ContactOutgoing ContactDirection = "outgoing"
	// ContactIncoming: the other user requested the edge.
	ContactIncoming ContactDirection = "incoming"
)

// Contact is an edge between two users, seen from one of them: OwnerUserID
// is the viewing user, ContactUserID the other one and Direction says who
// requested the edge.
type Contact struct {
	ID            string
	OwnerUserID   string
	ContactUserID string
	Relationship  string // "" = none
	Status        ContactStatus
	Direction     ContactDirection
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ForViewer returns c seen from userID and whether userID is one of its two
// users.
func (c Contact) ForViewer(userID string) (Contact, bool) {
	switch userID {
	case c.OwnerUserID:
		return c, true
	case c.ContactUserID:
		c.OwnerUserID, c.ContactUserID = c.ContactUserID, c.OwnerUserID
		if c.Direction == ContactOutgoing {
			c.Direction = ContactIncoming
		} else {
			c.Direction = ContactOutgoing
		}
		return c, true
	}
	return Contact{}, false
}

// RequesterUserID returns the user who requested the edge.
func (c Contact) RequesterUserID() string {
	if c.Direction == ContactIncoming {
		return c.ContactUserID
	}
	return c.OwnerUserID
}

// TargetUserID returns the user the edge was requested from.
func (c Contact) TargetUserID() string {
	if c.Direction == ContactIncoming {
		return c.OwnerUserID
	}
	return c.ContactUserID
}

// TaskStatus is the lifecycle status of a task.
type TaskStatus string

// Task statuses.
const (
	TaskWaiting TaskStatus = "waiting"
	TaskActive  TaskStatus = "active"
	TaskFailed  TaskStatus = "failed"
	TaskClosed  TaskStatus = "closed"
)

// Valid reports whether s is a known task status.
func (s TaskStatus) Valid() bool {
	switch s {
	case TaskWaiting, TaskActive, TaskFailed, TaskClosed:
		return true
	}
	return false
}

// Terminal reports whether s is failed or closed.
func (s TaskStatus) Terminal() bool { return s == TaskFailed || s == TaskClosed }

// Task is a unit of work owned by an app.
type Task struct {
	ID               string
	AppID            string
	InitiatorAgentID string
	Status           TaskStatus
	StartedAt        *time.Time // set when the task becomes active
	EndedAt          *time.Time // set when the task fails or closes
	CreatedAt        time.Time
}

// TaskParticipant is an agent's membership of a task.
type TaskParticipant struct {
	TaskID     string
	AgentID    string
	AdmittedAt *time.Time // nil = invited, not admitted (reserved)
}

// ParticipantRemoval is the outcome of RemoveTaskParticipant.
type ParticipantRemoval struct {
	// Removed reports whether the agent was a participant of the task.
	Removed bool
	// ConversationIDs lists the conversations of the task the agent was
	// removed from, ordered by id.
	ConversationIDs []string
	// Remaining is the number of participants left in the task.
	Remaining int
}

// ConversationType is the kind of a conversation.
type ConversationType string

// Conversation types.
const (
	ConversationDM    ConversationType = "dm"
	ConversationGroup ConversationType = "group"
)

// Valid reports whether t is a known conversation type.
func (t ConversationType) Valid() bool { return t == ConversationDM || t == ConversationGroup }

// Conversation is a message stream inside a task.
type Conversation struct {
	ID            string
	TaskID        string
	Type          ConversationType
	Name          string // "" = none
	CreatedBy     string
	Metadata      json.RawMessage // nil = none; must be valid JSON otherwise
	LastMessageAt *time.Time
	ArchivedAt    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ConversationListItem is a conversation with its member agent ids.
type ConversationListItem struct {
	Conversation Conversation
	Participants []string
}

// DecisionTag is the kind of a TM decision on a message.
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
	Tag        DecisionTag `json:"tag"`
	Recipients []string    `json:"recipients,omitempty"` // forward only
	Reason     string      `json:"reason,omitempty"`     // block only
}

// Message is a stored message.
type Message struct {
	ID             string
	ConversationID string
	TaskID         string
	SenderID       string
	ReplyToID      string // "" = none
	// Seq is the per-conversation sequence number, assigned by the store.
	Seq int64
	// Parts is the encoded message body; the store keeps it as opaque bytes.
	Parts          []byte
	TaggedEntities []string // nil = none
	Decision       Decision
	CreatedAt      time.Time
}

// MessageViewer is who reads a conversation's history.
type MessageViewer struct {
	AgentID string
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
