package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// mwWorld is a task with one conversation: alice (the initiator) and the invitees, all
// owned by one user, each connected once; optionally a TaskMaster connection (its own
// agent) registered for a fresh app whose callbacks the test can steer.
type mwWorld struct {
	t      *testing.T
	e      *env
	owner  string
	appID  string
	taskID string
	convID string

	alice   agent
	members []agent // invitees, in the conversation with alice
	a       *peer   // alice's connection
	peers   []*peer // one connection per invitee

	tmAgent agent
	tm      *peer // nil for the default app

	mu       sync.Mutex
	msgAuth  func(json.RawMessage) (any, error)
	dispAuth func(json.RawMessage) (any, error)
	calls    map[string][]json.RawMessage
}

// mwOptions configure newMW.
type mwOptions struct {
	tm      bool // register a TaskMaster app instead of using the default app
	invitee int  // how many invitees (default 2)
	cfg     func(*server.Config)
}

const mwHookMs = 200

func newMW(t *testing.T, o mwOptions) *mwWorld {
	t.Helper()
	var mods []func(*server.Config)
	if o.cfg != nil {
		mods = append(mods, o.cfg)
	}
	e := newEnv(t, mods...)
	w := &mwWorld{t: t, e: e, owner: uuid.NewString(), appID: server.DefaultAppID, calls: map[string][]json.RawMessage{}}
	if o.invitee == 0 {
		o.invitee = 2
	}
	w.alice = e.register("alice")
	e.claim(w.alice, w.owner)
	for i := 0; i < o.invitee; i++ {
		m := e.register(fmt.Sprintf("mem%d", i))
		e.claim(m, w.owner)
		w.members = append(w.members, m)
	}
	if o.tm {
		w.tmAgent = e.register("tm")
		e.claim(w.tmAgent, w.owner)
		w.tm = e.connectAs(w.tmAgent)
		w.tm.answer(w.onCallback)
		w.appID = uuid.NewString()
		w.tm.mustCall("apps/register", map[string]any{"manifest": map[string]any{
			"appId": w.appID, "name": "tm",
			"hooks": map[string]any{
				"dispatch_authorize": map[string]any{"timeout_ms": mwHookMs},
				"message_authorize":  map[string]any{"timeout_ms": mwHookMs},
				"task_create":        map[string]any{"timeout_ms": 1000},
			},
		}}, nil)
	}
	w.a = e.connectAs(w.alice)
	invited := make([]string, len(w.members))
	for i, m := range w.members {
		w.peers = append(w.peers, e.connectAs(m))
		invited[i] = m.ID
	}
	var res struct {
		Task         struct{ ID string }
		Conversation struct{ ID string }
	}
	w.a.mustCall("task/request", map[string]any{
		"appId": w.appID, "invitedAgentIds": invited, "initialConversation": map[string]any{"name": "main"},
	}, &res)
	if res.Task.ID == "" || res.Conversation.ID == "" {
		t.Fatalf("task/request gave no task or conversation")
	}
	w.taskID, w.convID = res.Task.ID, res.Conversation.ID
	return w
}

// onCallback is the TaskMaster: accept every task, and messages/authorize and
// dispatch/authorize as steered (default: Forward to every agent, grant).
func (w *mwWorld) onCallback(method string, params json.RawMessage) (any, error) {
	w.mu.Lock()
	w.calls[method] = append(w.calls[method], params)
	msgAuth, dispAuth := w.msgAuth, w.dispAuth
	w.mu.Unlock()
	switch method {
	case "task/create":
		return map[string]any{"verdict": map[string]any{"decision": "accept"}}, nil
	case "messages/authorize":
		if msgAuth != nil {
			return msgAuth(params)
		}
		return forwardTo(w.allIDs()...), nil
	case "dispatch/authorize":
		if dispAuth != nil {
			return dispAuth(params)
		}
		return map[string]any{"admission": map[string]any{"decision": "grant"}}, nil
	}
	return nil, protocol.MethodNotFoundError{}
}

func (w *mwWorld) setMsgAuth(f func(json.RawMessage) (any, error)) {
	w.mu.Lock()
	w.msgAuth = f
	w.mu.Unlock()
}

func (w *mwWorld) setDispAuth(f func(json.RawMessage) (any, error)) {
	w.mu.Lock()
	w.dispAuth = f
	w.mu.Unlock()
}

// lastCall returns the params of the latest callback of method.
func (w *mwWorld) lastCall(method string) json.RawMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.calls[method]
	if len(c) == 0 {
		w.t.Fatalf("no %s callback", method)
	}
	return c[len(c)-1]
}

func (w *mwWorld) allIDs() []string {
	ids := []string{w.alice.ID}
	for _, m := range w.members {
		ids = append(ids, m.ID)
	}
	return ids
}

func forwardTo(ids ...string) map[string]any {
	if ids == nil {
		ids = []string{}
	}
	return map[string]any{"verdict": map[string]any{"decision": "Forward", "recipients": ids}}
}

func textParts(s string) []map[string]any { return []map[string]any{{"type": "text", "text": s}} }

// send posts a text message into the world's conversation.
func (w *mwWorld) send(p *peer, text string, extra map[string]any) protocol.Message {
	w.t.Helper()
	params := map[string]any{"taskId": w.taskID, "conversationId": w.convID, "parts": textParts(text)}
	for k, v := range extra {
		params[k] = v
	}
	var res protocol.MessagesSendResult
	p.mustCall("messages/send", params, &res)
	return res.Message
}

func (w *mwWorld) sendParams(text string) map[string]any {
	return map[string]any{"taskId": w.taskID, "conversationId": w.convID, "parts": textParts(text)}
}

// list calls messages/list and returns the messages and hasMore.
func (w *mwWorld) list(p *peer, sinceSeq string, limit int) ([]protocol.Message, bool) {
	w.t.Helper()
	params := map[string]any{"taskId": w.taskID, "conversationId": w.convID}
	if sinceSeq != "" {
		params["sinceSeq"] = sinceSeq
	}
	if limit > 0 {
		params["limit"] = limit
	}
	var res protocol.MessagesListResult
	p.mustCall("messages/list", params, &res)
	return res.Messages, res.HasMore
}

func msgIDs(ms []protocol.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.ID)
	}
	return out
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// nested matches notifications whose params.message.id equals id.
func messageID(id protocol.MessageID) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var n struct {
			Message struct{ ID string } `json:"message"`
		}
		return json.Unmarshal(raw, &n) == nil && n.Message.ID == string(id)
	}
}

func errData(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("error data %s: %v", raw, err)
	}
	return m
}

func TestMessageSendFanout(t *testing.T) {
	w := newMW(t, mwOptions{})
	bob, carol := w.peers[0], w.peers[1]
	a2 := w.e.connectAs(w.alice) // alice's other connection

	sent := w.send(w.a, "hello", nil)
	if sent.Seq == "" || sent.SenderID != protocol.AgentID(w.alice.ID) || string(sent.ConversationID) != w.convID {
		t.Fatalf("unexpected sent message %+v", sent)
	}
	if _, err := strconv.ParseInt(string(sent.Seq), 10, 64); err != nil {
		t.Fatalf("seq %q is not a decimal int64", sent.Seq)
	}
	want, _ := json.Marshal(protocol.MessagesReceivedNotification{TaskID: protocol.TaskID(w.taskID), Message: sent})

	var frames []json.RawMessage
	for _, p := range []*peer{bob, carol, a2} {
		raw := p.waitNote("messages/received", messageID(sent.ID), nil)
		var got, exp any
		_ = json.Unmarshal(raw, &got)
		_ = json.Unmarshal(want, &exp)
		gb, _ := json.Marshal(got)
		eb, _ := json.Marshal(exp)
		if !bytes.Equal(gb, eb) {
			t.Fatalf("messages/received = %s, want %s", raw, want)
		}
		frames = append(frames, raw)
	}
	for _, f := range frames[1:] {
		if !bytes.Equal(f, frames[0]) {
			t.Fatalf("recipients got different bytes:\n%s\n%s", frames[0], f)
		}
	}
	w.a.noNote("messages/received", nil, 100*time.Millisecond)

	// A reply in the same conversation carries replyToId.
	reply := w.send(bob, "hi back", map[string]any{"replyToId": string(sent.ID)})
	if reply.ReplyToID == nil || *reply.ReplyToID != sent.ID {
		t.Fatalf("reply has replyToId %v", reply.ReplyToID)
	}
	var got protocol.MessagesReceivedNotification
	w.a.waitNote("messages/received", messageID(reply.ID), &got)
	s1, _ := strconv.ParseInt(string(sent.Seq), 10, 64)
	s2, _ := strconv.ParseInt(string(got.Message.Seq), 10, 64)
	if s2 <= s1 {
		t.Fatalf("reply seq %d not after %d", s2, s1)
	}
}

func TestMessageSendErrorOrder(t *testing.T) {
	w := newMW(t, mwOptions{tm: true})
	bob := w.peers[0]
	outsider := w.e.register("dave")
	w.e.claim(outsider, w.owner)
	d := w.e.connectAs(outsider)

	// Conversation not in task: unknown conversation, wrong task.
	p := w.sendParams("x")
	p["conversationId"] = uuid.NewString()
	w.a.wantError("messages/send", p, -32002)
	p = w.sendParams("x")
	p["taskId"] = uuid.NewString()
	w.a.wantError("messages/send", p, -32002)

	// Not a participant.
	werr := d.wantError("messages/send", w.sendParams("x"), -32001)
	if werr.Message != "Not a participant in this conversation" {
		t.Fatalf("message %q", werr.Message)
	}
	w.tm.wantError("messages/send", w.sendParams("x"), -32001) // the TaskMaster agent is no member

	// Bad replyToId: unknown, and a message of another conversation.
	p = w.sendParams("x")
	p["replyToId"] = uuid.NewString()
	werr = w.a.wantError("messages/send", p, -32002)
	if werr.Message != "Reply target not found" {
		t.Fatalf("message %q", werr.Message)
	}
	var conv2 struct{ Conversation struct{ ID string } }
	w.tm.mustCall("task/conversation/create", map[string]any{"taskId": w.taskID, "name": "side", "participants": []string{w.alice.ID, w.members[0].ID}}, &conv2)
	var other protocol.MessagesSendResult
	w.a.mustCall("messages/send", map[string]any{"taskId": w.taskID, "conversationId": conv2.Conversation.ID, "parts": textParts("side")}, &other)
	p = w.sendParams("x")
	p["replyToId"] = string(other.Message.ID)
	w.a.wantError("messages/send", p, -32002)

	// Invalid parts.
	p = w.sendParams("x")
	p["parts"] = []any{}
	w.a.wantError("messages/send", p, -32602)
	many := make([]map[string]any, 11)
	for i := range many {
		many[i] = map[string]any{"type": "text", "text": "p"}
	}
	p["parts"] = many
	w.a.wantError("messages/send", p, -32602)

	// Archived conversation -32022 (and reply-target is not reached first).
	w.tm.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": conv2.Conversation.ID}, nil)
	p = map[string]any{"taskId": w.taskID, "conversationId": conv2.Conversation.ID, "parts": textParts("x"), "replyToId": uuid.NewString()}
	w.a.wantError("messages/send", p, -32022)

	// Closed task -32020 with data; it wins over archived (task/close archives every
	// conversation), and not-a-participant wins over it.
	w.tm.mustCall("task/close", map[string]any{"taskId": w.taskID}, nil)
	werr = bob.wantError("messages/send", w.sendParams("late"), -32020)
	data := errData(t, werr.Data)
	if data["reason"] != "TaskClosed" || data["taskId"] != w.taskID || data["status"] != "closed" {
		t.Fatalf("TaskClosed data %v", data)
	}
	d.wantError("messages/send", w.sendParams("late"), -32001)
	p = w.sendParams("x")
	p["conversationId"] = uuid.NewString()
	d.wantError("messages/send", p, -32002)
}

func TestMessageSendRateLimit(t *testing.T) {
	w := newMW(t, mwOptions{cfg: func(c *server.Config) { c.Limits.MessagesPerMinute = 3 }})
	for i := 0; i < 3; i++ {
		w.send(w.a, fmt.Sprintf("m%d", i), nil)
	}
	// A failing send is rejected by its gate before it costs a token ...
	p := w.sendParams("x")
	p["replyToId"] = uuid.NewString()
	w.a.wantError("messages/send", p, -32002)
	// ... an admissible one beyond the budget is rate limited.
	werr := w.a.wantError("messages/send", w.sendParams("too many"), -32004)
	var data protocol.RateLimitedData
	if err := json.Unmarshal(werr.Data, &data); err != nil || data.RetryAfterMs <= 0 || data.RetryAfterMs > 60000 {
		t.Fatalf("RateLimited data %s (%v)", werr.Data, err)
	}
	// The budget is per agent.
	w.send(w.peers[0], "bob is fine", nil)
	// A rate-limited send stored nothing.
	ms, _ := w.list(w.peers[0], "", 0)
	if len(ms) != 4 {
		t.Fatalf("bob sees %d messages, want 4", len(ms))
	}
}

func TestMessageAuthorizeVerdicts(t *testing.T) {
	w := newMW(t, mwOptions{tm: true, invitee: 2})
	bob, carol := w.peers[0], w.peers[1]
	a2 := w.e.connectAs(w.alice)
	stranger := w.e.register("eve")

	// Forward to a subset; non-participants are dropped.
	w.setMsgAuth(func(json.RawMessage) (any, error) {
		return forwardTo(w.members[0].ID, stranger.ID, uuid.NewString(), w.tmAgent.ID), nil
	})
	m1 := w.send(w.a, "for bob", nil)
	bob.waitNote("messages/received", messageID(m1.ID), nil)
	a2.waitNote("messages/received", messageID(m1.ID), nil)
	var authz protocol.MessagesAuthorizeParams
	if err := json.Unmarshal(w.lastCall("messages/authorize"), &authz); err != nil {
		t.Fatal(err)
	}
	if authz.AppID != w.appID || string(authz.TaskID) != w.taskID || string(authz.ConversationID) != w.convID ||
		authz.Message.ID != m1.ID || string(authz.Message.SenderAgentID) != w.alice.ID || len(authz.Message.Parts) != 1 {
		t.Fatalf("messages/authorize params %+v", authz)
	}
	carol.noNote("messages/received", messageID(m1.ID), 100*time.Millisecond)
	w.a.noNote("messages/received", nil, 0)

	// Forward []: stored, no other agent notified; visible to the sender and the TM only.
	w.setMsgAuth(func(json.RawMessage) (any, error) { return forwardTo(), nil })
	m2 := w.send(w.a, "for nobody", nil)
	a2.waitNote("messages/received", messageID(m2.ID), nil)

	// Block: -32019 {reason, messageId}; the row stays stored.
	w.setMsgAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "Block", "reason": "nope"}}, nil
	})
	werr := w.a.wantError("messages/send", w.sendParams("blocked"), -32019)
	data := errData(t, werr.Data)
	blockedID, _ := data["messageId"].(string)
	if data["reason"] != "nope" || blockedID == "" {
		t.Fatalf("HookBlocked data %v", data)
	}

	// Timeout and error responses fail closed: Block tm_unreachable.
	w.setMsgAuth(func(json.RawMessage) (any, error) {
		time.Sleep(2 * mwHookMs * time.Millisecond)
		return forwardTo(w.allIDs()...), nil
	})
	werr = bob.wantError("messages/send", w.sendParams("slow tm"), -32019)
	if d := errData(t, werr.Data); d["reason"] != "tm_unreachable" || d["messageId"] == "" {
		t.Fatalf("timeout data %v", d)
	}
	slowID := errData(t, werr.Data)["messageId"].(string)
	w.setMsgAuth(func(json.RawMessage) (any, error) { return nil, protocol.ForbiddenError{} })
	werr = w.a.wantError("messages/send", w.sendParams("vacuous deny"), -32019)
	if d := errData(t, werr.Data); d["reason"] != "tm_unreachable" {
		t.Fatalf("error data %v", d)
	}
	// An invalid verdict fails closed too.
	w.setMsgAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "Maybe"}}, nil
	})
	w.a.wantError("messages/send", w.sendParams("bad verdict"), -32019)

	for _, p := range []*peer{bob, carol, a2} {
		p.noNote("messages/received", messageID(protocol.MessageID(blockedID)), 0)
	}
	carol.noNote("messages/received", messageID(m2.ID), 0)
	bob.noNote("messages/received", messageID(m2.ID), 0)
	a2.noNote("messages/received", messageID(protocol.MessageID(slowID)), 0)

	// Visibility in messages/list.
	aliceIDs := msgIDs(mustList(w, w.a))
	bobIDs := msgIDs(mustList(w, bob))
	carolIDs := msgIDs(mustList(w, carol))
	tmIDs := msgIDs(mustList(w, w.tm))
	check := func(who string, ids []string, id string, want bool) {
		t.Helper()
		if contains(ids, id) != want {
			t.Fatalf("%s sees %s = %v, want %v", who, id, !want, want)
		}
	}
	check("alice", aliceIDs, string(m1.ID), true)
	check("alice", aliceIDs, string(m2.ID), true)
	check("alice", aliceIDs, blockedID, true)
	check("alice", aliceIDs, slowID, false)
	check("bob", bobIDs, string(m1.ID), true)
	check("bob", bobIDs, string(m2.ID), false)
	check("bob", bobIDs, blockedID, false)
	check("bob", bobIDs, slowID, true)
	check("carol", carolIDs, string(m1.ID), false)
	check("carol", carolIDs, string(m2.ID), false)
	check("carol", carolIDs, blockedID, false)
	if len(tmIDs) != 6 {
		t.Fatalf("TaskMaster sees %d messages, want all 6", len(tmIDs))
	}
	for _, id := range []string{string(m1.ID), string(m2.ID), blockedID, slowID} {
		check("tm", tmIDs, id, true)
	}

	// Without a registered TaskMaster the default Forward-to-all-others applies.
	w.tm.close()
	time.Sleep(100 * time.Millisecond) // let the server drop the registration
	m3 := w.send(w.a, "unmoderated", nil)
	bob.waitNote("messages/received", messageID(m3.ID), nil)
	carol.waitNote("messages/received", messageID(m3.ID), nil)
}

func mustList(w *mwWorld, p *peer) []protocol.Message {
	w.t.Helper()
	ms, _ := w.list(p, "", 200)
	return ms
}

func TestMessagesListPaging(t *testing.T) {
	w := newMW(t, mwOptions{})
	bob := w.peers[0]
	var sent []string
	for i := 0; i < 7; i++ {
		sent = append(sent, string(w.send(w.a, fmt.Sprintf("m%d", i), nil).ID))
	}

	// Forward paging from the start: 3 + 3 + 1, no gap, no duplicate, ascending.
	var got []string
	since := "0"
	var lastSeq int64
	for page := 0; ; page++ {
		ms, more := w.list(bob, since, 3)
		for _, m := range ms {
			seq, err := strconv.ParseInt(string(m.Seq), 10, 64)
			if err != nil || seq <= lastSeq {
				t.Fatalf("seq %q not increasing after %d", m.Seq, lastSeq)
			}
			lastSeq = seq
			got = append(got, string(m.ID))
		}
		wantLen, wantMore := 3, true
		if page == 2 {
			wantLen, wantMore = 1, false
		}
		if len(ms) != wantLen || more != wantMore {
			t.Fatalf("page %d: %d messages hasMore=%v, want %d %v", page, len(ms), more, wantLen, wantMore)
		}
		if !more {
			break
		}
		since = string(ms[len(ms)-1].Seq)
	}
	if fmt.Sprint(got) != fmt.Sprint(sent) {
		t.Fatalf("paged %v, want %v", got, sent)
	}

	// Without sinceSeq: the newest rows, ascending.
	ms, more := w.list(bob, "", 3)
	if !more || fmt.Sprint(msgIDs(ms)) != fmt.Sprint(sent[4:]) {
		t.Fatalf("newest page %v more=%v, want %v", msgIDs(ms), more, sent[4:])
	}
	// Past the end.
	ms, more = w.list(bob, strconv.FormatInt(lastSeq, 10), 3)
	if len(ms) != 0 || more {
		t.Fatalf("after the last seq: %d messages more=%v", len(ms), more)
	}

	// Access: a non-member -32001, bad sinceSeq -32602, conversation of another task -32002.
	dave := w.e.register("dave")
	w.e.claim(dave, w.owner)
	d := w.e.connectAs(dave)
	d.wantError("messages/list", map[string]any{"taskId": w.taskID, "conversationId": w.convID}, -32001)
	bob.wantError("messages/list", map[string]any{"taskId": w.taskID, "conversationId": w.convID, "sinceSeq": "x1"}, -32602)
	bob.wantError("messages/list", map[string]any{"taskId": uuid.NewString(), "conversationId": w.convID}, -32002)
}
