package channel

import (
	"maps"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// clockState is a conversation's observation frontier (REFERENCE 12.8).
type clockState struct {
	epoch  int64
	vector map[string]int64
}

// observe counts m in its conversation's clock and returns a snapshot of the clock after
// it. Callers hold c.mu.
func (c *Core) observe(m protocol.Message) protocol.LogicalClock {
	conv := string(m.ConversationID)
	st := c.clocks[conv]
	if st == nil {
		st = &clockState{vector: map[string]int64{}}
		c.clocks[conv] = st
	}
	st.epoch++
	st.vector[string(m.SenderID)]++
	return protocol.LogicalClock{DomainID: conv, Epoch: st.epoch, Vector: maps.Clone(st.vector)}
}
