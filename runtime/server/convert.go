package server

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// Store records carry the protocol's id types and enums; what is left to convert is the
// formatting: date-times, seq as a decimal string, and "" as an absent optional field.

// dateTime formats t as the wire's UTC date-time with milliseconds.
func dateTime(t time.Time) protocol.DateTime {
	return protocol.DateTime(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

func optDateTime(t *time.Time) *protocol.DateTime {
	if t == nil {
		return nil
	}
	d := dateTime(*t)
	return &d
}

// optString returns nil for "" (absent), else a pointer to s.
func optString[T ~string](s T) *T {
	if s == "" {
		return nil
	}
	return &s
}

func agentCard(a store.Agent) protocol.AgentCard {
	return protocol.AgentCard{
		ID:          a.ID,
		OwnerUserID: optString(a.OwnerUserID),
		Name:        a.Name,
		DisplayName: optString(a.DisplayName),
		Description: optString(a.Description),
		Status:      a.Status,
	}
}

func agentCards(as []store.Agent) []protocol.AgentCard {
	out := make([]protocol.AgentCard, len(as))
	for i, a := range as {
		out[i] = agentCard(a)
	}
	return out
}

func contact(c store.Contact) protocol.Contact {
	return protocol.Contact{
		ID:            c.ID,
		ContactUserID: c.ContactUserID,
		Relationship:  optString(c.Relationship),
		Status:        c.Status,
		Direction:     c.Direction,
	}
}

func task(t store.Task) protocol.Task {
	return protocol.Task{
		ID:               t.ID,
		AppID:            t.AppID,
		InitiatorAgentID: t.InitiatorAgentID,
		Status:           t.Status,
		StartedAt:        optDateTime(t.StartedAt),
		EndedAt:          optDateTime(t.EndedAt),
		CreatedAt:        dateTime(t.CreatedAt),
	}
}

func taskParticipant(p store.TaskParticipant) protocol.TaskParticipant {
	return protocol.TaskParticipant{TaskID: p.TaskID, AgentID: p.AgentID, AdmittedAt: optDateTime(p.AdmittedAt)}
}

func conversation(c store.Conversation) protocol.Conversation {
	out := protocol.Conversation{
		ID:                   c.ID,
		Type:                 c.Type,
		Name:                 optString(c.Name),
		CreatedBy:            c.CreatedBy,
		LastMessageTimestamp: optDateTime(c.LastMessageAt),
		ArchivedAt:           optDateTime(c.ArchivedAt),
		CreatedAt:            dateTime(c.CreatedAt),
		UpdatedAt:            dateTime(c.UpdatedAt),
	}
	if len(c.Metadata) > 0 {
		var md protocol.ConversationMetadata
		if json.Unmarshal(c.Metadata, &md) == nil {
			out.Metadata = &md
		}
	}
	return out
}

// message converts a stored message; parts were stored as the JSON of MessageParts.
func message(m store.Message) (protocol.Message, error) {
	var parts protocol.MessageParts
	if err := json.Unmarshal(m.Parts, &parts); err != nil {
		return protocol.Message{}, err
	}
	return protocol.Message{
		ID:             m.ID,
		ConversationID: m.ConversationID,
		SenderID:       m.SenderID,
		Seq:            protocol.Seq(strconv.FormatInt(m.Seq, 10)),
		ReplyToID:      optString(m.ReplyToID),
		Parts:          parts,
		TaggedEntities: m.TaggedEntities,
		CreatedAt:      dateTime(m.CreatedAt),
	}, nil
}
