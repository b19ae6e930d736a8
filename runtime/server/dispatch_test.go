package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// release is a decoded dispatch/release.
type release struct {
	DispatchID     string         `json:"dispatchId"`
	LeaseID        string         `json:"leaseId"`
	Verdict        map[string]any `json:"verdict"`
	LeaseTimeoutMs *int64         `json:"leaseTimeoutMs"`
}

// request calls dispatch/request from p about msg and returns the ack and the release.
func (w *mwWorld) request(p *peer, msg protocol.Message) (protocol.DispatchRequestResult, release) {
	w.t.Helper()
	var ack protocol.DispatchRequestResult
	p.mustCall("dispatch/request", map[string]any{
		"conversationId": w.convID, "messageId": string(msg.ID), "senderAgentId": string(msg.SenderID),
		"parts": msg.Parts, "receivedAt": string(msg.CreatedAt),
	}, &ack)
	if ack.LeaseID == "" || ack.DispatchID == "" {
		w.t.Fatalf("dispatch/request ack %+v", ack)
	}
	var rel release
	p.waitNote("dispatch/release", field("leaseId", string(ack.LeaseID)), &rel)
	if rel.DispatchID != string(ack.DispatchID) {
		w.t.Fatalf("release dispatchId %s, ack %s", rel.DispatchID, ack.DispatchID)
	}
	return ack, rel
}

func decisionOf(r release) string {
	d, _ := r.Verdict["decision"].(string)
	return d
}

func reasonOf(r release) string {
	d, _ := r.Verdict["reason"].(string)
	return d
}

func (w *mwWorld) spend(p *peer, leaseID protocol.LeaseID, text string) protocol.Message {
	w.t.Helper()
	return w.send(p, text, map[string]any{"dispatchLeaseId": string(leaseID)})
}

func (w *mwWorld) spendParams(leaseID protocol.LeaseID) map[string]any {
	p := w.sendParams("reply")
	p["dispatchLeaseId"] = string(leaseID)
	return p
}

// isMember reports whether p's agent may still read the conversation (membership).
func isMember(w *mwWorld, p *peer) bool {
	w.t.Helper()
	_, werr := p.call("messages/list", map[string]any{"taskId": w.taskID, "conversationId": w.convID})
	if werr != nil && werr.Code != -32001 {
		w.t.Fatalf("messages/list: %d %s", werr.Code, werr.Message)
	}
	return werr == nil
}

func TestDispatchDefaultAppGrantAndLeaseSpending(t *testing.T) {
	w := newMW(t, mwOptions{invitee: 2})
	bob, carol := w.peers[0], w.peers[1]
	bobID := w.members[0].ID
	w.a.mustCall("presence/subscribe", map[string]any{"agentIds": []string{bobID}}, nil)

	msg := w.send(w.a, "please act", nil)
	bob.waitNote("messages/received", messageID(msg.ID), nil)
	ack, rel := w.request(bob, msg)
	if decisionOf(rel) != "grant" || rel.LeaseTimeoutMs == nil || *rel.LeaseTimeoutMs != 90000 || rel.Verdict["leaseTimeoutMs"] != float64(90000) {
		t.Fatalf("default grant release %+v", rel)
	}
	if rel.LeaseID != string(ack.LeaseID) {
		t.Fatalf("release lease %s, ack %s", rel.LeaseID, ack.LeaseID)
	}
	w.a.waitNote("presence/changed", func(raw json.RawMessage) bool {
		return field("agentId", bobID)(raw) && field("status", "working")(raw)
	}, nil)

	// Without a moderator nobody may read the record.
	bob.wantError("dispatches/get", map[string]any{"dispatchId": string(ack.DispatchID)}, -32001)

	// Spending: unknown lease, lease of another agent, then the real spend, then reuse.
	unknown := uuid.NewString()
	werr := bob.wantError("messages/send", w.spendParams(protocol.LeaseID(unknown)), -32002)
	if werr.Message != "lease "+unknown+" not found" {
		t.Fatalf("unknown lease message %q", werr.Message)
	}
	werr = carol.wantError("messages/send", w.spendParams(ack.LeaseID), -32001)
	if d := errData(t, werr.Data); d["reason"] != "LeaseMismatch" {
		t.Fatalf("mismatch data %v", d)
	}
	reply := w.spend(bob, ack.LeaseID, "done")
	w.a.waitNote("messages/received", messageID(reply.ID), nil)
	w.a.waitNote("presence/changed", func(raw json.RawMessage) bool {
		return field("agentId", bobID)(raw) && field("status", "online")(raw)
	}, nil)
	werr = bob.wantError("messages/send", w.spendParams(ack.LeaseID), -32001)
	d := errData(t, werr.Data)
	if d["reason"] != "LeaseInvalid" || d["state"] != "CONSUMED" || len(d["expected"].([]any)) != 1 || d["expected"].([]any)[0] != "GRANTED" {
		t.Fatalf("reuse data %v", d)
	}

	// A send failing a gate that precedes the lease claim (here a bad replyToId) leaves the
	// lease GRANTED and still spendable.
	_, rel2 := w.request(bob, msg)
	p := w.spendParams(protocol.LeaseID(rel2.LeaseID))
	p["replyToId"] = uuid.NewString()
	bob.wantError("messages/send", p, -32002)
	w.spend(bob, protocol.LeaseID(rel2.LeaseID), "second")

	// Q12: dispatch/request requires membership.
	dave := w.e.register("dave")
	w.e.claim(dave, w.owner)
	w.e.connectAs(dave).wantError("dispatch/request", map[string]any{
		"conversationId": w.convID, "messageId": string(msg.ID), "senderAgentId": w.alice.ID,
	}, -32001)
}

func TestDispatchModeratorGrantConsumeAndGet(t *testing.T) {
	w := newMW(t, mwOptions{tm: true})
	bob := w.peers[0]
	bobID := w.members[0].ID
	w.setDispAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"admission": map[string]any{"decision": "grant", "leaseTimeoutMs": 5000}}, nil
	})
	msg := w.send(w.a, "act", nil)
	ack, rel := w.request(bob, msg)
	if decisionOf(rel) != "grant" || rel.LeaseTimeoutMs == nil || *rel.LeaseTimeoutMs != 5000 {
		t.Fatalf("grant release %+v", rel)
	}
	var authz protocol.DispatchAuthorizeParams
	if err := json.Unmarshal(w.lastCall("dispatch/authorize"), &authz); err != nil {
		t.Fatal(err)
	}
	if authz.AppID != w.appID || string(authz.TaskID) != w.taskID || string(authz.ConversationID) != w.convID ||
		string(authz.Recipient.AgentID) != bobID || authz.Recipient.OwnerID != w.owner ||
		authz.Message.ID != msg.ID || string(authz.Message.SenderAgentID) != w.alice.ID || authz.Attempt != 0 || authz.ReceivedAt == nil {
		t.Fatalf("dispatch/authorize params %+v", authz)
	}

	// dispatches/get: the moderator reads the record; anyone else, or an unknown id, -32001.
	var got protocol.DispatchesGetResult
	w.tm.mustCall("dispatches/get", map[string]any{"dispatchId": string(ack.DispatchID)}, &got)
	rec := got.Lease
	if rec.DispatchID != ack.DispatchID || rec.LeaseID != ack.LeaseID || string(rec.ConversationID) != w.convID ||
		string(rec.TaskID) != w.taskID || rec.AppID != w.appID || string(rec.RecipientAgentID) != bobID ||
		rec.ModeratorConnectionID == "" || rec.State != protocol.LeaseStateGRANTED || rec.ResolvedAt == nil ||
		rec.ConsumedAt != nil || rec.LeaseTimeoutMs == nil || *rec.LeaseTimeoutMs != 5000 {
		t.Fatalf("lease record %+v", rec)
	}
	if _, ok := rec.Verdict.(protocol.DispatchGrant); !ok {
		t.Fatalf("record verdict %T", rec.Verdict)
	}
	for _, p := range []*peer{bob, w.a} {
		werr := p.wantError("dispatches/get", map[string]any{"dispatchId": string(ack.DispatchID)}, -32001)
		if werr.Message != "dispatches/get not authorized for this lease" {
			t.Fatalf("message %q", werr.Message)
		}
	}
	w.tm.wantError("dispatches/get", map[string]any{"dispatchId": uuid.NewString()}, -32001)

	// Spending the lease tells the moderator.
	reply := w.spend(bob, ack.LeaseID, "done")
	var consumed protocol.DispatchesConsumedNotification
	w.tm.waitNote("dispatches/consumed", field("leaseId", string(ack.LeaseID)), &consumed)
	if consumed.DispatchID != ack.DispatchID || consumed.MessageID != reply.ID || string(consumed.ConversationID) != w.convID {
		t.Fatalf("dispatches/consumed %+v", consumed)
	}
	w.tm.mustCall("dispatches/get", map[string]any{"dispatchId": string(ack.DispatchID)}, &got)
	if got.Lease.State != protocol.LeaseStateCONSUMED || got.Lease.ConsumedMessageID == nil || *got.Lease.ConsumedMessageID != reply.ID || got.Lease.ConsumedAt == nil {
		t.Fatalf("consumed record %+v", got.Lease)
	}
	bob.noNote("dispatches/consumed", nil, 0)
}

func TestDispatchModeratorDenyHoldTimeoutError(t *testing.T) {
	w := newMW(t, mwOptions{tm: true, invitee: 5})
	msg := w.send(w.a, "act", nil)
	removedNote := func(agentID string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			return field("removedAgentId", agentID)(raw) && field("reason", "tm_remove")(raw) && field("conversationId", w.convID)(raw)
		}
	}

	// hold: no eviction.
	w.setDispAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"admission": map[string]any{"decision": "hold", "reason": "busy"}}, nil
	})
	_, rel := w.request(w.peers[0], msg)
	if decisionOf(rel) != "hold" || reasonOf(rel) != "busy" || rel.LeaseTimeoutMs != nil {
		t.Fatalf("hold release %+v", rel)
	}

	// deny: the recipient is evicted; the pre-change membership hears about it.
	w.setDispAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"admission": map[string]any{"decision": "deny", "reason": "no"}}, nil
	})
	denied := w.members[1]
	_, rel = w.request(w.peers[1], msg)
	if decisionOf(rel) != "deny" || reasonOf(rel) != "no" {
		t.Fatalf("deny release %+v", rel)
	}
	// The eviction holds by the time the recipient reads the verdict: a send right after it
	// is refused.
	w.peers[1].wantError("messages/send", w.sendParams("right after the deny"), -32001)
	for _, p := range []*peer{w.a, w.peers[0], w.peers[1], w.peers[2]} {
		p.waitNote("task/conversation/participants/removed", removedNote(denied.ID), nil)
	}
	w.peers[1].wantError("messages/send", w.sendParams("evicted"), -32001)
	if isMember(w, w.peers[1]) {
		t.Fatalf("denied recipient is still a member")
	}

	// timeout: deny "timeout" and eviction.
	w.setDispAuth(func(json.RawMessage) (any, error) {
		time.Sleep(2 * mwHookMs * time.Millisecond)
		return map[string]any{"admission": map[string]any{"decision": "grant"}}, nil
	})
	_, rel = w.request(w.peers[2], msg)
	if decisionOf(rel) != "deny" || reasonOf(rel) != "timeout" {
		t.Fatalf("timeout release %+v", rel)
	}
	w.a.waitNote("task/conversation/participants/removed", removedNote(w.members[2].ID), nil)

	// error response: deny "dispatch/authorize error" and eviction.
	w.setDispAuth(func(json.RawMessage) (any, error) { return nil, protocol.ForbiddenError{} })
	_, rel = w.request(w.peers[3], msg)
	if decisionOf(rel) != "deny" || reasonOf(rel) != "dispatch/authorize error" {
		t.Fatalf("error release %+v", rel)
	}
	w.a.waitNote("task/conversation/participants/removed", removedNote(w.members[3].ID), nil)

	// a result that fails its schema (the typed client rejects it): the same fail-closed deny.
	w.setDispAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"admission": map[string]any{"decision": "maybe"}}, nil
	})
	_, rel = w.request(w.peers[4], msg)
	if decisionOf(rel) != "deny" || reasonOf(rel) != "dispatch/authorize error" {
		t.Fatalf("invalid result release %+v", rel)
	}
	w.a.waitNote("task/conversation/participants/removed", removedNote(w.members[4].ID), nil)

	// The held recipient was never evicted and can still send.
	if !isMember(w, w.peers[0]) {
		t.Fatalf("held recipient was evicted")
	}
	w.a.noNote("task/conversation/participants/removed", removedNote(w.members[0].ID), 0)
	w.send(w.peers[0], "still here", nil)
}

func TestDispatchWithoutModeratorHolds(t *testing.T) {
	w := newMW(t, mwOptions{tm: true})
	msg := w.send(w.a, "act", nil)
	w.tm.close()
	time.Sleep(100 * time.Millisecond) // let the server drop the registration
	_, rel := w.request(w.peers[0], msg)
	if decisionOf(rel) != "hold" || reasonOf(rel) != "moderator_unavailable" {
		t.Fatalf("release %+v", rel)
	}
	w.a.noNote("task/conversation/participants/removed", nil, 100*time.Millisecond)
	if !isMember(w, w.peers[0]) {
		t.Fatalf("held recipient was evicted")
	}
}

func TestDispatchArchivedConversationDenies(t *testing.T) {
	w := newMW(t, mwOptions{tm: true})
	msg := w.send(w.a, "act", nil)
	w.tm.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": w.convID}, nil)
	_, rel := w.request(w.peers[0], msg)
	if decisionOf(rel) != "deny" || reasonOf(rel) != "conversation_archived" {
		t.Fatalf("release %+v", rel)
	}
	w.a.noNote("task/conversation/participants/removed", nil, 100*time.Millisecond)
	if !isMember(w, w.peers[0]) {
		t.Fatalf("recipient evicted for conversation_archived")
	}
}

func TestLeaseExpiry(t *testing.T) {
	w := newMW(t, mwOptions{tm: true, cfg: func(c *server.Config) { c.LeaseTTL = 300 * time.Millisecond }})
	bob := w.peers[0]
	msg := w.send(w.a, "act", nil)

	// A grant without timeout gets the configured TTL, then expires.
	ack, rel := w.request(bob, msg)
	if decisionOf(rel) != "grant" || rel.LeaseTimeoutMs == nil || *rel.LeaseTimeoutMs != 300 {
		t.Fatalf("release %+v", rel)
	}
	var exp protocol.DispatchesExpiredNotification
	w.tm.waitNote("dispatches/expired", field("leaseId", string(ack.LeaseID)), &exp)
	if exp.DispatchID != ack.DispatchID || string(exp.ConversationID) != w.convID || exp.ExpiredAt == "" {
		t.Fatalf("dispatches/expired %+v", exp)
	}
	werr := bob.wantError("messages/send", w.spendParams(ack.LeaseID), -32001)
	if d := errData(t, werr.Data); d["reason"] != "LeaseInvalid" || d["state"] != "EXPIRED" {
		t.Fatalf("expired lease data %v", d)
	}
	bob.noNote("dispatches/expired", nil, 0)

	// The recipient connection closing while GRANTED expires the lease.
	w.setDispAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"admission": map[string]any{"decision": "grant", "leaseTimeoutMs": 60000}}, nil
	})
	bob2 := w.e.connectAs(w.members[0])
	ack2, rel2 := w.request(bob2, msg)
	if decisionOf(rel2) != "grant" {
		t.Fatalf("release %+v", rel2)
	}
	bob2.close()
	w.tm.waitNote("dispatches/expired", field("leaseId", string(ack2.LeaseID)), nil)
	var got protocol.DispatchesGetResult
	w.tm.mustCall("dispatches/get", map[string]any{"dispatchId": string(ack2.DispatchID)}, &got)
	if got.Lease.State != protocol.LeaseStateEXPIRED || got.Lease.ExpiredAt == nil {
		t.Fatalf("record after disconnect %+v", got.Lease)
	}
}
