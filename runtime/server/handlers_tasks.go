package server

import (
	"context"
	"errors"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// Fail-closed reasons of a synthesised task/create reject (REFERENCE 11.3).
const (
	rejectTimeout       = "timeout"
	rejectTMUnreachable = "tm_unreachable"
)

// TaskRequest runs REFERENCE 9.4.1: contact-policy gate on the invitees, validation of the
// initial conversation, insert of the waiting task with the caller and the invitees
// admitted, then the task/create verdict (in-process for the default app), and on accept
// the initial conversation. It returns only after the verdict.
func (h handlers) TaskRequest(ctx context.Context, c *Conn, p protocol.TaskRequestParams) (protocol.TaskRequestResult, error) {
	s := h.s
	caller := c.AgentID()
	invitees := uniqueExcept(p.InvitedAgentIDs, caller)

	// 1. Contact-policy gate (REFERENCE 15.6).
	if err := s.taskContactGate(ctx, c, invitees); err != nil {
		return protocol.TaskRequestResult{}, err
	}

	// The initial conversation is validated before anything is inserted, so a request that
	// could never materialise it does not leave a task behind.
	var initMembers []protocol.AgentID // conversation members besides the caller
	if ic := p.InitialConversation; ic != nil {
		if ic.Participants != nil {
			initMembers = uniqueExcept(ic.Participants, caller)
			admitted := make(map[protocol.AgentID]bool, len(invitees))
			for _, id := range invitees {
				admitted[id] = true
			}
			for _, id := range initMembers {
				if !admitted[id] {
					return protocol.TaskRequestResult{}, protocol.ParticipantNotAdmittedError{}
				}
			}
		} else {
			initMembers = invitees
		}
		if err := s.checkConversationSize(p.AppID, 1+len(initMembers)); err != nil {
			return protocol.TaskRequestResult{}, err
		}
	}

	// 2. Insert the waiting task; the caller and every invitee are admitted.
	at := now()
	t, err := s.store.CreateTask(ctx, store.Task{
		ID: newID[protocol.TaskID](), AppID: p.AppID, InitiatorAgentID: caller, Status: protocol.TaskStatusWaiting, CreatedAt: at,
	}, append([]protocol.AgentID{caller}, invitees...))
	if errors.Is(err, store.ErrNotFound) {
		return protocol.TaskRequestResult{}, protocol.NotFoundError{Message: "Agent not found"}
	}
	if err != nil {
		return protocol.TaskRequestResult{}, storeErr("task/request", err)
	}

	// From here on the task exists: finish the flow even if the requester goes away, so
	// the verdict is applied and everyone else is told.
	ctx = context.WithoutCancel(ctx)
	recipients := append([]protocol.AgentID{caller}, invitees...)

	// 3. The verdict.
	accepted, reason := s.taskCreateVerdict(ctx, t, invitees, p.InitialConversation, at)
	if !accepted {
		// 4a. reject: failed + task/failed; a task the sweeper already failed stays failed.
		s.failTask(ctx, t.ID, reason)
		data := &protocol.TaskRejectedData{TaskID: t.ID}
		if reason != "" {
			data.Reason = &reason
		}
		return protocol.TaskRequestResult{}, protocol.TaskRejectedError{Data: data}
	}

	// 4b. accept: waiting -> active (compare-and-set: a task failed by the sweeper or closed
	// by its TaskMaster meanwhile is not revived).
	t, err = s.store.SetTaskStatus(ctx, t.ID, []protocol.TaskStatus{protocol.TaskStatusWaiting}, protocol.TaskStatusActive, now())
	if errors.Is(err, store.ErrStateChanged) {
		if t.Status == protocol.TaskStatusFailed {
			r := rejectTimeout
			return protocol.TaskRequestResult{}, protocol.TaskRejectedError{Data: &protocol.TaskRejectedData{TaskID: t.ID, Reason: &r}}
		}
		return protocol.TaskRequestResult{Task: task(t)}, nil
	}
	if err != nil {
		return protocol.TaskRequestResult{}, storeErr("task/request: activate", err)
	}
	s.notifyAgents(recipients, protocol.TaskCreatedNotification{Task: task(t)}, nil)
	if s.watching() {
		s.cfg.Feed.TaskCreated(task(t))
	}

	res := protocol.TaskRequestResult{Task: task(t)}
	if ic := p.InitialConversation; ic != nil {
		var name string
		if ic.Name != nil {
			name = *ic.Name
		}
		cv, err := s.createTaskConversation(ctx, t.ID, caller, name, initMembers)
		if err != nil {
			return protocol.TaskRequestResult{}, err
		}
		out := conversation(cv)
		res.Conversation = &out
	}
	return res, nil
}

// taskCreateVerdict asks the app for its verdict: accept, or reject with a reason (the
// TaskMaster's own, or a fail-closed "timeout" / "tm_unreachable").
func (s *Server) taskCreateVerdict(ctx context.Context, t store.Task, invitees []protocol.AgentID, ic *protocol.InitialConversation, receivedAt time.Time) (accepted bool, reason string) {
	if t.AppID == DefaultAppID {
		return true, ""
	}
	received := dateTime(receivedAt)
	params := protocol.TaskCreateParams{
		TaskID:              t.ID,
		InitiatorAgentID:    t.InitiatorAgentID,
		InvitedAgentIDs:     invitees,
		InitialConversation: ic,
		ReceivedAt:          &received,
	}
	res, err := callTaskMaster(ctx, s, t.AppID, hookTaskCreate, func(ctx context.Context, tm *protocol.TaskMasterClient) (protocol.TaskCreateResult, error) {
		return tm.TaskCreate(ctx, params)
	})
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpc.ErrTimeout):
		return false, rejectTimeout
	default:
		s.log.Debug("task/create failed closed", "task", t.ID, "app", t.AppID, "err", err)
		return false, rejectTMUnreachable
	}
	switch v := res.Verdict.(type) {
	case protocol.TaskCreateAccept:
		return true, ""
	case protocol.TaskCreateReject:
		if v.Reason != nil {
			return false, *v.Reason
		}
		return false, ""
	}
	return false, rejectTMUnreachable
}

// taskContactGate applies the contact policy to the invitees of a task request: an unknown
// invitee is -32002 (always); with Config.ContactPolicy on, an invitee that is not in contact with the requester (either side
// without an owner, or owners neither equal nor joined by an accepted contact) is -32005
// listing every refused id.
func (s *Server) taskContactGate(ctx context.Context, c *Conn, invitees []protocol.AgentID) error {
	if len(invitees) == 0 {
		return nil
	}
	agents, err := s.store.GetAgentsByIDs(ctx, invitees)
	if err != nil {
		return storeErr("task/request: look up invitees", err)
	}
	ownerOf := make(map[protocol.AgentID]protocol.UserID, len(agents))
	for _, a := range agents {
		ownerOf[a.ID] = a.OwnerUserID
	}
	for _, id := range invitees {
		if _, ok := ownerOf[id]; !ok {
			return protocol.NotFoundError{Message: "Agent not found"}
		}
	}
	if !s.cfg.ContactPolicy {
		return nil
	}
	requester := c.Owner()
	var refused []protocol.AgentID
	for _, id := range invitees {
		target := ownerOf[id]
		if requester == "" || target == "" {
			refused = append(refused, id)
			continue
		}
		ok, err := s.areInContact(ctx, requester, target)
		if err != nil {
			return storeErr("task/request: contact check", err)
		}
		if !ok {
			refused = append(refused, id)
		}
	}
	if len(refused) > 0 {
		msg := "Contact policy does not allow this edge"
		if requester == "" {
			msg = "Contact policy requires both agents to have an owner"
		}
		return protocol.NotInContactsError{Message: msg, Data: &protocol.NotInContactsData{AgentIDs: refused}}
	}
	return nil
}

// TaskList pages through the tasks the caller is an admitted participant of.
func (h handlers) TaskList(ctx context.Context, c *Conn, p protocol.TaskListParams) (protocol.TaskListResult, error) {
	res, err := h.s.store.ListTasksForAgent(ctx, c.AgentID(), pageOf(p.Limit, p.Cursor))
	if err != nil {
		return protocol.TaskListResult{}, storeErr("task/list", err)
	}
	out := make([]protocol.Task, len(res.Items))
	for i, t := range res.Items {
		out[i] = task(t)
	}
	return protocol.TaskListResult{Tasks: out, NextCursor: optString(res.NextCursor)}, nil
}

// TaskLeave removes the caller from the task and every conversation of it (task_leave
// notices); the last leaver closes the task and alone gets task/closed. Leaving a task one
// is not in is a no-op success.
func (h handlers) TaskLeave(ctx context.Context, c *Conn, p protocol.TaskLeaveParams) (protocol.TaskLeaveResult, error) {
	s := h.s
	t, err := s.getTask(ctx, p.TaskID)
	if err != nil {
		return protocol.TaskLeaveResult{}, err
	}
	caller := c.AgentID()
	removal, err := s.removeFromTask(ctx, t.ID, caller, protocol.ParticipantRemovedReasonTaskLeave)
	if err != nil {
		return protocol.TaskLeaveResult{}, err
	}
	if removal.Removed && removal.Remaining == 0 {
		closed, err := s.store.SetTaskStatus(ctx, t.ID, []protocol.TaskStatus{protocol.TaskStatusWaiting, protocol.TaskStatusActive}, protocol.TaskStatusClosed, now())
		switch {
		case err == nil:
			s.notifyAgents([]protocol.AgentID{caller}, protocol.TaskClosedNotification{Task: task(closed)}, nil)
			if s.watching() {
				s.cfg.Feed.TaskClosed(task(closed))
			}
		case !errors.Is(err, store.ErrStateChanged): // already terminal: nothing to close
			return protocol.TaskLeaveResult{}, storeErr("task/leave: close", err)
		}
	}
	return protocol.TaskLeaveResult{}, nil
}

// TaskClose closes the task and archives its open conversations in one transaction, then
// sends task/conversation/archived per archived conversation (to its subscribed members)
// and task/closed to every admitted task participant.
func (h handlers) TaskClose(ctx context.Context, c *Conn, p protocol.TaskCloseParams) (protocol.TaskCloseResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskCloseResult{}, err
	}
	at := now()
	t, archived, err := s.store.CloseTask(ctx, t.ID, at)
	if errors.Is(err, store.ErrStateChanged) {
		return protocol.TaskCloseResult{}, protocol.ForbiddenError{Message: "Task is not open for mutation"}
	}
	if err != nil {
		return protocol.TaskCloseResult{}, storeErr("task/close", err)
	}
	for _, convID := range archived {
		members, err := s.store.ConversationParticipants(ctx, convID)
		if err != nil {
			s.log.Warn("conversation participants", "conversation", convID, "err", err)
			continue
		}
		s.notifyConversation(convID, members, protocol.TaskConversationArchivedNotification{
			TaskID: t.ID, ConversationID: convID, ArchivedAt: dateTime(at),
		}, nil)
		if s.watching() {
			s.cfg.Feed.ConversationArchived(t.ID, convID)
		}
	}
	if s.watching() {
		s.cfg.Feed.TaskClosed(task(t))
	}
	parts, err := s.store.TaskParticipants(ctx, t.ID)
	if err != nil {
		s.log.Warn("task participants", "task", t.ID, "err", err)
	} else {
		var ids []protocol.AgentID
		for _, tp := range parts {
			if tp.AdmittedAt != nil {
				ids = append(ids, tp.AgentID)
			}
		}
		s.notifyAgents(ids, protocol.TaskClosedNotification{Task: task(t)}, nil)
	}
	return protocol.TaskCloseResult{Task: task(t)}, nil
}

// TaskAddParticipant admits an agent into the task (upsert; no notification).
func (h handlers) TaskAddParticipant(ctx context.Context, c *Conn, p protocol.TaskAddParticipantParams) (protocol.TaskAddParticipantResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskAddParticipantResult{}, err
	}
	tp, err := s.store.AddTaskParticipant(ctx, t.ID, p.AgentID, now())
	if errors.Is(err, store.ErrNotFound) {
		return protocol.TaskAddParticipantResult{}, protocol.NotFoundError{Message: "Agent not found"}
	}
	if err != nil {
		return protocol.TaskAddParticipantResult{}, storeErr("task/addParticipant", err)
	}
	return protocol.TaskAddParticipantResult{Participant: taskParticipant(tp)}, nil
}

// TaskRemoveParticipant removes an agent from the task and from every conversation of it,
// with a tm_remove notice per conversation (Q10). Removing a non-participant is a no-op.
func (h handlers) TaskRemoveParticipant(ctx context.Context, c *Conn, p protocol.TaskRemoveParticipantParams) (protocol.TaskRemoveParticipantResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskRemoveParticipantResult{}, err
	}
	if _, err := s.removeFromTask(ctx, t.ID, p.AgentID, protocol.ParticipantRemovedReasonTMRemove); err != nil {
		return protocol.TaskRemoveParticipantResult{}, err
	}
	return protocol.TaskRemoveParticipantResult{}, nil
}

// removeFromTask removes agentID from the task and, atomically, from every conversation of
// it; per conversation left it unsubscribes the agent's connections and sends
// task/conversation/participants/removed to the pre-change membership.
func (s *Server) removeFromTask(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID, reason protocol.ParticipantRemovedReason) (store.ParticipantRemoval, error) {
	removal, err := s.store.RemoveTaskParticipant(ctx, taskID, agentID)
	if errors.Is(err, store.ErrNotFound) {
		return removal, protocol.NotFoundError{Message: "Task not found"}
	}
	if err != nil {
		return removal, storeErr("remove task participant", err)
	}
	for _, convID := range removal.ConversationIDs {
		remaining, err := s.store.ConversationParticipants(ctx, convID)
		if err != nil {
			s.log.Warn("conversation participants", "conversation", convID, "err", err)
			remaining = nil
		}
		s.conversationMemberRemoved(taskID, convID, agentID, remaining, reason)
	}
	return removal, nil
}

// conversationMemberRemoved runs the side effects of one removal from a conversation that
// the store already committed: the conversation leaves the removed agent's subscription
// sets, the remaining members get task/conversation/participants/removed through the
// subscription gate and the removed agent gets it on every live connection (bypassing the
// gate it just lost).
func (s *Server) conversationMemberRemoved(taskID protocol.TaskID, convID protocol.ConversationID, removed protocol.AgentID, remaining []protocol.AgentID, reason protocol.ParticipantRemovedReason) {
	s.unsubscribeAgent(convID, removed)
	n := protocol.TaskConversationParticipantsRemovedNotification{
		TaskID: taskID, ConversationID: convID, RemovedAgentID: removed, Reason: reason,
	}
	others := make([]protocol.AgentID, 0, len(remaining))
	for _, id := range remaining {
		if id != removed {
			others = append(others, id)
		}
	}
	s.notifyConversation(convID, others, n, nil)
	s.notifyAgents([]protocol.AgentID{removed}, n, nil)
	if s.watching() {
		s.cfg.Feed.ParticipantRemoved(taskID, convID, removed)
	}
}

// uniqueExcept returns ids without duplicates and without skip, in first-seen order.
func uniqueExcept(ids []protocol.AgentID, skip protocol.AgentID) []protocol.AgentID {
	seen := make(map[protocol.AgentID]bool, len(ids))
	out := make([]protocol.AgentID, 0, len(ids))
	for _, id := range ids {
		if id == skip || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
