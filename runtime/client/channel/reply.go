package channel

import (
	"context"
	"fmt"
)

// Reply sends text into the conversation of the dispatch that ctx belongs to (ctx must
// derive from the handler's). The first successful reply carries the dispatch lease
// (messages/send dispatchLeaseId), spending it; later replies go without one. A reply
// into a conversation that has been closed (archived) meanwhile is dropped and logged,
// and Reply returns nil.
func (c *Core) Reply(ctx context.Context, text string) error {
	t := turnFrom(ctx)
	if t == nil {
		return ErrNoTurn
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended.Load() {
		return ErrTurnEnded
	}
	if c.isClosed(t.convID) {
		c.log.Info("moltzap channel: dropping reply to closed conversation", "conversationId", t.convID)
		return nil
	}
	if _, err := c.svc.Send(ctx, t.taskID, t.convID, text, "", t.lease); err != nil {
		return fmt.Errorf("moltzap channel: reply: %w", err)
	}
	t.lease = ""
	return nil
}
