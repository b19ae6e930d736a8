package client

import (
	"context"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// SetPresenceWatch records the presence watch set and sends presence/subscribe, which
// replaces the connection's watch set on the server; it returns the point-in-time
// statuses. The recorded set is re-sent after every reconnect. When the call fails for
// lack of a connection (ErrNotConnected, ErrTimeout) the set is still recorded and applied
// at the next reconnect; when the server refuses it (for instance
// protocol.NotInContactsError) the previous set stays recorded. An empty set clears the
// watch.
func (c *Client) SetPresenceWatch(ctx context.Context, agentIDs []string) ([]protocol.PresenceEntry, error) {
	ids := make([]protocol.AgentID, len(agentIDs))
	for i, id := range agentIDs {
		ids[i] = protocol.AgentID(id)
	}
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	res, err := c.PresenceSubscribe(ctx, protocol.PresenceSubscribeParams{AgentIDs: ids})
	if err != nil {
		if connectionLost(err) {
			c.watch = ids
		}
		return nil, err
	}
	c.watch = ids
	return res.Statuses, nil
}
