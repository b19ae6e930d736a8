package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// checkConversationSize refuses (-32007) a conversation of members agents (creator
// included) above the server's group limit or the app manifest's limits.maxParticipants.
func (s *Server) checkConversationSize(appID protocol.AppID, members int) error {
	if members > s.cfg.Limits.MaxGroupParticipants {
		return protocol.ConversationFullError{}
	}
	if b, ok := s.apps.moderator(appID); ok && b.manifest.Limits != nil && b.manifest.Limits.MaxParticipants != nil {
		if max := *b.manifest.Limits.MaxParticipants; max > 0 && int64(members) > max {
			return protocol.ConversationFullError{}
		}
	}
	return nil
}

// createTaskConversation creates a conversation of the task with creator and others as
// members, subscribes their live connections and sends task/conversation/created to all of
// them. others must not contain creator. The type is dm iff exactly one member besides the
// creator (Q21).
func (s *Server) createTaskConversation(ctx context.Context, taskID protocol.TaskID, creator protocol.AgentID, name string, others []protocol.AgentID) (store.Conversation, error) {
	typ := protocol.ConversationTypeGroup
	if len(others) == 1 {
		typ = protocol.ConversationTypeDm
	}
	members := append([]protocol.AgentID{creator}, others...)
	cv, err := s.store.CreateConversation(ctx, store.Conversation{
		ID: newID[protocol.ConversationID](), TaskID: taskID, Type: typ, Name: name, CreatedBy: creator, CreatedAt: now(),
	}, members)
	if errors.Is(err, store.ErrNotFound) {
		return store.Conversation{}, protocol.NotFoundError{Message: "Agent not found"}
	}
	if err != nil {
		return store.Conversation{}, storeErr("create conversation", err)
	}
	s.subscribeAgents(cv.ID, members)
	s.notifyAgents(members, protocol.TaskConversationCreatedNotification{
		TaskID: taskID, ConversationID: cv.ID, Name: optString(name), Participants: others,
	}, nil)
	if s.watching() {
		s.cfg.Feed.ConversationCreated(taskID, conversation(cv))
	}
	return cv, nil
}

// TaskConversationCreate creates a conversation under the task with the TaskMaster agent
// as creator: unknown agent -32002, agent not admitted to the task -32023, too many members
// -32007.
func (h handlers) TaskConversationCreate(ctx context.Context, c *Conn, p protocol.TaskConversationCreateParams) (protocol.TaskConversationCreateResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskConversationCreateResult{}, err
	}
	creator := c.AgentID()
	others := uniqueExcept(p.Participants, creator)
	if len(others) > 0 {
		agents, err := s.store.GetAgentsByIDs(ctx, others)
		if err != nil {
			return protocol.TaskConversationCreateResult{}, storeErr("task/conversation/create: look up agents", err)
		}
		if len(agents) != len(others) {
			return protocol.TaskConversationCreateResult{}, protocol.NotFoundError{Message: "Agent not found"}
		}
		admitted, err := s.admittedSet(ctx, t.ID)
		if err != nil {
			return protocol.TaskConversationCreateResult{}, err
		}
		for _, id := range others {
			if !admitted[id] {
				return protocol.TaskConversationCreateResult{}, protocol.ParticipantNotAdmittedError{}
			}
		}
	}
	if err := s.checkConversationSize(t.AppID, 1+len(others)); err != nil {
		return protocol.TaskConversationCreateResult{}, err
	}
	var name string
	if p.Name != nil {
		name = *p.Name
	}
	cv, err := s.createTaskConversation(ctx, t.ID, creator, name, others)
	if err != nil {
		return protocol.TaskConversationCreateResult{}, err
	}
	return protocol.TaskConversationCreateResult{Conversation: conversation(cv)}, nil
}

// admittedSet returns the admitted participants of a task.
func (s *Server) admittedSet(ctx context.Context, taskID protocol.TaskID) (map[protocol.AgentID]bool, error) {
	parts, err := s.store.TaskParticipants(ctx, taskID)
	if err != nil {
		return nil, storeErr("task participants", err)
	}
	set := make(map[protocol.AgentID]bool, len(parts))
	for _, tp := range parts {
		if tp.AdmittedAt != nil {
			set[tp.AgentID] = true
		}
	}
	return set, nil
}

// TaskConversationList pages through every conversation the caller is a member of, archived
// ones included, most recent activity first.
func (h handlers) TaskConversationList(ctx context.Context, c *Conn, p protocol.TaskConversationListParams) (protocol.TaskConversationListResult, error) {
	res, err := h.s.store.ListConversationsForAgent(ctx, c.AgentID(), pageOf(p.Limit, p.Cursor))
	if err != nil {
		return protocol.TaskConversationListResult{}, storeErr("task/conversation/list", err)
	}
	items := make([]protocol.TaskConversationListItem, len(res.Items))
	for i, it := range res.Items {
		items[i] = protocol.TaskConversationListItem{
			TaskID:       it.Conversation.TaskID,
			Conversation: conversation(it.Conversation),
			Participants: it.Participants,
		}
	}
	return protocol.TaskConversationListResult{Items: items, NextCursor: optString(res.NextCursor)}, nil
}

// TaskConversationArchive archives a conversation of the task (idempotent: the first
// archivedAt is kept and only the actual transition is announced).
func (h handlers) TaskConversationArchive(ctx context.Context, c *Conn, p protocol.TaskConversationArchiveParams) (protocol.TaskConversationArchiveResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskConversationArchiveResult{}, err
	}
	cv, err := s.conversationInTask(ctx, t.ID, p.ConversationID)
	if err != nil {
		return protocol.TaskConversationArchiveResult{}, err
	}
	cv, changed, err := s.store.ArchiveConversation(ctx, cv.ID, now())
	if err != nil {
		return protocol.TaskConversationArchiveResult{}, storeErr("task/conversation/archive", err)
	}
	if changed && cv.ArchivedAt != nil {
		s.notifyConversationMembers(ctx, cv.ID, protocol.TaskConversationArchivedNotification{
			TaskID: t.ID, ConversationID: cv.ID, ArchivedAt: dateTime(*cv.ArchivedAt),
		})
		if s.watching() {
			s.cfg.Feed.ConversationArchived(t.ID, cv.ID)
		}
	}
	return protocol.TaskConversationArchiveResult{}, nil
}

// TaskConversationUnarchive clears a conversation's archivedAt (announced only when it was
// archived).
func (h handlers) TaskConversationUnarchive(ctx context.Context, c *Conn, p protocol.TaskConversationUnarchiveParams) (protocol.TaskConversationUnarchiveResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskConversationUnarchiveResult{}, err
	}
	cv, err := s.conversationInTask(ctx, t.ID, p.ConversationID)
	if err != nil {
		return protocol.TaskConversationUnarchiveResult{}, err
	}
	_, changed, err := s.store.UnarchiveConversation(ctx, cv.ID, now())
	if err != nil {
		return protocol.TaskConversationUnarchiveResult{}, storeErr("task/conversation/unarchive", err)
	}
	if changed {
		s.notifyConversationMembers(ctx, cv.ID, protocol.TaskConversationUnarchivedNotification{
			TaskID: t.ID, ConversationID: cv.ID,
		})
		if s.watching() {
			s.cfg.Feed.ConversationUnarchived(t.ID, cv.ID)
		}
	}
	return protocol.TaskConversationUnarchiveResult{}, nil
}

// TaskConversationParticipantsAdd adds a task participant to a conversation of the task
// (no-op when already a member), subscribes its live connections and announces it to the
// post-change membership.
func (h handlers) TaskConversationParticipantsAdd(ctx context.Context, c *Conn, p protocol.TaskConversationParticipantsAddParams) (protocol.TaskConversationParticipantsAddResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskConversationParticipantsAddResult{}, err
	}
	cv, err := s.conversationInTask(ctx, t.ID, p.ConversationID)
	if err != nil {
		return protocol.TaskConversationParticipantsAddResult{}, err
	}
	agentID := p.AgentID
	ok, err := s.store.IsTaskParticipant(ctx, t.ID, agentID)
	if err != nil {
		return protocol.TaskConversationParticipantsAddResult{}, storeErr("task/conversation/participants/add", err)
	}
	if !ok {
		return protocol.TaskConversationParticipantsAddResult{}, protocol.ParticipantNotAdmittedError{}
	}
	members, err := s.store.ConversationParticipants(ctx, cv.ID)
	if err != nil {
		return protocol.TaskConversationParticipantsAddResult{}, storeErr("task/conversation/participants/add", err)
	}
	for _, id := range members {
		if id == agentID {
			return protocol.TaskConversationParticipantsAddResult{}, nil
		}
	}
	if err := s.checkConversationSize(t.AppID, len(members)+1); err != nil {
		return protocol.TaskConversationParticipantsAddResult{}, err
	}
	added, err := s.store.AddConversationParticipant(ctx, cv.ID, agentID, now())
	if errors.Is(err, store.ErrNotFound) {
		return protocol.TaskConversationParticipantsAddResult{}, protocol.NotFoundError{Message: "Agent not found"}
	}
	if err != nil {
		return protocol.TaskConversationParticipantsAddResult{}, storeErr("task/conversation/participants/add", err)
	}
	if added {
		s.subscribeAgents(cv.ID, []protocol.AgentID{agentID})
		s.notifyConversationMembers(ctx, cv.ID, protocol.TaskConversationParticipantsAddedNotification{
			TaskID: t.ID, ConversationID: cv.ID,
			AddedAgentID: agentID, ByAgentOrTM: protocol.ParticipantAddedByTM,
		})
		if s.watching() {
			s.cfg.Feed.ParticipantsAdded(t.ID, cv.ID, []protocol.AgentID{agentID})
		}
	}
	return protocol.TaskConversationParticipantsAddResult{}, nil
}

// TaskConversationParticipantsRemove removes an agent from one conversation of the task
// (it stays a task participant); a non-member is a silent success.
func (h handlers) TaskConversationParticipantsRemove(ctx context.Context, c *Conn, p protocol.TaskConversationParticipantsRemoveParams) (protocol.TaskConversationParticipantsRemoveResult, error) {
	s := h.s
	t, err := s.taskForTM(ctx, c, p.TaskID)
	if err != nil {
		return protocol.TaskConversationParticipantsRemoveResult{}, err
	}
	cv, err := s.conversationInTask(ctx, t.ID, p.ConversationID)
	if err != nil {
		return protocol.TaskConversationParticipantsRemoveResult{}, err
	}
	agentID := p.AgentID
	removed, err := s.store.RemoveConversationParticipant(ctx, cv.ID, agentID)
	if err != nil {
		return protocol.TaskConversationParticipantsRemoveResult{}, storeErr("task/conversation/participants/remove", err)
	}
	if removed {
		remaining, err := s.store.ConversationParticipants(ctx, cv.ID)
		if err != nil {
			s.log.Warn("conversation participants", "conversation", cv.ID, "err", err)
		}
		s.conversationMemberRemoved(t.ID, cv.ID, agentID, remaining, protocol.ParticipantRemovedReasonTMRemove)
	}
	return protocol.TaskConversationParticipantsRemoveResult{}, nil
}

// notifyConversationMembers sends a conversation-scoped notification to the current
// members' connections subscribed to the conversation.
func (s *Server) notifyConversationMembers(ctx context.Context, convID protocol.ConversationID, n protocol.Notification) {
	members, err := s.store.ConversationParticipants(ctx, convID)
	if err != nil {
		s.log.Warn("conversation participants", "conversation", convID, "err", fmt.Errorf("notify %s: %w", n.Method(), err))
		return
	}
	s.notifyConversation(convID, members, n, nil)
}
