// Package store defines the persistence layer of a MoltZap server: the record
// types it stores, the operations the server needs grouped by area, and the
// sentinel errors every implementation reports.
//
// Implementations live in sub-packages (sqlite is the embedded default); the
// conformance suite in storetest pins the behaviour every implementation
// must share.
//
// Conventions shared by every method:
//   - ctx is honoured for cancellation and deadlines.
//   - The store never reads the clock: every timestamp is supplied by the
//     caller. Times are returned in UTC, truncated to microseconds.
//   - Ids, names and statuses use the protocol's types (protocol.AgentID,
//     protocol.TaskStatus, ...), so records and wire values share their
//     fields without conversions. Ids are opaque (UUIDs minted by the
//     server); the store never generates one.
//   - Optional string fields use "" for "absent"; optional times are pointers.
//   - Slice results are empty, never nil, when there is nothing to return.
//   - Errors wrap the sentinels of errors.go; test them with errors.Is.
package store

import (
	"context"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// AgentStore persists agents, their API keys and their claim state.
type AgentStore interface {
	// CreateAgent inserts a new agent. It fails with ErrConflict when the id,
	// the name, the API key id or the claim token is already taken, and with
	// ErrInvalid when a required field is missing or the status is unknown.
	CreateAgent(ctx context.Context, a Agent) (Agent, error)
	// GetAgent returns the agent with the given id or ErrNotFound.
	GetAgent(ctx context.Context, id protocol.AgentID) (Agent, error)
	// GetAgentByName returns the agent with the given name or ErrNotFound.
	GetAgentByName(ctx context.Context, name protocol.AgentName) (Agent, error)
	// GetAgentByKeyID returns the agent holding API key id keyID, provided it
	// is not suspended; otherwise ErrNotFound.
	GetAgentByKeyID(ctx context.Context, keyID string) (Agent, error)
	// GetAgentsByIDs returns the agents among ids that exist, ordered by
	// name. Unknown ids are omitted; duplicates are collapsed.
	GetAgentsByIDs(ctx context.Context, ids []protocol.AgentID) ([]Agent, error)
	// GetAgentsByNames returns the agents among names that exist, ordered by
	// name. Unknown names are omitted; duplicates are collapsed. Names are
	// plain strings: a lookup may ask for any name, valid or not.
	GetAgentsByNames(ctx context.Context, names []string) ([]Agent, error)
	// ClaimAgent atomically sets the owner of the agent holding claimToken,
	// only where it has none. firstClaim reports whether this call set it. A
	// repeated claim by the same owner succeeds with firstClaim false. It
	// fails with ErrNotFound for an unknown (or empty) token and with
	// ErrOwnerMismatch when another owner already holds the agent.
	ClaimAgent(ctx context.Context, claimToken string, ownerUserID protocol.UserID, at time.Time) (a Agent, firstClaim bool, err error)
	// RotateAgentKey replaces the API key of the agent named name, provided
	// its owner is ownerUserID ("" = unclaimed) and it is not suspended. It
	// fails with ErrNotFound for an unknown name and with ErrConflict when
	// the owner differs, the agent is suspended or keyID is taken.
	RotateAgentKey(ctx context.Context, name protocol.AgentName, ownerUserID protocol.UserID, keyID, secretHash string, at time.Time) (Agent, error)
	// SetAgentStatus changes the status of an agent (administration, e.g.
	// suspension). It fails with ErrNotFound or ErrInvalid.
	SetAgentStatus(ctx context.Context, id protocol.AgentID, status protocol.AgentStatus, at time.Time) (Agent, error)
	// AgentsByOwner returns every agent owned by ownerUserID, ordered by
	// name. An empty ownerUserID yields no agents.
	AgentsByOwner(ctx context.Context, ownerUserID protocol.UserID) ([]Agent, error)
	// ListVisibleAgents pages through the agents viewerAgentID may see,
	// ordered by name: its siblings (same owner, itself included) plus the
	// agents owned by users that are accepted contacts (either direction) of
	// its owner. An unclaimed viewer sees only itself. It fails with
	// ErrNotFound for an unknown viewer and ErrBadCursor for a bad cursor.
	ListVisibleAgents(ctx context.Context, viewerAgentID protocol.AgentID, page Page) (PageResult[Agent], error)
}

// ContactStore persists contact edges between users.
type ContactStore interface {
	// AddContact inserts a pending edge from c.OwnerUserID (the requester) to
	// c.ContactUserID (the target) using c.ID, c.Relationship and c.CreatedAt;
	// Status and Direction are ignored. It fails with ErrConflict when an edge
	// between the two users exists in either direction (or the id is taken)
	// and with ErrInvalid when a user is missing or both are the same user.
	// The result is seen from the requester (Direction outgoing).
	AddContact(ctx context.Context, c Contact) (Contact, error)
	// GetContact returns the edge seen from its requester (Direction
	// outgoing) or ErrNotFound. Use Contact.ForViewer to change perspective.
	GetContact(ctx context.Context, id protocol.ContactID) (Contact, error)
	// AcceptContact marks the edge accepted on behalf of acceptingUserID,
	// who must be its target. transitioned reports whether it was pending.
	// It fails with ErrNotFound when the edge does not exist or does not
	// involve acceptingUserID, and with ErrForbidden when acceptingUserID is
	// the requester. The result is seen from acceptingUserID.
	AcceptContact(ctx context.Context, id protocol.ContactID, acceptingUserID protocol.UserID, at time.Time) (c Contact, transitioned bool, err error)
	// ListContacts pages through every edge involving userID, in both
	// directions and both statuses, each seen from userID, ordered by
	// creation (oldest first). It fails with ErrBadCursor for a bad cursor.
	ListContacts(ctx context.Context, userID protocol.UserID, page Page) (PageResult[Contact], error)
	// AreInContact reports whether userA and userB are the same (non-empty)
	// user or joined by an accepted edge in either direction.
	AreInContact(ctx context.Context, userA, userB protocol.UserID) (bool, error)
}

// TaskStore persists tasks and their participants.
type TaskStore interface {
	// CreateTask inserts t (Status defaults to waiting; StartedAt/EndedAt are
	// stored as given) and admits every agent of participants at t.CreatedAt,
	// in one transaction. It fails with ErrConflict for a taken id, with
	// ErrNotFound when the initiator or a participant does not exist and with
	// ErrInvalid for missing fields or an unknown status.
	CreateTask(ctx context.Context, t Task, participants []protocol.AgentID) (Task, error)
	// GetTask returns the task or ErrNotFound.
	GetTask(ctx context.Context, id protocol.TaskID) (Task, error)
	// SetTaskStatus moves the task to status to if its current status is in
	// from (compare-and-set). Moving to active sets StartedAt (unless set);
	// moving to failed or closed sets EndedAt. It fails with ErrNotFound, and
	// with ErrStateChanged (returning the current task) when the current
	// status is not in from.
	SetTaskStatus(ctx context.Context, id protocol.TaskID, from []protocol.TaskStatus, to protocol.TaskStatus, at time.Time) (Task, error)
	// ListTasksForAgent pages through the tasks agentID is an admitted
	// participant of, newest CreatedAt first. It fails with ErrBadCursor.
	ListTasksForAgent(ctx context.Context, agentID protocol.AgentID, page Page) (PageResult[Task], error)
	// AddTaskParticipant admits agentID to the task (upsert). A participant
	// already admitted keeps its first AdmittedAt; otherwise AdmittedAt is
	// at. It fails with ErrNotFound when the task or the agent does not exist.
	AddTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID, at time.Time) (TaskParticipant, error)
	// RemoveTaskParticipant removes agentID from the task and, in the same
	// transaction, from every conversation of the task. Removing a
	// non-participant is not an error. It fails with ErrNotFound for an
	// unknown task.
	RemoveTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (ParticipantRemoval, error)
	// IsTaskParticipant reports whether agentID is an admitted participant.
	IsTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (bool, error)
	// TaskParticipants lists the participants of the task ordered by
	// admission time, then agent id. It fails with ErrNotFound for an
	// unknown task.
	TaskParticipants(ctx context.Context, taskID protocol.TaskID) ([]TaskParticipant, error)
	// CloseTask closes the task in one transaction: status closed (only from
	// waiting or active), EndedAt = at, and ArchivedAt = at on every
	// conversation of the task not yet archived. It returns the closed task
	// and the ids of the conversations it archived. It fails with ErrNotFound
	// and with ErrStateChanged (returning the current task) when the task is
	// already failed or closed.
	CloseTask(ctx context.Context, taskID protocol.TaskID, at time.Time) (t Task, archived []protocol.ConversationID, err error)
	// WaitingTasksOlderThan returns the tasks still waiting that were
	// created strictly before t, oldest first (for the stale-task sweeper).
	WaitingTasksOlderThan(ctx context.Context, t time.Time) ([]Task, error)
}

// ConversationStore persists conversations and their membership.
type ConversationStore interface {
	// CreateConversation inserts c (UpdatedAt defaults to CreatedAt;
	// LastMessageAt, ArchivedAt are stored as given) and adds every agent of
	// participants (duplicates collapsed) joined at c.CreatedAt, in one
	// transaction. It fails with ErrConflict for a taken id, with ErrNotFound
	// when the task, the creator or a participant does not exist and with
	// ErrInvalid for missing fields, an unknown type or invalid metadata JSON.
	CreateConversation(ctx context.Context, c Conversation, participants []protocol.AgentID) (Conversation, error)
	// GetConversation returns the conversation or ErrNotFound.
	GetConversation(ctx context.Context, id protocol.ConversationID) (Conversation, error)
	// ConversationsOfTask returns the conversations of a task ordered by
	// creation time, then id.
	ConversationsOfTask(ctx context.Context, taskID protocol.TaskID) ([]Conversation, error)
	// ArchiveConversation sets ArchivedAt = at unless already archived (the
	// first timestamp is kept). changed reports whether it was set now.
	ArchiveConversation(ctx context.Context, id protocol.ConversationID, at time.Time) (c Conversation, changed bool, err error)
	// UnarchiveConversation clears ArchivedAt. changed reports whether it
	// was archived.
	UnarchiveConversation(ctx context.Context, id protocol.ConversationID, at time.Time) (c Conversation, changed bool, err error)
	// AddConversationParticipant adds agentID joined at at; added is false
	// when it was already a member. It fails with ErrNotFound when the
	// conversation or the agent does not exist.
	AddConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID, at time.Time) (added bool, err error)
	// RemoveConversationParticipant removes agentID; removed is false when it
	// was not a member. It fails with ErrNotFound for an unknown conversation.
	RemoveConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (removed bool, err error)
	// ConversationParticipants lists the member agent ids ordered by join
	// time, then id. It fails with ErrNotFound for an unknown conversation.
	ConversationParticipants(ctx context.Context, id protocol.ConversationID) ([]protocol.AgentID, error)
	// IsConversationParticipant reports whether agentID is a member.
	IsConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error)
	// ConversationIDsForAgent returns the ids of every conversation agentID
	// is a member of (archived ones included), ordered by id.
	ConversationIDsForAgent(ctx context.Context, agentID protocol.AgentID) ([]protocol.ConversationID, error)
	// ListConversationsForAgent pages through the conversations agentID is a
	// member of, archived ones included, with their members, most recent
	// activity first (UpdatedAt desc, id desc). It fails with ErrBadCursor.
	ListConversationsForAgent(ctx context.Context, agentID protocol.AgentID, page Page) (PageResult[ConversationListItem], error)
	// TouchConversation records activity: LastMessageAt and UpdatedAt move
	// forward to lastMessageAt (never backwards). It fails with ErrNotFound.
	TouchConversation(ctx context.Context, id protocol.ConversationID, lastMessageAt time.Time) error
}

// MessageStore persists messages, their sequence numbers and the TM decision.
type MessageStore interface {
	// AppendMessage stores m with the next sequence number of its
	// conversation (strictly increasing per conversation) and m.Decision
	// (pending when its tag is empty; a forward or block decision known before
	// the insert is stored at once, saving a second write), and touches the conversation (as TouchConversation with
	// m.CreatedAt), in one transaction. It returns the stored record once it
	// is committed. TaskID defaults to the conversation's task. It fails with
	// ErrNotFound when the conversation, the sender or the reply target (in
	// the same conversation) does not exist, with ErrConflict for a taken id
	// and with ErrInvalid for missing fields or a TaskID that is not the
	// conversation's.
	AppendMessage(ctx context.Context, m Message) (Message, error)
	// GetMessage returns the message or ErrNotFound.
	GetMessage(ctx context.Context, id protocol.MessageID) (Message, error)
	// SetMessageDecision records d (forward or block) if the stored decision
	// is still pending (compare-and-set) and returns it. When another
	// decision won it returns that decision with ErrStateChanged. It fails
	// with ErrNotFound and with ErrInvalid for a pending or unknown tag.
	SetMessageDecision(ctx context.Context, id protocol.MessageID, d Decision) (Decision, error)
	// ListMessages returns up to limit (default 50) messages of the
	// conversation visible to viewer, in ascending seq order. With sinceSeq
	// it returns the oldest matching rows with seq > *sinceSeq (forward
	// paging); without it, the newest matching rows. hasMore reports that
	// more matching rows exist beyond the returned ones in that direction
	// (newer ones with sinceSeq, older ones without). An unknown
	// conversation has no messages.
	ListMessages(ctx context.Context, conversationID protocol.ConversationID, viewer MessageViewer, sinceSeq *int64, limit int) (msgs []Message, hasMore bool, err error)
}

// Pinger is implemented by stores that can check their connection to the database
// (/readyz asks it).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Store is the complete persistence layer of a server.
type Store interface {
	AgentStore
	ContactStore
	TaskStore
	ConversationStore
	MessageStore
	// Close releases the resources of the store. It is safe to call once.
	Close() error
}
