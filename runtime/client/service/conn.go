package service

import (
	"context"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// Conn is the part of *client.Client the service uses. Tests substitute a fake.
type Conn interface {
	// AgentID is the authenticated agent.
	AgentID() string
	// OnAny subscribes to every notification (delivered on one goroutine, in order).
	OnAny(fn func(protocol.Notification)) (cancel func())
	// OnDisconnect subscribes to unexpected disconnects.
	OnDisconnect(fn func(client.CloseInfo)) (cancel func())
	// OnReconnect subscribes to successful reconnects.
	OnReconnect(fn func(protocol.HelloOk)) (cancel func())

	TaskConversationList(ctx context.Context, p protocol.TaskConversationListParams) (protocol.TaskConversationListResult, error)
	AgentsLookup(ctx context.Context, p protocol.AgentsLookupParams) (protocol.AgentsLookupResult, error)
	MessagesList(ctx context.Context, p protocol.MessagesListParams) (protocol.MessagesListResult, error)
	MessagesSend(ctx context.Context, p protocol.MessagesSendParams) (protocol.MessagesSendResult, error)
}

var _ Conn = (*client.Client)(nil)
