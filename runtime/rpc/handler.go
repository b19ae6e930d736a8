package rpc

import (
	"context"
	"encoding/json"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Sender is the outbound side of a transport. Send queues one encoded frame
// without blocking and fails if it cannot (closed connection, full write
// queue). It must be safe for concurrent use and must never modify msg: the
// same bytes may be handed to many Senders (fan-out via Peer.SendRaw).
type Sender interface {
	Send(msg []byte) error
}

// Handler answers inbound requests and receives inbound notifications.
type Handler interface {
	// HandleRequest runs for each inbound request, concurrently with other
	// requests (bounded by Options.MaxConcurrentInbound). ctx is cancelled
	// when the Peer closes. An error implementing wire.Coded (including
	// *wire.Error) is sent with its code, message and data; any other error
	// is sent as -32603 "Internal error" and logged; a panic is treated
	// likewise. A nil result is sent as null. params is nil when the request
	// had none and is owned by the handler.
	HandleRequest(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)
	// HandleNotification runs synchronously on the transport read loop, in
	// arrival order (client role only). It must not block for long and must
	// not wait for a Call on the same Peer, whose response could only be
	// read after it returns. params is only valid until it returns.
	HandleNotification(ctx context.Context, method string, params json.RawMessage)
}

// HandlerFuncs adapts plain functions to Handler. A nil Request answers
// every request with -32601 "Unknown method: <method>"; a nil Notification
// ignores notifications.
type HandlerFuncs struct {
	Request      func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)
	Notification func(ctx context.Context, method string, params json.RawMessage)
}

// HandleRequest calls h.Request or answers -32601.
func (h HandlerFuncs) HandleRequest(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	if h.Request == nil {
		return nil, wire.MethodNotFound(method)
	}
	return h.Request(ctx, method, params)
}

// HandleNotification calls h.Notification if set.
func (h HandlerFuncs) HandleNotification(ctx context.Context, method string, params json.RawMessage) {
	if h.Notification != nil {
		h.Notification(ctx, method, params)
	}
}
