package loadgen

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// sendText is the body of every message a workload sends: one text part of a realistic
// chat size (about 100 bytes).
const sendText = "loadgen: the quick brown fox jumps over the lazy dog while the agents keep chatting."

// setupAgents registers n agents on BaseURL, claimed by one fresh owner user (so that any
// contact policy lets them talk), opens and authenticates one connection each, agent i on
// node nodeOf(i), and returns the connections. On error the connections opened so far are
// closed.
func (r *runner) setupAgents(ctx context.Context, n int) ([]*client, error) {
	owner := uuid.NewString()
	workers := DefaultSetupConcurrency
	creds := make([]credentials, n)
	first := r.reserveNames(n)
	base := r.cfg.httpBase()
	err := forEach(ctx, n, workers, func(ctx context.Context, i int) error {
		c, err := r.register(ctx, base, r.name(first+i))
		if err != nil {
			return err
		}
		creds[i] = c
		return r.claim(ctx, base, c, owner)
	})
	if err != nil {
		return nil, fmt.Errorf("register agents: %w", err)
	}
	clients := make([]*client, n)
	err = forEach(ctx, n, workers, func(ctx context.Context, i int) error {
		var err error
		clients[i], err = r.open(ctx, r.nodeOf(i), creds[i].APIKey)
		return notOneCluster(err, r.nodeOf(i))
	})
	if err != nil {
		closeAll(clients, workers)
		return nil, fmt.Errorf("connect agents: %w", err)
	}
	return clients, nil
}

// notOneCluster adds a hint to err when node n (not BaseURL's) refused the key of an agent
// registered on BaseURL: the nodes do not share a store.
func notOneCluster(err error, n int) error {
	var we *wire.Error
	if n > 0 && errors.As(err, &we) && we.Code == protocol.CodeUnauthorized {
		return fmt.Errorf("%w (the agent was registered on the first node: the nodes must form one cluster, on one store)", err)
	}
	return err
}

// conversation has creator request a task on the default app (which accepts every task)
// with the members invited and an initial conversation of all of them, and returns the
// task and conversation ids. The members' connections are open, so the server subscribes
// them to the conversation before answering.
func conversation(ctx context.Context, creator *client, members []*client) (protocol.TaskID, protocol.ConversationID, error) {
	ids := make([]protocol.AgentID, len(members))
	for i, m := range members {
		ids[i] = m.agentID
	}
	res, err := creator.api.TaskRequest(ctx, protocol.TaskRequestParams{
		AppID:               protocol.AppID(protocol.DefaultAppID),
		InvitedAgentIDs:     ids,
		InitialConversation: &protocol.InitialConversation{Participants: ids},
	})
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", protocol.MethodTaskRequest, err)
	}
	if res.Conversation == nil {
		return "", "", errors.New("task/request: no initial conversation in the result")
	}
	return res.Task.ID, res.Conversation.ID, nil
}

// sendParams encodes the messages/send params every message of a conversation reuses: the
// hot path sends these bytes as they are instead of encoding each message again.
func sendParams(taskID protocol.TaskID, convID protocol.ConversationID) []byte {
	return protocol.MessagesSendParams{
		TaskID:         taskID,
		ConversationID: convID,
		Parts:          protocol.MessageParts{protocol.TextPart{Text: sendText}},
	}.AppendJSON(nil)
}
