package service

import (
	"context"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Send posts text as a single text part to a conversation (messages/send). replyTo and
// dispatchLeaseID are optional ("" leaves them out); a lease is spent by a successful
// send. The stored message is marked as seen, so a later catch-up does not deliver this
// agent's own message back.
func (s *Service) Send(ctx context.Context, taskID, convID, text, replyTo, dispatchLeaseID string) (protocol.Message, error) {
	p := protocol.MessagesSendParams{
		TaskID:         protocol.TaskID(taskID),
		ConversationID: protocol.ConversationID(convID),
		Parts:          protocol.MessageParts{protocol.TextPart{Text: text}},
	}
	if replyTo != "" {
		id := protocol.MessageID(replyTo)
		p.ReplyToID = &id
	}
	if dispatchLeaseID != "" {
		id := protocol.LeaseID(dispatchLeaseID)
		p.DispatchLeaseID = &id
	}
	res, err := s.conn.MessagesSend(ctx, p)
	if err != nil {
		return protocol.Message{}, fmt.Errorf("moltzap service: send to conversation %s: %w", convID, err)
	}
	s.markSent(taskID, res.Message)
	return res.Message, nil
}

// markSent adds an own message to the de-duplication window without moving the catch-up
// cursor (messages of others with a lower seq may still be in flight).
func (s *Service) markSent(taskID string, m protocol.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.ensureConv(string(m.ConversationID), taskID)
	cs.seen.add(string(m.ID))
}
