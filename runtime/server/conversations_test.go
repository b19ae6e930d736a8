package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// cvList returns the caller's conversation list (one page of 200).
func cvList(p *peer) map[string]protocol.TaskConversationListItem {
	p.t.Helper()
	var res protocol.TaskConversationListResult
	p.mustCall("task/conversation/list", map[string]any{"limit": 200}, &res)
	out := map[string]protocol.TaskConversationListItem{}
	for _, it := range res.Items {
		out[string(it.Conversation.ID)] = it
	}
	return out
}

func TestConversationCreate(t *testing.T) {
	w := newTkWorld(t, nil)

	// One participant besides the creator: dm.
	var res protocol.TaskConversationCreateResult
	w.tm.p.mustCall("task/conversation/create", map[string]any{"taskId": w.taskID, "name": "pair", "participants": []string{w.b.ID}}, &res)
	cv := res.Conversation
	if cv.Type != protocol.ConversationTypeDm || string(cv.CreatedBy) != w.tm.ID || cv.Name == nil || *cv.Name != "pair" || cv.ArchivedAt != nil {
		t.Fatalf("conversation %+v", cv)
	}
	convID := string(cv.ID)
	// The creator's notification is written before the response.
	if len(w.tm.p.notesOf("task/conversation/created")) != 1 {
		t.Fatal("creator's task/conversation/created not written before the response")
	}
	var note protocol.TaskConversationCreatedNotification
	w.b.p.waitNote("task/conversation/created", field("conversationId", convID), &note)
	if string(note.TaskID) != w.taskID || len(note.Participants) != 1 || string(note.Participants[0]) != w.b.ID {
		t.Fatalf("created %+v", note)
	}
	w.a.p.noNote("task/conversation/created", nil, tkQuiet)
	w.c.p.noNote("task/conversation/created", nil, 0)
	it, ok := cvList(w.b.p)[convID]
	if !ok || string(it.TaskID) != w.taskID || len(it.Participants) != 2 {
		t.Fatalf("b's list item %+v (found %v)", it, ok)
	}

	// Two or more: group; duplicates and the creator itself collapse.
	res = protocol.TaskConversationCreateResult{}
	w.tm.p.mustCall("task/conversation/create", map[string]any{"taskId": w.taskID,
		"participants": []string{w.a.ID, w.b.ID, w.a.ID, w.tm.ID}}, &res)
	if res.Conversation.Type != protocol.ConversationTypeGroup || res.Conversation.Name != nil {
		t.Fatalf("conversation %+v", res.Conversation)
	}
	w.a.p.waitNote("task/conversation/created", field("conversationId", string(res.Conversation.ID)), &note)
	if len(note.Participants) != 2 {
		t.Fatalf("participants %v", note.Participants)
	}
	// Only the creator itself: a group of one (dm needs exactly one other member).
	res = protocol.TaskConversationCreateResult{}
	w.tm.p.mustCall("task/conversation/create", map[string]any{"taskId": w.taskID, "participants": []string{w.tm.ID}}, &res)
	if res.Conversation.Type != protocol.ConversationTypeGroup {
		t.Fatalf("a conversation of the creator alone is %s", res.Conversation.Type)
	}

	// The members' live connections are subscribed: they get conversation traffic.
	w.tm.p.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": convID}, nil)
	w.b.p.waitNote("task/conversation/archived", field("conversationId", convID), nil)

	// Errors.
	w.tm.p.wantError("task/conversation/create", map[string]any{"taskId": w.taskID, "participants": []string{w.d.ID}}, -32023)
	w.tm.p.wantError("task/conversation/create", map[string]any{"taskId": w.taskID, "participants": []string{w.b.ID, uuid.NewString()}}, -32002)
	w.tm.p.wantError("task/conversation/create", map[string]any{"taskId": w.taskID, "participants": []string{}}, -32602)
	w.a.p.wantError("task/conversation/create", map[string]any{"taskId": w.taskID, "participants": []string{w.b.ID}}, -32001)
	w.d.p.noNote("task/conversation/created", nil, tkQuiet)
}

func TestConversationCreateTooLarge(t *testing.T) {
	// Server group limit: 3 members including the creator.
	w := newTkWorld(t, nil, func(c *server.Config) { c.Limits.MaxGroupParticipants = 3 })
	w.tm.p.wantError("task/conversation/create", map[string]any{"taskId": w.taskID, "participants": []string{w.a.ID, w.b.ID, w.c.ID}}, -32007)
	w.createConv("fits", w.a.ID, w.b.ID)

	// Manifest limits.maxParticipants: 2 members including the creator.
	w2 := newTkWorld(t, map[string]any{"limits": map[string]any{"maxParticipants": 2}})
	w2.tm.p.wantError("task/conversation/create", map[string]any{"taskId": w2.taskID, "participants": []string{w2.a.ID, w2.b.ID}}, -32007)
	conv := w2.createConv("fits", w2.a.ID)
	w2.tm.p.wantError("task/conversation/participants/add", map[string]any{"taskId": w2.taskID, "conversationId": conv, "agentId": w2.b.ID}, -32007)
	w2.b.p.noNote("task/conversation/created", nil, tkQuiet)
	w2.b.p.noNote("task/conversation/participants/added", nil, 0)
}

func TestConversationArchiveUnarchive(t *testing.T) {
	w := newTkWorld(t, nil)
	conv := w.createConv("room", w.a.ID, w.b.ID)
	args := map[string]any{"taskId": w.taskID, "conversationId": conv}

	w.tm.p.mustCall("task/conversation/archive", args, nil)
	var arch protocol.TaskConversationArchivedNotification
	w.a.p.waitNote("task/conversation/archived", field("conversationId", conv), &arch)
	if string(arch.TaskID) != w.taskID || arch.ArchivedAt == "" {
		t.Fatalf("archived %+v", arch)
	}
	w.b.p.waitNote("task/conversation/archived", field("conversationId", conv), nil)
	w.c.p.noNote("task/conversation/archived", nil, tkQuiet) // not a member

	// Idempotent: the first timestamp is kept and nothing is announced again.
	time.Sleep(5 * time.Millisecond)
	w.tm.p.mustCall("task/conversation/archive", args, nil)
	time.Sleep(tkQuiet)
	if n := len(w.a.p.notesOf("task/conversation/archived")); n != 1 {
		t.Fatalf("%d archived notices, want 1", n)
	}
	it := cvList(w.a.p)[conv]
	if it.Conversation.ArchivedAt == nil || *it.Conversation.ArchivedAt != arch.ArchivedAt {
		t.Fatalf("archivedAt %v, want the first %s", it.Conversation.ArchivedAt, arch.ArchivedAt)
	}
	// The task stays open.
	if tasks := tkTaskIDs(w.a.p); !tkContains(tasks, w.taskID) {
		t.Fatal("task vanished")
	}

	w.tm.p.mustCall("task/conversation/unarchive", args, nil)
	var un protocol.TaskConversationUnarchivedNotification
	w.a.p.waitNote("task/conversation/unarchived", field("conversationId", conv), &un)
	if string(un.TaskID) != w.taskID {
		t.Fatalf("unarchived %+v", un)
	}
	w.b.p.waitNote("task/conversation/unarchived", field("conversationId", conv), nil)
	w.c.p.noNote("task/conversation/unarchived", nil, tkQuiet)
	if it := cvList(w.a.p)[conv]; it.Conversation.ArchivedAt != nil {
		t.Fatalf("still archived at %s", *it.Conversation.ArchivedAt)
	}
	// Unarchiving an open conversation is a silent success.
	w.tm.p.mustCall("task/conversation/unarchive", args, nil)
	time.Sleep(tkQuiet)
	if n := len(w.a.p.notesOf("task/conversation/unarchived")); n != 1 {
		t.Fatalf("%d unarchived notices, want 1", n)
	}

	// A conversation of another task (even one of the same TaskMaster) or an unknown one.
	other := tkRequest(w.a.p, w.tm.appID, []string{w.b.ID}, map[string]any{})
	foreign := map[string]any{"taskId": w.taskID, "conversationId": string(other.Conversation.ID)}
	unknown := map[string]any{"taskId": w.taskID, "conversationId": uuid.NewString()}
	for _, m := range []string{"task/conversation/archive", "task/conversation/unarchive"} {
		w.tm.p.wantError(m, foreign, -32002)
		w.tm.p.wantError(m, unknown, -32002)
		w.b.p.wantError(m, args, -32001)
	}
}

func TestConversationParticipantsAdd(t *testing.T) {
	w := newTkWorld(t, nil)
	conv := w.createConv("room", w.a.ID)
	args := map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": w.b.ID}

	w.tm.p.mustCall("task/conversation/participants/add", args, nil)
	isAdd := func(raw json.RawMessage) bool {
		return field("conversationId", conv)(raw) && field("addedAgentId", w.b.ID)(raw) && field("byAgentOrTm", "tm")(raw)
	}
	if len(w.tm.p.notesOf("task/conversation/participants/added")) != 1 {
		t.Fatal("the TaskMaster's notice was not written before the response")
	}
	var added protocol.TaskConversationParticipantsAddedNotification
	w.b.p.waitNote("task/conversation/participants/added", isAdd, &added) // the newcomer is included
	if string(added.TaskID) != w.taskID {
		t.Fatalf("added %+v", added)
	}
	w.a.p.waitNote("task/conversation/participants/added", isAdd, nil)
	w.c.p.noNote("task/conversation/participants/added", nil, tkQuiet)
	if it := cvList(w.b.p)[conv]; len(it.Participants) != 3 {
		t.Fatalf("participants %v", it.Participants)
	}
	// The newcomer is subscribed.
	w.tm.p.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": conv}, nil)
	w.b.p.waitNote("task/conversation/archived", field("conversationId", conv), nil)

	// Already a member: no-op, no notice.
	w.tm.p.mustCall("task/conversation/participants/add", args, nil)
	time.Sleep(tkQuiet)
	if n := len(w.a.p.notesOf("task/conversation/participants/added")); n != 1 {
		t.Fatalf("%d added notices, want 1", n)
	}

	// Not a task participant (or unknown): -32023; foreign conversation: -32002; non-TM: -32001.
	w.tm.p.wantError("task/conversation/participants/add", map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": w.d.ID}, -32023)
	w.tm.p.wantError("task/conversation/participants/add", map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": uuid.NewString()}, -32023)
	w.tm.p.wantError("task/conversation/participants/add", map[string]any{"taskId": w.taskID, "conversationId": uuid.NewString(), "agentId": w.c.ID}, -32002)
	w.a.p.wantError("task/conversation/participants/add", map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": w.c.ID}, -32001)
	w.c.p.noNote("task/conversation/participants/added", nil, tkQuiet)
}

func TestConversationParticipantsRemove(t *testing.T) {
	w := newTkWorld(t, nil)
	conv := w.createConv("room", w.a.ID, w.b.ID)
	args := map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": w.b.ID}

	w.tm.p.mustCall("task/conversation/participants/remove", args, nil)
	isRemoval := func(raw json.RawMessage) bool {
		return field("conversationId", conv)(raw) && field("removedAgentId", w.b.ID)(raw) && field("reason", "tm_remove")(raw)
	}
	if len(w.tm.p.notesOf("task/conversation/participants/removed")) != 1 {
		t.Fatal("the TaskMaster's notice was not written before the response")
	}
	w.b.p.waitNote("task/conversation/participants/removed", isRemoval, nil) // the removed agent is told
	w.a.p.waitNote("task/conversation/participants/removed", isRemoval, nil)
	w.c.p.noNote("task/conversation/participants/removed", nil, tkQuiet)
	if _, ok := cvList(w.b.p)[conv]; ok {
		t.Fatal("the removed agent still lists the conversation")
	}
	if it := cvList(w.a.p)[conv]; len(it.Participants) != 2 {
		t.Fatalf("participants %v", it.Participants)
	}
	// It stays a task participant and is unsubscribed from the conversation.
	if !tkContains(tkTaskIDs(w.b.p), w.taskID) {
		t.Fatal("the removed agent left the task")
	}
	w.tm.p.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": conv}, nil)
	w.a.p.waitNote("task/conversation/archived", field("conversationId", conv), nil)
	w.b.p.noNote("task/conversation/archived", nil, tkQuiet)

	// Not a member: silent success.
	w.tm.p.mustCall("task/conversation/participants/remove", args, nil)
	w.tm.p.mustCall("task/conversation/participants/remove", map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": w.c.ID}, nil)
	time.Sleep(tkQuiet)
	if n := len(w.a.p.notesOf("task/conversation/participants/removed")); n != 1 {
		t.Fatalf("%d removal notices, want 1", n)
	}
	w.tm.p.wantError("task/conversation/participants/remove", map[string]any{"taskId": w.taskID, "conversationId": uuid.NewString(), "agentId": w.a.ID}, -32002)
	w.b.p.wantError("task/conversation/participants/remove", map[string]any{"taskId": w.taskID, "conversationId": conv, "agentId": w.a.ID}, -32001)

	// Re-adding works and resubscribes.
	w.tm.p.mustCall("task/conversation/participants/add", args, nil)
	w.tm.p.mustCall("task/conversation/unarchive", map[string]any{"taskId": w.taskID, "conversationId": conv}, nil)
	w.b.p.waitNote("task/conversation/unarchived", field("conversationId", conv), nil)
}

func TestConversationList(t *testing.T) {
	w := newTkWorld(t, nil)
	var made []string
	for i := 0; i < 3; i++ {
		made = append(made, w.createConv("c", w.a.ID))
		time.Sleep(2 * time.Millisecond)
	}
	w.createConv("not mine", w.b.ID)
	w.tm.p.mustCall("task/conversation/archive", map[string]any{"taskId": w.taskID, "conversationId": made[0]}, nil)

	seen := map[string]protocol.TaskConversationListItem{}
	var order []string
	cursor := ""
	for pages := 0; ; pages++ {
		params := map[string]any{"limit": 2}
		if cursor != "" {
			params["cursor"] = cursor
		}
		var res protocol.TaskConversationListResult
		w.a.p.mustCall("task/conversation/list", params, &res)
		if len(res.Items) > 2 {
			t.Fatalf("page of %d items", len(res.Items))
		}
		for _, it := range res.Items {
			id := string(it.Conversation.ID)
			if _, dup := seen[id]; dup {
				t.Fatalf("conversation %s listed twice", id)
			}
			seen[id] = it
			order = append(order, id)
		}
		if res.NextCursor == nil {
			break
		}
		if pages > 3 {
			t.Fatal("task/conversation/list does not end")
		}
		cursor = string(*res.NextCursor)
	}
	if len(seen) != 3 {
		t.Fatalf("listed %v, want the 3 conversations of a", order)
	}
	// Archived ones are included; most recent activity first (archiving counts as activity).
	if seen[made[0]].Conversation.ArchivedAt == nil {
		t.Fatal("the archived conversation is listed without archivedAt")
	}
	if order[0] != made[0] || order[1] != made[2] || order[2] != made[1] {
		t.Fatalf("order %v, want %v", order, []string{made[0], made[2], made[1]})
	}
	for _, it := range seen {
		if string(it.TaskID) != w.taskID || len(it.Participants) != 2 {
			t.Fatalf("item %+v", it)
		}
	}
	w.a.p.wantError("task/conversation/list", map[string]any{"cursor": "garbage"}, -32602)
	w.a.p.wantError("task/conversation/list", map[string]any{"limit": 201}, -32602)
	if len(cvList(w.d.p)) != 0 {
		t.Fatal("an outsider lists conversations")
	}
}
