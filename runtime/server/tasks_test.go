package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
)

const (
	tkOwner      = "7a5c0000-0000-4000-8000-0000000000a1"
	tkOtherOwner = "7a5c0000-0000-4000-8000-0000000000b2"
	tkQuiet      = 150 * time.Millisecond // how long a "no notification" check waits
)

// tkMember is a connected agent.
type tkMember struct {
	agent
	p *peer
}

// tkJoin registers an agent, claims it for owner ("" = unclaimed) and connects it.
func tkJoin(e *env, prefix, owner string) tkMember {
	e.t.Helper()
	a := e.register(prefix)
	if owner != "" {
		e.claim(a, owner)
	}
	return tkMember{agent: a, p: e.connectAs(a)}
}

// tkTM is a TaskMaster: an agent connection registered for a fresh app id.
type tkTM struct {
	tkMember
	appID string
}

// tkAcceptAll answers every task/create with accept.
func tkAcceptAll(method string, _ json.RawMessage) (any, error) {
	if method == protocol.CallbackTaskCreate {
		return map[string]any{"verdict": map[string]any{"decision": "accept"}}, nil
	}
	return nil, protocol.MethodNotFoundError{}
}

// tkNewTM registers a TaskMaster whose manifest gets the extra keys and installs cb.
func tkNewTM(e *env, extra map[string]any, cb func(string, json.RawMessage) (any, error)) tkTM {
	e.t.Helper()
	m := tkJoin(e, "tm", "")
	appID := uuid.NewString()
	manifest := map[string]any{"appId": appID, "name": "test app"}
	for k, v := range extra {
		manifest[k] = v
	}
	m.p.answer(cb)
	m.p.mustCall("apps/register", map[string]any{"manifest": manifest}, nil)
	return tkTM{tkMember: m, appID: appID}
}

// tkRequest calls task/request and returns its result.
func tkRequest(p *peer, appID string, invitees []string, initial map[string]any) protocol.TaskRequestResult {
	p.t.Helper()
	params := map[string]any{"appId": appID, "invitedAgentIds": invitees}
	if initial != nil {
		params["initialConversation"] = initial
	}
	var res protocol.TaskRequestResult
	p.mustCall("task/request", params, &res)
	return res
}

// tkWorld is a TaskMaster app with an accepted task: requester a, invitees b and c (all of
// one owner) and d, an agent of the same owner outside the task.
type tkWorld struct {
	e          *env
	tm         tkTM
	a, b, c, d tkMember
	taskID     string
}

func newTkWorld(t *testing.T, manifest map[string]any, mod ...func(*server.Config)) *tkWorld {
	t.Helper()
	e := newEnv(t, mod...)
	w := &tkWorld{e: e}
	w.tm = tkNewTM(e, manifest, tkAcceptAll)
	w.a, w.b, w.c, w.d = tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner), tkJoin(e, "inv", tkOwner), tkJoin(e, "out", tkOwner)
	res := tkRequest(w.a.p, w.tm.appID, []string{w.b.ID, w.c.ID}, nil)
	w.taskID = string(res.Task.ID)
	return w
}

// createConv has the TaskMaster create a conversation with the participants.
func (w *tkWorld) createConv(name string, participants ...string) string {
	w.e.t.Helper()
	var res protocol.TaskConversationCreateResult
	w.tm.p.mustCall("task/conversation/create", map[string]any{"taskId": w.taskID, "name": name, "participants": participants}, &res)
	return string(res.Conversation.ID)
}

func tkTaskIDs(p *peer) []string {
	p.t.Helper()
	var res protocol.TaskListResult
	p.mustCall("task/list", map[string]any{"limit": 200}, &res)
	out := make([]string, len(res.Tasks))
	for i, tk := range res.Tasks {
		out[i] = string(tk.ID)
	}
	return out
}

// tkNoteNames returns the methods of every notification p received so far.
func tkNoteNames(p *peer) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.notes))
	for i, n := range p.notes {
		out[i] = n.Method
	}
	return out
}

func tkContains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func tkRejected(t *testing.T, werr interface{ Error() string }, data json.RawMessage) protocol.TaskRejectedData {
	t.Helper()
	var d protocol.TaskRejectedData
	if err := json.Unmarshal(data, &d); err != nil || d.TaskID == "" {
		t.Fatalf("TaskRejected data %s: %v (%v)", data, err, werr)
	}
	return d
}

func tkReason(d protocol.TaskRejectedData) string {
	if d.Reason == nil {
		return ""
	}
	return *d.Reason
}

// ---- task/request ----------------------------------------------------------------------

func TestTaskRequestDefaultApp(t *testing.T) {
	e := newEnv(t)
	a, b, c := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner), tkJoin(e, "bystander", tkOwner)

	res := tkRequest(a.p, server.DefaultAppID, []string{b.ID}, map[string]any{"name": "kickoff"})
	if res.Task.Status != protocol.TaskStatusActive || res.Task.StartedAt == nil || res.Task.EndedAt != nil ||
		string(res.Task.InitiatorAgentID) != a.ID || string(res.Task.AppID) != server.DefaultAppID {
		t.Fatalf("task %+v", res.Task)
	}
	if res.Conversation == nil || res.Conversation.Type != protocol.ConversationTypeDm ||
		string(res.Conversation.CreatedBy) != a.ID || res.Conversation.Name == nil || *res.Conversation.Name != "kickoff" {
		t.Fatalf("conversation %+v", res.Conversation)
	}
	taskID, convID := string(res.Task.ID), string(res.Conversation.ID)

	// Q27: the caller's notifications are written before the response.
	if len(a.p.notesOf("task/created")) != 1 || len(a.p.notesOf("task/conversation/created")) != 1 {
		t.Fatalf("requester notes before response: %v", tkNoteNames(a.p))
	}
	var created protocol.TaskCreatedNotification
	b.p.waitNote("task/created", nil, &created)
	if string(created.Task.ID) != taskID || created.Task.Status != protocol.TaskStatusActive {
		t.Fatalf("task/created %+v", created)
	}
	var cc protocol.TaskConversationCreatedNotification
	b.p.waitNote("task/conversation/created", field("conversationId", convID), &cc)
	if string(cc.TaskID) != taskID || len(cc.Participants) != 1 || string(cc.Participants[0]) != b.ID || cc.Name == nil || *cc.Name != "kickoff" {
		t.Fatalf("task/conversation/created %+v", cc)
	}
	c.p.noNote("task/created", nil, tkQuiet)
	c.p.noNote("task/conversation/created", nil, 0)

	if ids := tkTaskIDs(b.p); !tkContains(ids, taskID) {
		t.Fatalf("invitee's task/list %v lacks %s", ids, taskID)
	}
	if ids := tkTaskIDs(c.p); len(ids) != 0 {
		t.Fatalf("bystander sees tasks %v", ids)
	}

	// No initial conversation: conversation is null on the wire.
	raw := a.p.mustCall("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{}}, nil)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	if string(m["conversation"]) != "null" {
		t.Fatalf("conversation = %s, want null", m["conversation"])
	}
}

func TestTaskRequestInitialConversationShapes(t *testing.T) {
	e := newEnv(t)
	a, b, c := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner), tkJoin(e, "inv", tkOwner)

	// Two invitees, no explicit participants: a group of everyone.
	res := tkRequest(a.p, server.DefaultAppID, []string{b.ID, c.ID}, map[string]any{})
	if res.Conversation == nil || res.Conversation.Type != protocol.ConversationTypeGroup || res.Conversation.Name != nil {
		t.Fatalf("conversation %+v", res.Conversation)
	}
	c.p.waitNote("task/conversation/created", field("conversationId", string(res.Conversation.ID)), nil)

	// Explicit participants (a subset of the invitees; the requester is always a member).
	res = tkRequest(a.p, server.DefaultAppID, []string{b.ID, c.ID}, map[string]any{"participants": []string{c.ID, a.ID}})
	if res.Conversation.Type != protocol.ConversationTypeDm {
		t.Fatalf("type %s, want dm", res.Conversation.Type)
	}
	convID := string(res.Conversation.ID)
	b.p.waitNote("task/created", func(raw json.RawMessage) bool {
		var n protocol.TaskCreatedNotification
		return json.Unmarshal(raw, &n) == nil && n.Task.ID == res.Task.ID
	}, nil)
	c.p.waitNote("task/conversation/created", field("conversationId", convID), nil)
	b.p.noNote("task/conversation/created", field("conversationId", convID), tkQuiet)
	var list protocol.TaskConversationListResult
	a.p.mustCall("task/conversation/list", map[string]any{}, &list)
	for _, it := range list.Items {
		if string(it.Conversation.ID) == convID && len(it.Participants) != 2 {
			t.Fatalf("participants %v, want requester and c", it.Participants)
		}
	}

	// A participant that is not invited cannot be in the initial conversation.
	d := tkJoin(e, "stranger", tkOwner)
	a.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{b.ID},
		"initialConversation": map[string]any{"participants": []string{d.ID}}}, -32023)
}

func TestTaskRequestInitialConversationTooLarge(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Limits.MaxGroupParticipants = 2 })
	a, b, c := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner), tkJoin(e, "inv", tkOwner)
	before := len(tkTaskIDs(a.p))
	a.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{b.ID, c.ID},
		"initialConversation": map[string]any{}}, -32007)
	if len(tkTaskIDs(a.p)) != before {
		t.Fatal("a refused request left a task behind")
	}
	// Manifest limits.maxParticipants applies too; the TaskMaster is never asked.
	asked := make(chan struct{}, 1)
	tm := tkNewTM(e, map[string]any{"limits": map[string]any{"maxParticipants": 1}}, func(m string, p json.RawMessage) (any, error) {
		asked <- struct{}{}
		return tkAcceptAll(m, p)
	})
	a.p.wantError("task/request", map[string]any{"appId": tm.appID, "invitedAgentIds": []string{b.ID},
		"initialConversation": map[string]any{}}, -32007)
	select {
	case <-asked:
		t.Fatal("task/create was sent for a refused request")
	default:
	}
}

func TestTaskRequestTaskMasterAccept(t *testing.T) {
	e := newEnv(t)
	got := make(chan protocol.TaskCreateParams, 1)
	tm := tkNewTM(e, nil, func(method string, params json.RawMessage) (any, error) {
		p, err := protocol.DecodeTaskCreateParams(params)
		if err != nil {
			t.Errorf("task/create params %s: %v", params, err)
		}
		got <- p
		return tkAcceptAll(method, params)
	})
	a, b := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner)
	res := tkRequest(a.p, tm.appID, []string{b.ID}, map[string]any{"name": "room"})
	p := <-got
	if string(p.TaskID) != string(res.Task.ID) || string(p.InitiatorAgentID) != a.ID || len(p.InvitedAgentIDs) != 1 ||
		string(p.InvitedAgentIDs[0]) != b.ID || p.ReceivedAt == nil || p.InitialConversation == nil || *p.InitialConversation.Name != "room" {
		t.Fatalf("task/create params %+v", p)
	}
	if res.Task.Status != protocol.TaskStatusActive || res.Conversation == nil {
		t.Fatalf("result %+v", res)
	}
	b.p.waitNote("task/created", nil, nil)
	b.p.waitNote("task/conversation/created", nil, nil)
	tm.p.noNote("task/created", nil, tkQuiet) // the TaskMaster is not a participant
}

func TestTaskRequestTaskMasterReject(t *testing.T) {
	e := newEnv(t)
	tm := tkNewTM(e, nil, func(string, json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "reject", "reason": "busy"}}, nil
	})
	a, b := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner)
	werr := a.p.wantError("task/request", map[string]any{"appId": tm.appID, "invitedAgentIds": []string{b.ID},
		"initialConversation": map[string]any{}}, -32024)
	d := tkRejected(t, werr, werr.Data)
	if tkReason(d) != "busy" {
		t.Fatalf("reason %q", tkReason(d))
	}
	if len(a.p.notesOf("task/failed")) != 1 {
		t.Fatal("requester's task/failed not written before the response")
	}
	var failed protocol.TaskFailedNotification
	b.p.waitNote("task/failed", nil, &failed)
	if failed.TaskID != d.TaskID || failed.Reason == nil || *failed.Reason != "busy" {
		t.Fatalf("task/failed %+v", failed)
	}
	b.p.noNote("task/created", nil, tkQuiet)
	b.p.noNote("task/conversation/created", nil, 0)

	var list protocol.TaskListResult
	a.p.mustCall("task/list", map[string]any{}, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].Status != protocol.TaskStatusFailed || list.Tasks[0].EndedAt == nil || list.Tasks[0].StartedAt != nil {
		t.Fatalf("task/list %+v", list.Tasks)
	}

	// A reject without a reason.
	tm.p.answer(func(string, json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "reject"}}, nil
	})
	werr = a.p.wantError("task/request", map[string]any{"appId": tm.appID, "invitedAgentIds": []string{}}, -32024)
	if d := tkRejected(t, werr, werr.Data); d.Reason != nil {
		t.Fatalf("reason %q, want none", *d.Reason)
	}
}

func TestTaskRequestFailClosed(t *testing.T) {
	e := newEnv(t)
	a, b := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner)
	expect := func(appID, reason string) {
		t.Helper()
		werr := a.p.wantError("task/request", map[string]any{"appId": appID, "invitedAgentIds": []string{b.ID}}, -32024)
		d := tkRejected(t, werr, werr.Data)
		if tkReason(d) != reason {
			t.Fatalf("reason %q, want %q", tkReason(d), reason)
		}
		b.p.waitNote("task/failed", func(raw json.RawMessage) bool {
			return field("taskId", string(d.TaskID))(raw) && field("reason", reason)(raw)
		}, nil)
	}

	// No TaskMaster registered for the app.
	expect(uuid.NewString(), "tm_unreachable")

	// An error response (the conventional vacuous deny).
	deny := tkNewTM(e, nil, func(string, json.RawMessage) (any, error) { return nil, protocol.ForbiddenError{} })
	expect(deny.appID, "tm_unreachable")

	// A result that fails its schema.
	bad := tkNewTM(e, nil, func(string, json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "maybe"}}, nil
	})
	expect(bad.appID, "tm_unreachable")

	// The hook timeout elapses.
	release := make(chan struct{})
	slow := tkNewTM(e, map[string]any{"hooks": map[string]any{"task_create": map[string]any{"timeout_ms": 200}}},
		func(string, json.RawMessage) (any, error) {
			<-release
			return map[string]any{"verdict": map[string]any{"decision": "accept"}}, nil
		})
	t.Cleanup(func() { close(release) })
	start := time.Now()
	expect(slow.appID, "timeout")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestTaskRequestTaskMasterDisconnects(t *testing.T) {
	e := newEnv(t)
	asked, release := make(chan struct{}, 1), make(chan struct{})
	t.Cleanup(func() { close(release) })
	tm := tkNewTM(e, nil, func(string, json.RawMessage) (any, error) {
		asked <- struct{}{}
		<-release
		return nil, protocol.ForbiddenError{}
	})
	a, b := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner)
	type outcome struct {
		data json.RawMessage
		code int64
	}
	done := make(chan outcome, 1)
	go func() {
		_, werr := a.p.call("task/request", map[string]any{"appId": tm.appID, "invitedAgentIds": []string{b.ID}})
		if werr == nil {
			done <- outcome{}
			return
		}
		done <- outcome{werr.Data, werr.Code}
	}()
	<-asked
	tm.p.close()
	select {
	case o := <-done:
		if o.code != -32024 {
			t.Fatalf("code %d, want -32024", o.code)
		}
		var d protocol.TaskRejectedData
		_ = json.Unmarshal(o.data, &d)
		if tkReason(d) != "tm_unreachable" {
			t.Fatalf("reason %q", tkReason(d))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("task/request did not fail when the TaskMaster disconnected")
	}
	b.p.waitNote("task/failed", field("reason", "tm_unreachable"), nil)
}

func TestSweeperWaitsForTheTaskMastersOwnHookTimeout(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.HookTimeout = 100 * time.Millisecond // the default threshold would be 200 ms
		c.SweepInterval = 50 * time.Millisecond
	})
	tm := tkNewTM(e, map[string]any{"hooks": map[string]any{"task_create": map[string]any{"timeout_ms": 3000}}},
		func(m string, p json.RawMessage) (any, error) {
			time.Sleep(600 * time.Millisecond)
			return tkAcceptAll(m, p)
		})
	a, b := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner)
	res := tkRequest(a.p, tm.appID, []string{b.ID}, nil)
	if res.Task.Status != protocol.TaskStatusActive {
		t.Fatalf("task %+v: the sweeper must not fail a task whose TaskMaster still has time", res.Task)
	}
	b.p.waitNote("task/created", nil, nil)
	b.p.noNote("task/failed", nil, tkQuiet)
}

func TestTaskRequestWithoutContactPolicy(t *testing.T) {
	e := newEnv(t) // the default: no contact policy, strangers may invite each other
	a := tkJoin(e, "req", "")
	stranger := tkJoin(e, "stranger", tkOtherOwner)
	tkRequest(a.p, server.DefaultAppID, []string{stranger.ID}, nil)
	stranger.p.waitNote("task/created", nil, nil)
	a.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID,
		"invitedAgentIds": []string{uuid.NewString()}}, -32002)
}

func TestTaskRequestContactPolicy(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.ContactPolicy = true })
	a := tkJoin(e, "req", tkOwner)
	stranger := tkJoin(e, "stranger", tkOtherOwner)
	unclaimed := tkJoin(e, "unclaimed", "")
	sibling := tkJoin(e, "sibling", tkOwner)

	werr := a.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID,
		"invitedAgentIds": []string{sibling.ID, stranger.ID, unclaimed.ID}}, -32005)
	var data protocol.NotInContactsData
	if err := json.Unmarshal(werr.Data, &data); err != nil || len(data.AgentIDs) != 2 ||
		string(data.AgentIDs[0]) != stranger.ID || string(data.AgentIDs[1]) != unclaimed.ID {
		t.Fatalf("data %s: want the two refused ids", werr.Data)
	}
	// An unclaimed requester may not invite anyone, but may request a task alone.
	unclaimed.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{sibling.ID}}, -32005)
	tkRequest(unclaimed.p, server.DefaultAppID, []string{}, nil)
	// Unknown invitee.
	a.p.wantError("task/request", map[string]any{"appId": server.DefaultAppID,
		"invitedAgentIds": []string{uuid.NewString()}}, -32002)
	if ids := tkTaskIDs(a.p); len(ids) != 0 {
		t.Fatalf("refused requests left tasks %v", ids)
	}
	sibling.p.noNote("task/created", nil, tkQuiet)

	// An accepted contact between the owners opens the edge.
	var added protocol.ContactsAddResult
	a.p.mustCall("contacts/add", map[string]any{"contactUserId": tkOtherOwner}, &added)
	stranger.p.mustCall("contacts/accept", map[string]any{"contactId": added.Contact.ID}, nil)
	tkRequest(a.p, server.DefaultAppID, []string{stranger.ID}, nil)
	stranger.p.waitNote("task/created", nil, nil)
}

// ---- task/list ---------------------------------------------------------------------------

func TestTaskListPaging(t *testing.T) {
	e := newEnv(t)
	a, b := tkJoin(e, "req", tkOwner), tkJoin(e, "inv", tkOwner)
	var want []string
	for i := 0; i < 3; i++ {
		want = append(want, string(tkRequest(a.p, server.DefaultAppID, []string{b.ID}, nil).Task.ID))
		time.Sleep(2 * time.Millisecond)
	}
	var page1, page2 protocol.TaskListResult
	b.p.mustCall("task/list", map[string]any{"limit": 2}, &page1)
	if len(page1.Tasks) != 2 || page1.NextCursor == nil || string(page1.Tasks[0].ID) != want[2] || string(page1.Tasks[1].ID) != want[1] {
		t.Fatalf("page 1 %+v", page1)
	}
	b.p.mustCall("task/list", map[string]any{"limit": 2, "cursor": *page1.NextCursor}, &page2)
	if len(page2.Tasks) != 1 || page2.NextCursor != nil || string(page2.Tasks[0].ID) != want[0] {
		t.Fatalf("page 2 %+v", page2)
	}
	b.p.wantError("task/list", map[string]any{"cursor": "garbage"}, -32602)
	b.p.wantError("task/list", map[string]any{"limit": 0}, -32602)
}

// ---- TaskMaster checks -------------------------------------------------------------------

func TestTaskMasterChecks(t *testing.T) {
	w := newTkWorld(t, nil)
	conv := w.createConv("c", w.b.ID)
	other := tkNewTM(w.e, nil, tkAcceptAll) // TaskMaster of another app
	unknown := uuid.NewString()
	calls := []struct {
		method string
		params func(taskID string) map[string]any
	}{
		{"task/close", func(id string) map[string]any { return map[string]any{"taskId": id} }},
		{"task/addParticipant", func(id string) map[string]any { return map[string]any{"taskId": id, "agentId": w.d.ID} }},
		{"task/removeParticipant", func(id string) map[string]any { return map[string]any{"taskId": id, "agentId": w.b.ID} }},
		{"task/conversation/create", func(id string) map[string]any {
			return map[string]any{"taskId": id, "participants": []string{w.b.ID}}
		}},
		{"task/conversation/archive", func(id string) map[string]any { return map[string]any{"taskId": id, "conversationId": conv} }},
		{"task/conversation/unarchive", func(id string) map[string]any { return map[string]any{"taskId": id, "conversationId": conv} }},
		{"task/conversation/participants/add", func(id string) map[string]any {
			return map[string]any{"taskId": id, "conversationId": conv, "agentId": w.c.ID}
		}},
		{"task/conversation/participants/remove", func(id string) map[string]any {
			return map[string]any{"taskId": id, "conversationId": conv, "agentId": w.b.ID}
		}},
	}
	for _, c := range calls {
		if e := w.a.p.wantError(c.method, c.params(w.taskID), -32001); e.Message != "Caller is not the registered task manager for this task" {
			t.Fatalf("%s by a participant: %q", c.method, e.Message)
		}
		other.p.wantError(c.method, c.params(w.taskID), -32001)
		w.tm.p.wantError(c.method, c.params(unknown), -32002)
	}
	w.b.p.noNote("task/conversation/participants/removed", nil, tkQuiet)

	w.tm.p.mustCall("task/close", map[string]any{"taskId": w.taskID}, nil)
	for _, c := range calls {
		if e := w.tm.p.wantError(c.method, c.params(w.taskID), -32001); e.Message != "Task is not open for mutation" {
			t.Fatalf("%s on a closed task: %q", c.method, e.Message)
		}
		// The TaskMaster check still runs first for others.
		if e := w.a.p.wantError(c.method, c.params(w.taskID), -32001); e.Message != "Caller is not the registered task manager for this task" {
			t.Fatalf("%s by a participant on a closed task: %q", c.method, e.Message)
		}
	}
}

// ---- task/close --------------------------------------------------------------------------

func TestTaskClose(t *testing.T) {
	w := newTkWorld(t, nil)
	conv1 := w.createConv("one", w.a.ID, w.b.ID)
	conv2 := w.createConv("two", w.b.ID, w.c.ID)
	var first protocol.TaskConversationArchivedNotification
	w.tm.p.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": conv2}, nil)
	w.c.p.waitNote("task/conversation/archived", field("conversationId", conv2), &first)

	var res protocol.TaskCloseResult
	w.tm.p.mustCall("task/close", map[string]any{"taskId": w.taskID}, &res)
	if res.Task.Status != protocol.TaskStatusClosed || res.Task.EndedAt == nil {
		t.Fatalf("closed task %+v", res.Task)
	}
	// conv1 is archived at the close instant; conv2 keeps its earlier archive.
	var arch protocol.TaskConversationArchivedNotification
	w.a.p.waitNote("task/conversation/archived", field("conversationId", conv1), &arch)
	if arch.ArchivedAt != *res.Task.EndedAt || string(arch.TaskID) != w.taskID {
		t.Fatalf("archived %+v, want archivedAt = endedAt %s", arch, *res.Task.EndedAt)
	}
	w.b.p.waitNote("task/conversation/archived", field("conversationId", conv1), nil)
	for _, m := range []tkMember{w.a, w.b, w.c} {
		var closed protocol.TaskClosedNotification
		m.p.waitNote("task/closed", nil, &closed)
		if string(closed.Task.ID) != w.taskID || closed.Task.Status != protocol.TaskStatusClosed {
			t.Fatalf("task/closed %+v", closed)
		}
	}
	w.c.p.noNote("task/conversation/archived", field("conversationId", conv1), tkQuiet) // not a member
	if n := len(w.b.p.notesOf("task/conversation/archived")); n != 2 {
		t.Fatalf("b got %d archived notices, want 2 (conv2 once, conv1 once)", n)
	}
	w.d.p.noNote("task/closed", nil, 0)
	w.tm.p.noNote("task/closed", nil, 0) // the TaskMaster agent is not a task participant

	var list protocol.TaskConversationListResult
	w.b.p.mustCall("task/conversation/list", map[string]any{}, &list)
	for _, it := range list.Items {
		if it.Conversation.ArchivedAt == nil {
			t.Fatalf("conversation %s not archived after close", it.Conversation.ID)
		}
		if string(it.Conversation.ID) == conv2 && *it.Conversation.ArchivedAt != first.ArchivedAt {
			t.Fatalf("close re-archived conv2: %s, want %s", *it.Conversation.ArchivedAt, first.ArchivedAt)
		}
	}
	w.tm.p.wantError("task/close", map[string]any{"taskId": w.taskID}, -32001)
}

func TestTaskCloseFailedTask(t *testing.T) {
	e := newEnv(t)
	tm := tkNewTM(e, nil, func(string, json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "reject", "reason": "no"}}, nil
	})
	a := tkJoin(e, "req", tkOwner)
	werr := a.p.wantError("task/request", map[string]any{"appId": tm.appID, "invitedAgentIds": []string{}}, -32024)
	d := tkRejected(t, werr, werr.Data)
	if e := tm.p.wantError("task/close", map[string]any{"taskId": d.TaskID}, -32001); e.Message != "Task is not open for mutation" {
		t.Fatalf("message %q", e.Message)
	}
}

// ---- task/leave --------------------------------------------------------------------------

func TestTaskLeave(t *testing.T) {
	w := newTkWorld(t, nil)
	conv1 := w.createConv("all", w.a.ID, w.b.ID, w.c.ID)
	conv2 := w.createConv("ab", w.a.ID, w.b.ID)

	w.b.p.mustCall("task/leave", map[string]any{"taskId": w.taskID}, nil)
	isLeave := func(conv string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			return field("conversationId", conv)(raw) && field("removedAgentId", w.b.ID)(raw) && field("reason", "task_leave")(raw)
		}
	}
	// The leaver's own notices are written before the response.
	if n := len(w.b.p.notesOf("task/conversation/participants/removed")); n != 2 {
		t.Fatalf("leaver got %d removal notices before the response, want 2", n)
	}
	w.b.p.waitNote("task/conversation/participants/removed", isLeave(conv1), nil)
	w.b.p.waitNote("task/conversation/participants/removed", isLeave(conv2), nil)
	w.a.p.waitNote("task/conversation/participants/removed", isLeave(conv1), nil)
	w.a.p.waitNote("task/conversation/participants/removed", isLeave(conv2), nil)
	w.c.p.waitNote("task/conversation/participants/removed", isLeave(conv1), nil)
	w.c.p.noNote("task/conversation/participants/removed", isLeave(conv2), tkQuiet)
	w.tm.p.waitNote("task/conversation/participants/removed", isLeave(conv1), nil) // the creator is a member
	if tkContains(tkTaskIDs(w.b.p), w.taskID) {
		t.Fatal("the leaver still lists the task")
	}
	var list protocol.TaskConversationListResult
	w.b.p.mustCall("task/conversation/list", map[string]any{}, &list)
	if len(list.Items) != 0 {
		t.Fatalf("the leaver still lists conversations %+v", list.Items)
	}
	// The leaver's connection no longer receives conversation traffic.
	w.tm.p.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": conv1}, nil)
	w.a.p.waitNote("task/conversation/archived", field("conversationId", conv1), nil)
	w.b.p.noNote("task/conversation/archived", nil, tkQuiet)

	// Idempotent: leaving again is a silent success.
	before := len(w.a.p.notesOf("task/conversation/participants/removed"))
	w.b.p.mustCall("task/leave", map[string]any{"taskId": w.taskID}, nil)
	w.d.p.mustCall("task/leave", map[string]any{"taskId": w.taskID}, nil) // never a participant
	w.a.p.noNote("task/closed", nil, tkQuiet)
	if len(w.a.p.notesOf("task/conversation/participants/removed")) != before {
		t.Fatal("a repeated leave sent notices")
	}
	w.a.p.wantError("task/leave", map[string]any{"taskId": uuid.NewString()}, -32002)

	// The last leaver closes the task and alone gets task/closed.
	w.a.p.mustCall("task/leave", map[string]any{"taskId": w.taskID}, nil)
	w.c.p.mustCall("task/leave", map[string]any{"taskId": w.taskID}, nil)
	if len(w.c.p.notesOf("task/closed")) != 1 {
		t.Fatalf("last leaver's task/closed not written before the response: %v", tkNoteNames(w.c.p))
	}
	var closed protocol.TaskClosedNotification
	w.c.p.waitNote("task/closed", nil, &closed)
	if closed.Task.Status != protocol.TaskStatusClosed || closed.Task.EndedAt == nil {
		t.Fatalf("task/closed %+v", closed.Task)
	}
	w.a.p.noNote("task/closed", nil, tkQuiet)
	w.tm.p.noNote("task/closed", nil, 0)
	w.tm.p.wantError("task/close", map[string]any{"taskId": w.taskID}, -32001)
}

// ---- task/addParticipant / task/removeParticipant ---------------------------------------

func TestTaskAddParticipant(t *testing.T) {
	w := newTkWorld(t, nil)
	var res protocol.TaskAddParticipantResult
	w.tm.p.mustCall("task/addParticipant", map[string]any{"taskId": w.taskID, "agentId": w.d.ID}, &res)
	if string(res.Participant.TaskID) != w.taskID || string(res.Participant.AgentID) != w.d.ID || res.Participant.AdmittedAt == nil {
		t.Fatalf("participant %+v", res.Participant)
	}
	if !tkContains(tkTaskIDs(w.d.p), w.taskID) {
		t.Fatal("the added agent does not list the task")
	}
	// Upsert keeps the first admission.
	time.Sleep(5 * time.Millisecond)
	var again protocol.TaskAddParticipantResult
	w.tm.p.mustCall("task/addParticipant", map[string]any{"taskId": w.taskID, "agentId": w.d.ID}, &again)
	if *again.Participant.AdmittedAt != *res.Participant.AdmittedAt {
		t.Fatalf("admittedAt moved: %s -> %s", *res.Participant.AdmittedAt, *again.Participant.AdmittedAt)
	}
	w.tm.p.wantError("task/addParticipant", map[string]any{"taskId": w.taskID, "agentId": uuid.NewString()}, -32002)
	// No notification to anyone.
	time.Sleep(tkQuiet)
	if names := tkNoteNames(w.d.p); len(names) != 0 {
		t.Fatalf("the added agent got %v", names)
	}
	for _, m := range []tkMember{w.a, w.b, w.tm.tkMember} {
		for _, n := range tkNoteNames(m.p) {
			if n != "task/created" {
				t.Fatalf("unexpected notification %s", n)
			}
		}
	}
	// The added agent can now join conversations.
	w.createConv("with d", w.d.ID)
}

func TestTaskRemoveParticipant(t *testing.T) {
	w := newTkWorld(t, nil)
	conv1 := w.createConv("all", w.a.ID, w.b.ID, w.c.ID)
	conv2 := w.createConv("bc", w.b.ID, w.c.ID)
	conv3 := w.createConv("ac", w.a.ID, w.c.ID)

	w.tm.p.mustCall("task/removeParticipant", map[string]any{"taskId": w.taskID, "agentId": w.b.ID}, nil)
	isRemoval := func(conv string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			return field("conversationId", conv)(raw) && field("removedAgentId", w.b.ID)(raw) && field("reason", "tm_remove")(raw)
		}
	}
	w.b.p.waitNote("task/conversation/participants/removed", isRemoval(conv1), nil)
	w.b.p.waitNote("task/conversation/participants/removed", isRemoval(conv2), nil)
	w.a.p.waitNote("task/conversation/participants/removed", isRemoval(conv1), nil)
	w.c.p.waitNote("task/conversation/participants/removed", isRemoval(conv1), nil)
	w.c.p.waitNote("task/conversation/participants/removed", isRemoval(conv2), nil)
	w.a.p.noNote("task/conversation/participants/removed", isRemoval(conv2), tkQuiet)
	if n := len(w.b.p.notesOf("task/conversation/participants/removed")); n != 2 {
		t.Fatalf("removed agent got %d notices, want 2 (not conv3)", n)
	}
	if tkContains(tkTaskIDs(w.b.p), w.taskID) {
		t.Fatal("removed agent still lists the task")
	}
	var list protocol.TaskConversationListResult
	w.b.p.mustCall("task/conversation/list", map[string]any{}, &list)
	if len(list.Items) != 0 {
		t.Fatalf("removed agent still in conversations %+v", list.Items)
	}
	// It can no longer be added to a conversation of the task.
	w.tm.p.wantError("task/conversation/participants/add", map[string]any{"taskId": w.taskID, "conversationId": conv3, "agentId": w.b.ID}, -32023)

	// Removing a non-participant is a silent no-op.
	before := len(w.a.p.notesOf("task/conversation/participants/removed"))
	w.tm.p.mustCall("task/removeParticipant", map[string]any{"taskId": w.taskID, "agentId": w.b.ID}, nil)
	w.tm.p.mustCall("task/removeParticipant", map[string]any{"taskId": w.taskID, "agentId": uuid.NewString()}, nil)
	time.Sleep(tkQuiet)
	if len(w.a.p.notesOf("task/conversation/participants/removed")) != before {
		t.Fatal("a no-op removal sent notices")
	}
}
