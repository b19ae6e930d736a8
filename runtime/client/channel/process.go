package channel

import (
	"context"
	"slices"
)

// process runs one queue item through candidate selection, admission and its verdict.
func (c *Core) process(ctx context.Context, w *item) {
	cand := c.candidate(w)
	if cand == nil {
		return
	}
	conv := string(cand.msg.ConversationID)
	dec := c.admit(ctx, cand)
	if ctx.Err() != nil {
		return // stopping; Run drops the rest
	}
	switch dec.kind {
	case verdictDeny:
		c.log.Info("moltzap channel: dispatch denied; dropping message",
			"messageId", cand.msg.ID, "conversationId", conv, "reason", dec.reason)
	case verdictHold:
		c.hold(cand, dec.reason)
	case verdictGrant:
		batch := c.coalesce(cand)
		if batch == nil {
			return
		}
		if dec.target != "" {
			i := slices.IndexFunc(batch, func(it *item) bool { return string(it.msg.ID) == dec.target })
			if i < 0 {
				c.log.Warn("moltzap channel: dispatch target unavailable; dropping batch",
					"dispatchMessageId", dec.target, "conversationId", conv, "batch", len(batch))
				return
			}
			batch = batch[i:]
		}
		c.dispatch(ctx, batch, dec)
	}
}

// candidate picks the item to admit for the taken item w: when w's conversation has
// parked items, w joins the back of that list and the front is taken instead. It returns
// nil when the conversation is closed.
func (c *Core) candidate(w *item) *item {
	conv := string(w.msg.ConversationID)
	if c.isClosed(conv) {
		c.log.Info("moltzap channel: dropping inbound message for closed conversation",
			"messageId", w.msg.ID, "conversationId", conv)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parked[conv]
	if len(p) == 0 {
		return w
	}
	p = append(p, w)
	front := p[0]
	p[0] = nil
	if len(p) == 1 {
		delete(c.parked, conv)
	} else {
		c.parked[conv] = p[1:]
	}
	return front
}

// hold parks cand at the front of its conversation's parked list with attempt+1; new
// traffic for the conversation retries it.
func (c *Core) hold(cand *item, reason string) {
	conv := string(cand.msg.ConversationID)
	if c.isClosed(conv) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cand.attempt++
	c.parked[conv] = append([]*item{cand}, c.parked[conv]...)
	c.log.Info("moltzap channel: dispatch held; parked",
		"messageId", cand.msg.ID, "conversationId", conv, "attempt", cand.attempt, "reason", reason)
}

// coalesce takes cand plus every parked and queued item of its conversation (in order);
// other conversations' items keep their order. It returns nil when the conversation was
// closed meanwhile.
func (c *Core) coalesce(cand *item) []*item {
	conv := string(cand.msg.ConversationID)
	if c.isClosed(conv) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	batch := []*item{cand}
	batch = append(batch, c.parked[conv]...)
	delete(c.parked, conv)
	kept := c.queue[:0]
	for _, it := range c.queue {
		if string(it.msg.ConversationID) == conv {
			batch = append(batch, it)
			continue
		}
		kept = append(kept, it)
	}
	clear(c.queue[len(kept):])
	c.queue = kept
	return batch
}

// pendingSnapshot lists cand, every parked and every queued item, oldest first, capped at
// the MaxPending oldest.
func (c *Core) pendingSnapshot(cand *item) []*item {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := []*item{cand}
	for _, p := range c.parked {
		all = append(all, p...)
	}
	all = append(all, c.queue...)
	slices.SortFunc(all, func(a, b *item) int {
		switch {
		case a.arrival < b.arrival:
			return -1
		case a.arrival > b.arrival:
			return 1
		}
		return 0
	})
	if len(all) > MaxPending {
		all = all[:MaxPending]
	}
	return all
}
