package server

import (
	"context"
	"errors"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server/lease"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// Reasons of synthesised admission verdicts (REFERENCE 11.2, 12.3).
const (
	reasonConversationArchived = "conversation_archived"
	reasonModeratorUnavailable = "moderator_unavailable"
	reasonAuthorizeTimeout     = "timeout"
	reasonAuthorizeError       = "dispatch/authorize error"
)

// admission is where the verdict of a dispatch/request comes from (REFERENCE 12.3).
type admission struct {
	taskID protocol.TaskID
	appID  protocol.AppID
	// verdict is the in-process verdict; nil when the moderator decides.
	verdict protocol.DispatchAdmissionDecision
	// moderator is the TaskMaster asked with dispatch/authorize when verdict is nil.
	moderator appBinding
}

// DispatchRequest mints a PENDING lease for the caller's connection and acknowledges it
// at once (REFERENCE 9.6.2, 12.2). The caller must be a member of the conversation (Q12,
// -32001). In-process verdicts (grant for the default app or an unbound conversation, deny
// "conversation_archived", hold "moderator_unavailable") resolve the lease before the ack
// is written, so their dispatch/release precedes the response (Q27); a moderator's verdict
// is obtained in the background and released whenever it arrives.
func (h handlers) DispatchRequest(ctx context.Context, c *Conn, p protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error) {
	s := h.s
	agentID, convID := c.AgentID(), p.ConversationID
	member, err := s.store.IsConversationParticipant(ctx, convID, agentID)
	if err != nil {
		return protocol.DispatchRequestResult{}, storeErr("check participant", err)
	}
	if !member {
		return protocol.DispatchRequestResult{}, notParticipant()
	}
	src, err := s.admissionSource(ctx, convID)
	if err != nil {
		return protocol.DispatchRequestResult{}, err
	}
	b := lease.Binding{
		RecipientAgentID: agentID,
		RecipientConnID:  c.id,
		TaskID:           src.taskID,
		ConversationID:   convID,
		AppID:            src.appID,
	}
	if src.verdict == nil {
		b.ModeratorConnID = src.moderator.conn.id
	}
	l := s.leases.Mint(b)
	if src.verdict != nil {
		s.resolveLease(l, src.verdict, false)
	} else {
		params := protocol.DispatchAuthorizeParams{
			TaskID:         src.taskID,
			AppID:          string(src.appID),
			ConversationID: p.ConversationID,
			Recipient:      protocol.AgentOwnership{AgentID: agentID, OwnerID: string(c.Owner())},
			Message:        protocol.CallbackMessage{ID: p.MessageID, SenderAgentID: p.SenderAgentID, Parts: p.Parts},
			ReceivedAt:     p.ReceivedAt,
			Clock:          p.Clock,
			Pending:        p.Pending,
		}
		if p.Attempt != nil {
			params.Attempt = *p.Attempt
		}
		// Shutdown waits for every connection (this request included) before it cancels
		// s.ctx and waits for s.wg, so the round trip is counted before that wait starts.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.askModerator(src.moderator, l, params)
		}()
	}
	return protocol.DispatchRequestResult{LeaseID: l.LeaseID, DispatchID: l.DispatchID}, nil
}

// admissionSource applies the verdict-source table of REFERENCE 12.3.
func (s *Server) admissionSource(ctx context.Context, convID protocol.ConversationID) (admission, error) {
	grant := protocol.DispatchGrant{}
	cv, err := s.store.GetConversation(ctx, convID)
	if errors.Is(err, store.ErrNotFound) {
		return admission{verdict: grant}, nil
	}
	if err != nil {
		return admission{}, storeErr("get conversation", err)
	}
	t, err := s.store.GetTask(ctx, cv.TaskID)
	if errors.Is(err, store.ErrNotFound) {
		return admission{taskID: cv.TaskID, verdict: grant}, nil
	}
	if err != nil {
		return admission{}, storeErr("get task", err)
	}
	src := admission{taskID: t.ID, appID: t.AppID}
	switch {
	case t.AppID == "":
		src.verdict = grant
	case cv.ArchivedAt != nil:
		src.verdict = protocol.DispatchDeny{Reason: optString(reasonConversationArchived)}
	case t.AppID == DefaultAppID:
		src.verdict = grant
	default:
		b, ok := s.apps.moderator(t.AppID)
		if !ok {
			src.verdict = protocol.DispatchHold{Reason: optString(reasonModeratorUnavailable)}
		} else {
			src.moderator = b
		}
	}
	return src, nil
}

// askModerator sends dispatch/authorize to the moderator bound at mint time and resolves
// the lease with its verdict, failing closed (REFERENCE 11.2): timeout -> deny "timeout";
// transport error, disconnect, error response or invalid result -> deny "dispatch/authorize
// error". A server shutting down resolves nothing (the recipient's socket is closing, which
// abandons the lease).
func (s *Server) askModerator(b appBinding, l lease.Lease, params protocol.DispatchAuthorizeParams) {
	ctx, cancel := context.WithTimeout(s.ctx, s.hookTimeout(b.manifest, hookDispatchAuthorize))
	defer cancel()
	res, err := b.tm.DispatchAuthorize(ctx, params) // decodes and validates the result
	if s.ctx.Err() != nil {
		return
	}
	var verdict protocol.DispatchAdmissionDecision
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		verdict = protocol.DispatchDeny{Reason: optString(reasonAuthorizeTimeout)}
	case err != nil || res.Admission == nil:
		s.log.Debug("dispatch/authorize failed closed", "lease", l.LeaseID, "app", l.AppID, "err", err)
		verdict = protocol.DispatchDeny{Reason: optString(reasonAuthorizeError)}
	default:
		verdict = res.Admission
	}
	s.resolveLease(l, verdict, true)
}

// resolveLease applies a verdict to a PENDING lease (dispatch/release goes out through
// leaseEvents, which also evicts the recipient of a moderator's deny, real or synthesised,
// REFERENCE 12.5; in-process verdicts never evict). A lease already resolved or abandoned
// (its recipient disconnected) ignores the late verdict.
func (s *Server) resolveLease(l lease.Lease, verdict protocol.DispatchAdmissionDecision, moderated bool) {
	_, err := s.leases.Resolve(l.LeaseID, verdict)
	if errors.Is(err, lease.ErrInvalidVerdict) && moderated {
		_, err = s.leases.Resolve(l.LeaseID, protocol.DispatchDeny{Reason: optString(reasonAuthorizeError)})
	}
	if err != nil {
		s.log.Debug("lease verdict ignored", "lease", l.LeaseID, "err", err)
	}
}

// evictRecipient removes a denied recipient from the conversation and tells the pre-change
// membership (the removed agent included) with task/conversation/participants/removed
// reason tm_remove (REFERENCE 12.5, Q11), like a TaskMaster removal.
func (s *Server) evictRecipient(ctx context.Context, taskID protocol.TaskID, convID protocol.ConversationID, agentID protocol.AgentID) {
	removed, err := s.store.RemoveConversationParticipant(ctx, convID, agentID)
	if err != nil {
		s.log.Warn("deny eviction: remove participant", "conversation", convID, "agent", agentID, "err", err)
		return
	}
	if !removed {
		return
	}
	remaining, err := s.store.ConversationParticipants(ctx, convID)
	if err != nil {
		s.log.Warn("deny eviction: list participants", "conversation", convID, "err", err)
	}
	s.conversationMemberRemoved(taskID, convID, agentID, remaining, protocol.ParticipantRemovedReasonTMRemove)
	s.log.Debug("recipient evicted on deny", "conversation", convID, "agent", agentID)
}

// DispatchesGet returns a lease record to the lease's moderator connection only; anyone
// else, and an unknown or aged-out dispatch, get the same -32001 (REFERENCE 9.6.3).
func (h handlers) DispatchesGet(_ context.Context, c *Conn, p protocol.DispatchesGetParams) (protocol.DispatchesGetResult, error) {
	l, ok := h.s.leases.Get(p.DispatchID)
	if !ok || l.ModeratorConnID == "" || l.ModeratorConnID != c.id {
		return protocol.DispatchesGetResult{}, protocol.ForbiddenError{Message: "dispatches/get not authorized for this lease"}
	}
	return protocol.DispatchesGetResult{Lease: l.Record()}, nil
}
