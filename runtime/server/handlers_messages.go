package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// Reasons of synthesised Block verdicts (REFERENCE 11.4).
const blockTMUnreachable = "tm_unreachable"

// defaultListLimit is the messages/list page size when limit is absent (REFERENCE 8).
const defaultListLimit = 50

// MessagesSend runs the messages/send pipeline of REFERENCE 15.2:
//
//  1. params beyond the schema: part count, text length and encoded size against the
//     configured limits (-32602);
//  2. gates in the order of REFERENCE 9.5.1: conversation in task (-32002), sender is a
//     member (-32001), task not closed/failed (-32020), conversation not archived (-32022),
//     replyToId in the conversation (-32002);
//  3. the per-agent messagesPerMinute limit (-32004 with retryAfterMs);
//  4. claim of dispatchLeaseId (REFERENCE 12.6: -32002 unknown, -32001 LeaseInvalid, -32001
//     LeaseMismatch);
//  5. insert (acknowledged only once committed; a failed insert rolls the lease back);
//  6. lease finalised (CONSUMED, dispatches/consumed to the moderator);
//  7. messages/authorize (or the default Forward to every other participant);
//  8. the verdict is recorded by compare-and-set from pending;
//  9. Block -> -32019 {reason, messageId} (the row stays stored); Forward ->
//     messages/received to the recipients and the sender's other connections;
//  10. the offline-delivery webhook, queued for the recipients without a live connection.
func (h handlers) MessagesSend(ctx context.Context, c *Conn, p protocol.MessagesSendParams) (protocol.MessagesSendResult, error) {
	s := h.s
	parts, err := s.encodeParts(p.Parts)
	if err != nil {
		return protocol.MessagesSendResult{}, err
	}
	sender := c.AgentID()
	taskID, convID := p.TaskID, p.ConversationID

	cv, err := s.sendConversation(ctx, taskID, convID)
	if err != nil {
		return protocol.MessagesSendResult{}, err
	}
	member, err := s.store.IsConversationParticipant(ctx, convID, sender)
	if err != nil {
		return protocol.MessagesSendResult{}, storeErr("check participant", err)
	}
	if !member {
		return protocol.MessagesSendResult{}, notParticipant()
	}
	t, err := s.getTask(ctx, taskID)
	if err != nil {
		return protocol.MessagesSendResult{}, err
	}
	if t.Terminal() {
		return protocol.MessagesSendResult{}, protocol.TaskClosedError{Data: &protocol.TaskClosedData{
			Reason: protocol.TaskClosedDataReasonTaskClosed, TaskID: p.TaskID, Status: t.Status,
		}}
	}
	if cv.archivedAt != nil {
		return protocol.MessagesSendResult{}, protocol.ConversationArchivedError{}
	}
	var replyTo protocol.MessageID
	if p.ReplyToID != nil {
		replyTo = *p.ReplyToID
		m, err := s.store.GetMessage(ctx, replyTo)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.ConversationID != convID) {
			return protocol.MessagesSendResult{}, protocol.NotFoundError{Message: "Reply target not found"}
		}
		if err != nil {
			return protocol.MessagesSendResult{}, storeErr("get reply target", err)
		}
	}

	if ok, retry := s.msgLimit.Allow(string(sender)); !ok {
		return protocol.MessagesSendResult{}, rateLimited(retry)
	}

	var leaseID protocol.LeaseID
	if p.DispatchLeaseID != nil {
		leaseID = *p.DispatchLeaseID
		if _, err := s.leases.Claim(leaseID, sender, convID); err != nil {
			return protocol.MessagesSendResult{}, leaseError(leaseID, err)
		}
	}

	// An in-process verdict is known before the insert: it is stored with the row (one
	// write instead of two); a TaskMaster's verdict is asked for after the commit.
	var decided store.Decision
	inProcess := s.decidesInProcess(t)
	if inProcess {
		if decided, err = s.forwardToOthers(ctx, convID, sender); err != nil {
			return protocol.MessagesSendResult{}, err
		}
	}
	stored, err := s.store.AppendMessage(ctx, store.Message{
		ID:             newID[protocol.MessageID](),
		ConversationID: convID,
		TaskID:         taskID,
		SenderID:       sender,
		ReplyToID:      replyTo,
		Parts:          parts,
		Decision:       decided,
		CreatedAt:      now(),
	})
	if err != nil {
		if leaseID != "" {
			if _, uerr := s.leases.Unclaim(leaseID); uerr != nil {
				s.log.Warn("unclaim lease after failed insert", "lease", leaseID, "err", uerr)
			}
		}
		if errors.Is(err, store.ErrNotFound) && replyTo != "" {
			return protocol.MessagesSendResult{}, protocol.NotFoundError{Message: "Reply target not found"}
		}
		return protocol.MessagesSendResult{}, storeErr("append message", err)
	}
	if leaseID != "" {
		if _, err := s.leases.Consume(leaseID, stored.ID); err != nil {
			s.log.Error("consume lease", "lease", leaseID, "message", stored.ID, "err", err)
		}
	}
	msg, err := message(stored)
	if err != nil {
		return protocol.MessagesSendResult{}, fmt.Errorf("convert message %s: %w", stored.ID, err)
	}

	// The row is committed: the rest must not depend on the caller's socket staying open
	// (recipients still get a message its sender disconnected from), only on the server.
	decision := stored.Decision
	if !inProcess {
		if decision, err = s.decideByTaskMaster(s.ctx, t, stored, p.Parts); err != nil {
			return protocol.MessagesSendResult{}, err
		}
	}
	s.observeMessage(taskID, msg, decision)
	if decision.Tag == store.DecisionBlock {
		return protocol.MessagesSendResult{}, protocol.HookBlockedError{
			Message: "Message blocked by task manager",
			Data:    &protocol.HookBlockedData{Reason: optString(decision.Reason), MessageID: msg.ID},
		}
	}
	targets := append(append(make([]protocol.AgentID, 0, len(decision.Recipients)+1), decision.Recipients...), sender)
	if s.notifyConversation(convID, targets, protocol.MessagesReceivedNotification{TaskID: p.TaskID, Message: msg}, c) {
		s.flushBus(ctx) // other nodes must have it before the sender is told it is sent
	}
	s.notifyOffline(convID, msg.ID, decision.Recipients, sender)
	return protocol.MessagesSendResult{Message: msg}, nil
}

// authorizeMessage obtains the fan-out verdict of a stored message (REFERENCE 11.4): the
// default app, and an app without a registered TaskMaster, forward to every participant
// but the sender (in process); otherwise messages/authorize decides, failing closed to
// Block "tm_unreachable" on timeout, error, disconnect or an invalid result. Forward
// recipients that are not participants are dropped.
func (s *Server) authorizeMessage(ctx context.Context, t store.Task, m store.Message, parts protocol.MessageParts) (store.Decision, error) {
	participants, err := s.store.ConversationParticipants(ctx, m.ConversationID)
	if err != nil {
		return store.Decision{}, storeErr("list participants", err)
	}
	forwardAll := func() store.Decision { return forwardExcept(participants, m.SenderID) }
	if t.AppID == "" || t.AppID == DefaultAppID {
		return forwardAll(), nil
	}
	received := dateTime(m.CreatedAt)
	params := protocol.MessagesAuthorizeParams{
		TaskID:         t.ID,
		AppID:          string(t.AppID),
		ConversationID: m.ConversationID,
		Message:        protocol.CallbackMessage{ID: m.ID, SenderAgentID: m.SenderID, Parts: parts},
		ReceivedAt:     &received,
	}
	res, err := callTaskMaster(ctx, s, t.AppID, hookMessageAuthorize, func(ctx context.Context, tm *protocol.TaskMasterClient) (protocol.MessagesAuthorizeResult, error) {
		return tm.MessagesAuthorize(ctx, params)
	})
	if err == nil && res.Verdict == nil {
		err = errors.New("messages/authorize result has no verdict")
	}
	switch {
	case errors.Is(err, errNoTaskMaster):
		return forwardAll(), nil
	case err != nil:
		s.log.Debug("messages/authorize failed closed", "task", t.ID, "app", t.AppID, "message", m.ID, "err", err)
		return store.Decision{Tag: store.DecisionBlock, Reason: blockTMUnreachable}, nil
	}
	switch v := res.Verdict.(type) {
	case protocol.MessagesAuthorizeForward:
		return store.Decision{Tag: store.DecisionForward, Recipients: keepMembers(v.Recipients, participants)}, nil
	case protocol.MessagesAuthorizeBlock:
		d := store.Decision{Tag: store.DecisionBlock}
		if v.Reason != nil {
			d.Reason = *v.Reason
		}
		return d, nil
	}
	return store.Decision{Tag: store.DecisionBlock, Reason: blockTMUnreachable}, nil
}

// decidesInProcess reports whether the fan-out verdict of the task's messages is the
// server's own (forward to every other participant): the default app, a task without an
// app, or an app without a registered TaskMaster.
func (s *Server) decidesInProcess(t store.Task) bool {
	if t.AppID == "" || t.AppID == DefaultAppID {
		return true
	}
	_, moderated := s.apps.moderator(t.AppID)
	return !moderated
}

// forwardToOthers is the in-process verdict: forward to every participant but the sender.
func (s *Server) forwardToOthers(ctx context.Context, convID protocol.ConversationID, sender protocol.AgentID) (store.Decision, error) {
	participants, err := s.store.ConversationParticipants(ctx, convID)
	if err != nil {
		return store.Decision{}, storeErr("list participants", err)
	}
	return forwardExcept(participants, sender), nil
}

func forwardExcept(participants []protocol.AgentID, sender protocol.AgentID) store.Decision {
	out := make([]protocol.AgentID, 0, len(participants))
	for _, id := range participants {
		if id != sender {
			out = append(out, id)
		}
	}
	return store.Decision{Tag: store.DecisionForward, Recipients: out}
}

// decideByTaskMaster asks the TaskMaster (messages/authorize) and records the verdict with
// a compare-and-set; when another verdict won, that one counts.
func (s *Server) decideByTaskMaster(ctx context.Context, t store.Task, m store.Message, parts protocol.MessageParts) (store.Decision, error) {
	decision, err := s.authorizeMessage(ctx, t, m, parts)
	if err != nil {
		return store.Decision{}, err
	}
	won, err := s.store.SetMessageDecision(ctx, m.ID, decision)
	if err != nil && !errors.Is(err, store.ErrStateChanged) {
		return store.Decision{}, storeErr("record message decision", err)
	}
	return won, nil
}

// keepMembers returns the ids of want that are among members, each once, in want's order
// (a Forward verdict never fans out to non-members). The result is never nil.
func keepMembers(want, members []protocol.AgentID) []protocol.AgentID {
	in := make(map[protocol.AgentID]bool, len(members))
	for _, id := range members {
		in[id] = true
	}
	out := make([]protocol.AgentID, 0, len(want))
	for _, id := range want {
		if in[id] {
			out = append(out, id)
			in[id] = false
		}
	}
	return out
}

// encodeParts checks the parts against the configured limits (the schema already bounds
// them by the protocol maxima) and returns their stored encoding.
func (s *Server) encodeParts(parts protocol.MessageParts) ([]byte, error) {
	l := s.cfg.Limits
	if len(parts) == 0 || len(parts) > l.MaxPartsPerMessage {
		return nil, protocol.InvalidParamsError{Message: fmt.Sprintf("Invalid params: a message has 1 to %d parts", l.MaxPartsPerMessage)}
	}
	for i, part := range parts {
		if tp, ok := part.(protocol.TextPart); ok && utf8.RuneCountInString(tp.Text) > l.MaxTextLength {
			return nil, protocol.InvalidParamsError{Message: fmt.Sprintf("Invalid params: parts[%d].text exceeds %d characters", i, l.MaxTextLength)}
		}
	}
	raw, err := json.Marshal(parts)
	if err != nil {
		return nil, fmt.Errorf("encode parts: %w", err)
	}
	if len(raw) > l.MaxMessageBytes {
		return nil, protocol.InvalidParamsError{Message: fmt.Sprintf("Invalid params: message exceeds %d bytes", l.MaxMessageBytes)}
	}
	return raw, nil
}

func notParticipant() error {
	return protocol.ForbiddenError{Message: "Not a participant in this conversation"}
}

// MessagesList returns a conversation's history (REFERENCE 9.5.2 with Q5/Q6): the task's
// TaskMaster connection sees every row; anyone else must have read access to the task
// (initiator or admitted participant) and be a member of the conversation (-32001), and
// sees its own rows plus rows forwarded to it. With sinceSeq the oldest rows after it come
// first (forward paging); without, the newest. Always ascending seq.
func (h handlers) MessagesList(ctx context.Context, c *Conn, p protocol.MessagesListParams) (protocol.MessagesListResult, error) {
	s := h.s
	taskID, convID := p.TaskID, p.ConversationID
	agentID := c.AgentID()
	if _, err := s.conversationInTask(ctx, taskID, convID); err != nil {
		return protocol.MessagesListResult{}, err
	}
	t, err := s.getTask(ctx, taskID)
	if err != nil {
		return protocol.MessagesListResult{}, err
	}
	viewer := store.MessageViewer{AgentID: agentID, SeesAll: s.isTaskMaster(c, t)}
	if !viewer.SeesAll {
		if err := s.checkReadAccess(ctx, t, convID, agentID); err != nil {
			return protocol.MessagesListResult{}, err
		}
	}
	var since *int64
	if p.SinceSeq != nil {
		v, err := strconv.ParseInt(string(*p.SinceSeq), 10, 64)
		if err != nil {
			return protocol.MessagesListResult{}, protocol.InvalidParamsError{Message: "Invalid params: sinceSeq is not a valid sequence number"}
		}
		since = &v
	}
	limit := defaultListLimit
	if p.Limit != nil {
		limit = int(*p.Limit)
	}
	rows, more, err := s.store.ListMessages(ctx, convID, viewer, since, limit)
	if err != nil {
		return protocol.MessagesListResult{}, storeErr("list messages", err)
	}
	out := make([]protocol.Message, 0, len(rows))
	for _, r := range rows {
		m, err := message(r)
		if err != nil {
			return protocol.MessagesListResult{}, fmt.Errorf("convert message %s: %w", r.ID, err)
		}
		out = append(out, m)
	}
	return protocol.MessagesListResult{Messages: out, HasMore: more}, nil
}

// checkReadAccess requires read access to the task (initiator or admitted participant) and
// membership of the conversation.
func (s *Server) checkReadAccess(ctx context.Context, t store.Task, convID protocol.ConversationID, agentID protocol.AgentID) error {
	readable := t.InitiatorAgentID == agentID
	if !readable {
		ok, err := s.store.IsTaskParticipant(ctx, t.ID, agentID)
		if err != nil {
			return storeErr("check task participant", err)
		}
		readable = ok
	}
	if !readable {
		return protocol.ForbiddenError{Message: "No read access to this task"}
	}
	member, err := s.store.IsConversationParticipant(ctx, convID, agentID)
	if err != nil {
		return storeErr("check participant", err)
	}
	if !member {
		return notParticipant()
	}
	return nil
}
