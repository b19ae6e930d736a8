package channel

import (
	"context"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// Handler processes one dispatched batch. ctx carries the turn (use it with Core.Reply)
// and ends when the lease times out. A returned error is logged; the consumer continues.
// The cross-conversation context markers advance only when it returns nil.
type Handler func(ctx context.Context, in *Inbound) error

// Sender is a message's sender.
type Sender struct {
	ID   string
	Name string
}

// ConversationMeta describes the dispatched conversation.
type ConversationMeta struct {
	Type string // "dm" or "group"
	Name string
	// Participants are "agent:<uuid>" strings.
	Participants []string
}

// ContextBlocks is the context attached to a dispatch (REFERENCE 17.4).
type ContextBlocks struct {
	// GroupMetadata is set for group conversations.
	GroupMetadata *ConversationMeta
	// CrossConversation summarises new activity in the agent's other conversations
	// (render it with FormatContextBlock).
	CrossConversation []service.ContextEntry
	// CrossConversationMessages are those new messages in full.
	CrossConversationMessages []service.FullMessage
}

// BatchMessage is one message of a coalesced batch.
type BatchMessage struct {
	ID        string
	Sender    Sender
	Text      string // text parts joined with "\n"; other parts dropped
	CreatedAt string
	ReplyToID string
}

// Inbound is an enriched dispatch: the primary (first) message of the batch plus the
// whole batch.
type Inbound struct {
	ID             string
	TaskID         string
	ConversationID string
	Sender         Sender
	// Text is the primary message's text parts joined with "\n".
	Text      string
	IsFromMe  bool
	CreatedAt string
	ReplyToID string
	// Conversation is the cached conversation metadata (nil when unknown).
	Conversation *ConversationMeta
	Context      ContextBlocks
	// Coalesced is the whole batch, primary first.
	Coalesced []BatchMessage
	// DispatchLeaseID is the lease Reply spends ("" for an implicit grant).
	DispatchLeaseID string
	// Attempt is the primary message's admission attempt (0 unless it was held).
	Attempt int64
	// Message and Batch are the raw messages.
	Message protocol.Message
	Batch   []protocol.Message
}
