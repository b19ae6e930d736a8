package server

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

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

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func agentCard(a store.Agent) protocol.AgentCard {
	c := protocol.AgentCard{
		ID:          protocol.AgentID(a.ID),
		Name:        protocol.AgentName(a.Name),
		DisplayName: optString(a.DisplayName),
		Description: optString(a.Description),
		Status:      protocol.AgentStatus(a.Status),
	}
	if a.OwnerUserID != "" {
		o := protocol.UserID(a.OwnerUserID)
		c.OwnerUserID = &o
	}
	return c
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
		ID:            protocol.ContactID(c.ID),
		ContactUserID: protocol.UserID(c.ContactUserID),
		Relationship:  optString(c.Relationship),
		Status:        protocol.ContactStatus(c.Status),
		Direction:     protocol.ContactDirection(c.Direction),
	}
}

func task(t store.Task) protocol.Task {
	return protocol.Task{
		ID:               protocol.TaskID(t.ID),
		AppID:            protocol.AppID(t.AppID),
		InitiatorAgentID: protocol.AgentID(t.InitiatorAgentID),
		Status:           protocol.TaskStatus(t.Status),
		StartedAt:        optDateTime(t.StartedAt),
		EndedAt:          optDateTime(t.EndedAt),
		CreatedAt:        dateTime(t.CreatedAt),
	}
}

func taskParticipant(p store.TaskParticipant) protocol.TaskParticipant {
	return protocol.TaskParticipant{TaskID: protocol.TaskID(p.TaskID), AgentID: protocol.AgentID(p.AgentID), AdmittedAt: optDateTime(p.AdmittedAt)}
}

func conversation(c store.Conversation) protocol.Conversation {
	out := protocol.Conversation{
		ID:                   protocol.ConversationID(c.ID),
		Type:                 protocol.ConversationType(c.Type),
		Name:                 optString(c.Name),
		CreatedBy:            protocol.AgentID(c.CreatedBy),
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

func agentIDs(ids []string) []protocol.AgentID {
	out := make([]protocol.AgentID, len(ids))
	for i, id := range ids {
		out[i] = protocol.AgentID(id)
	}
	return out
}

func strs[T ~string](ids []T) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// message converts a stored message; parts were stored as the JSON of MessageParts.
func message(m store.Message) (protocol.Message, error) {
	var parts protocol.MessageParts
	if err := json.Unmarshal(m.Parts, &parts); err != nil {
		return protocol.Message{}, err
	}
	out := protocol.Message{
		ID:             protocol.MessageID(m.ID),
		ConversationID: protocol.ConversationID(m.ConversationID),
		SenderID:       protocol.AgentID(m.SenderID),
		Seq:            protocol.Seq(strconv.FormatInt(m.Seq, 10)),
		Parts:          parts,
		CreatedAt:      dateTime(m.CreatedAt),
	}
	if m.ReplyToID != "" {
		r := protocol.MessageID(m.ReplyToID)
		out.ReplyToID = &r
	}
	if m.TaggedEntities != nil {
		out.TaggedEntities = agentIDs(m.TaggedEntities)
	}
	return out, nil
}
