package server

import (
	"context"
	"errors"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// getTask loads a task; an unknown task is -32002 "Task not found".
func (s *Server) getTask(ctx context.Context, taskID protocol.TaskID) (store.Task, error) {
	t, err := s.store.GetTask(ctx, taskID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Task{}, protocol.NotFoundError{Message: "Task not found"}
	}
	if err != nil {
		return store.Task{}, storeErr("get task", err)
	}
	return t, nil
}

// isTaskMaster reports whether c is the registered TaskMaster of the task's app.
func (s *Server) isTaskMaster(c *Conn, t store.Task) bool { return c.isTaskMasterOf(t.AppID) }

// taskForTM applies the TaskMaster checks of REFERENCE 9 in order, before anything that
// could leak task state: unknown task -32002, caller not the TM -32001, task not open -32001.
func (s *Server) taskForTM(ctx context.Context, c *Conn, taskID protocol.TaskID) (store.Task, error) {
	t, err := s.getTask(ctx, taskID)
	if err != nil {
		return store.Task{}, err
	}
	if !s.isTaskMaster(c, t) {
		return store.Task{}, protocol.ForbiddenError{Message: "Caller is not the registered task manager for this task"}
	}
	if t.Terminal() {
		return store.Task{}, protocol.ForbiddenError{Message: "Task is not open for mutation"}
	}
	return t, nil
}

// conversationInTask loads a conversation that must belong to taskID; a missing one or one
// of another task is -32002 "Conversation not found" (no leak across tasks).
func (s *Server) conversationInTask(ctx context.Context, taskID protocol.TaskID, convID protocol.ConversationID) (store.Conversation, error) {
	cv, err := s.store.GetConversation(ctx, convID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cv.TaskID != taskID) {
		return store.Conversation{}, protocol.NotFoundError{Message: "Conversation not found"}
	}
	if err != nil {
		return store.Conversation{}, storeErr("get conversation", err)
	}
	return cv, nil
}

// subscribeAgents adds convID to the subscription set of every live connection of the agents.
func (s *Server) subscribeAgents(convID protocol.ConversationID, agentIDs []protocol.AgentID) {
	for _, c := range s.conns.ofAgents(agentIDs) {
		c.subscribe(convID)
	}
}

// unsubscribeAgent removes convID from every live connection of the agent.
func (s *Server) unsubscribeAgent(convID protocol.ConversationID, agentID protocol.AgentID) {
	for _, c := range s.conns.ofAgent(agentID) {
		c.unsubscribe(convID)
	}
}
