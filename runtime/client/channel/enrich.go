package channel

import (
	"context"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// nameLookupTimeout bounds the agents/lookup calls of one enrichment.
const nameLookupTimeout = 5 * time.Second

// enrich builds the handler's view of a batch (REFERENCE 17.4) and returns the commit of
// the context peeks it made.
func (c *Core) enrich(ctx context.Context, batch []*item, leaseID string) (*Inbound, func()) {
	primary := batch[0]
	conv := string(primary.msg.ConversationID)
	nctx, cancel := context.WithTimeout(ctx, nameLookupTimeout)
	defer cancel()
	names := map[string]string{}
	sender := func(id protocol.AgentID) Sender {
		n, ok := names[string(id)]
		if !ok {
			n = c.svc.ResolveAgentName(nctx, string(id))
			names[string(id)] = n
		}
		return Sender{ID: string(id), Name: n}
	}
	in := &Inbound{
		ID:              string(primary.msg.ID),
		TaskID:          primary.taskID,
		ConversationID:  conv,
		Sender:          sender(primary.msg.SenderID),
		Text:            service.TextOf(primary.msg.Parts),
		IsFromMe:        string(primary.msg.SenderID) == c.svc.AgentID(),
		CreatedAt:       string(primary.msg.CreatedAt),
		ReplyToID:       deref(primary.msg.ReplyToID),
		DispatchLeaseID: leaseID,
		Attempt:         primary.attempt,
		Message:         primary.msg,
	}
	for _, it := range batch {
		in.Batch = append(in.Batch, it.msg)
		in.Coalesced = append(in.Coalesced, BatchMessage{
			ID:        string(it.msg.ID),
			Sender:    sender(it.msg.SenderID),
			Text:      service.TextOf(it.msg.Parts),
			CreatedAt: string(it.msg.CreatedAt),
			ReplyToID: deref(it.msg.ReplyToID),
		})
	}
	if cv, ok := c.svc.Conversation(conv); ok {
		meta := &ConversationMeta{Type: cv.Type, Name: cv.Name}
		for _, p := range cv.Participants {
			meta.Participants = append(meta.Participants, "agent:"+p)
		}
		in.Conversation = meta
		if cv.Type == string(protocol.ConversationTypeGroup) {
			in.Context.GroupMetadata = meta
		}
	}
	entries := c.svc.PeekContextEntries(conv, c.opts.Context)
	full := c.svc.PeekFullMessages(conv, c.opts.Context)
	in.Context.CrossConversation = entries.Entries
	in.Context.CrossConversationMessages = full.Messages
	return in, func() {
		entries.Commit()
		full.Commit()
	}
}
