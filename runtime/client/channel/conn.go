package channel

import (
	"context"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// Conn is the part of *client.Client the core uses for admission. Tests substitute a fake.
type Conn interface {
	// DispatchRequest sends dispatch/request and returns the immediate ack.
	DispatchRequest(ctx context.Context, p protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error)
	// OnAny subscribes to every notification; the core watches dispatch/release.
	OnAny(fn func(protocol.Notification)) (cancel func())
}

var _ Conn = (*client.Client)(nil)
