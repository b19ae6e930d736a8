package channel

import (
	"context"
	"fmt"
	"runtime/debug"
)

// dispatch enriches the batch and runs the handler once, bounded by the lease timeout
// when there is a lease. The consumer waits for the handler, or gives the turn up when
// the lease times out; errors and panics are logged.
func (c *Core) dispatch(ctx context.Context, batch []*item, dec decision) {
	in, commit := c.enrich(ctx, batch, dec.leaseID)
	t := &turn{taskID: batch[0].taskID, convID: in.ConversationID, lease: dec.leaseID}
	hctx, cancel := context.WithCancel(withTurn(ctx, t))
	if dec.leaseID != "" {
		hctx, cancel = context.WithTimeout(hctx, dec.timeout)
	}
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.callHandler(hctx, in) }()
	select {
	case err := <-done:
		t.ended.Store(true)
		if err != nil {
			c.log.Error("moltzap channel: inbound handler failed",
				"messageId", in.ID, "conversationId", in.ConversationID, "err", err)
			return
		}
		commit()
	case <-hctx.Done():
		t.ended.Store(true)
		if ctx.Err() == nil {
			c.log.Warn("moltzap channel: lease expired; abandoning the turn",
				"messageId", in.ID, "conversationId", in.ConversationID, "leaseId", dec.leaseID, "timeout", dec.timeout)
		}
	}
}

// callHandler runs the handler, turning a panic into an error.
func (c *Core) callHandler(ctx context.Context, in *Inbound) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	if c.handler == nil {
		return nil
	}
	return c.handler(ctx, in)
}
