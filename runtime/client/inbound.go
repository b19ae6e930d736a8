package client

import (
	"context"
	"encoding/json"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// dispatchFunc serves a server -> client callback.
type dispatchFunc func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)

// inbound is the rpc.Handler of every session of a client: it decodes notifications into
// the delivery queue and routes TaskMaster callbacks.
type inbound struct {
	c        *Client
	dispatch dispatchFunc // nil for an agent client
}

// HandleRequest serves a callback of the TaskMaster catalog. A request outside the catalog,
// or any request to an agent client, is counted as malformed and answered -32601
// (REFERENCE 2.5) so that the server fails fast instead of waiting for its timeout.
func (h *inbound) HandleRequest(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	if h.dispatch == nil || !isCallback(method) {
		h.c.countMalformed("request outside the callback catalog", "method", method)
		return nil, wire.MethodNotFound(method)
	}
	return h.dispatch(ctx, method, params)
}

// HandleNotification validates and decodes a notification and queues it for delivery; an
// invalid one is dropped and counted as malformed. It runs on the socket reader and never
// blocks.
func (h *inbound) HandleNotification(_ context.Context, method string, params json.RawMessage) {
	n, err := protocol.DecodeNotification(method, params)
	if err != nil {
		h.c.countMalformed("invalid notification", "method", method, "err", err)
		return
	}
	h.c.notes.push(n)
}

// isCallback reports whether method is in the TaskMaster callback catalog (REFERENCE 11).
func isCallback(method string) bool {
	switch method {
	case protocol.CallbackDispatchAuthorize, protocol.CallbackMessagesAuthorize, protocol.CallbackTaskCreate:
		return true
	}
	return false
}

// countMalformed counts a dropped inbound frame and logs the 1st and every 50th.
func (c *Client) countMalformed(what string, attrs ...any) {
	n := c.malformed.Add(1)
	if n == 1 || n%50 == 0 {
		c.log.Warn("moltzap client: dropped malformed frame: "+what, append(attrs, "count", n)...)
	}
}
