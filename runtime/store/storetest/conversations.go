package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func conversationCases() []testCase {
	return []testCase{
		{"Conversations/CreateAndGet", testConversationCreateAndGet},
		{"Conversations/CreateErrors", testConversationCreateErrors},
		{"Conversations/ArchiveUnarchive", testConversationArchive},
		{"Conversations/Membership", testConversationMembership},
		{"Conversations/IDsForAgent", testConversationIDsForAgent},
		{"Conversations/ListForAgent", testConversationListForAgent},
		{"Conversations/ListForAgentPaging", testConversationListPaging},
		{"Conversations/Touch", testConversationTouch},
	}
}

func testConversationCreateAndGet(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	task := e.task(ids[0], ids[1], ids[2])
	at := e.now()
	in := store.Conversation{ID: newConvID(), TaskID: task.ID, Type: protocol.ConversationTypeDm, Name: "chat",
		CreatedBy: ids[0], Metadata: json.RawMessage(`{"tags":[{"k":"v"}]}`), CreatedAt: at}
	got, err := e.s.CreateConversation(e.ctx, in, []protocol.AgentID{ids[0], ids[1], ids[0]})
	must(t, err, "CreateConversation")
	want := in
	want.UpdatedAt = at
	same(t, got, want, "CreateConversation result")
	stored, err := e.s.GetConversation(e.ctx, in.ID)
	must(t, err, "GetConversation")
	same(t, stored, want, "GetConversation")
	if stored.ArchivedAt != nil || stored.LastMessageAt != nil {
		t.Fatalf("new conversation: %+v", stored)
	}
	ps, err := e.s.ConversationParticipants(e.ctx, in.ID)
	must(t, err, "ConversationParticipants")
	same(t, ps, sortedCopy([]protocol.AgentID{ids[0], ids[1]}), "participants (deduplicated)")

	bare := e.conv(task, ids[2])
	if bare.Name != "" || bare.Metadata != nil {
		t.Fatalf("conversation without name/metadata: %+v", bare)
	}
	stored, err = e.s.GetConversation(e.ctx, bare.ID)
	must(t, err, "GetConversation bare")
	same(t, stored, bare, "bare conversation")

	convs, err := e.s.ConversationsOfTask(e.ctx, task.ID)
	must(t, err, "ConversationsOfTask")
	same(t, convs, []store.Conversation{want, bare}, "conversations of task")
	convs, err = e.s.ConversationsOfTask(e.ctx, newTaskID())
	must(t, err, "ConversationsOfTask unknown")
	if len(convs) != 0 {
		t.Fatalf("conversations of unknown task: %d", len(convs))
	}
	_, err = e.s.GetConversation(e.ctx, newConvID())
	wantErr(t, err, store.ErrNotFound, "GetConversation unknown")
}

func testConversationCreateErrors(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	task := e.task(a)
	existing := e.conv(task, a)
	create := func(mutate func(*store.Conversation), participants ...protocol.AgentID) error {
		c := store.Conversation{ID: newConvID(), TaskID: task.ID, Type: protocol.ConversationTypeGroup, CreatedBy: a, CreatedAt: e.now()}
		mutate(&c)
		_, err := e.s.CreateConversation(e.ctx, c, participants)
		return err
	}
	wantErr(t, create(func(c *store.Conversation) { c.ID = existing.ID }, a), store.ErrConflict, "taken id")
	wantErr(t, create(func(c *store.Conversation) { c.TaskID = newTaskID() }, a), store.ErrNotFound, "unknown task")
	wantErr(t, create(func(c *store.Conversation) { c.CreatedBy = newAgentID() }, a), store.ErrNotFound, "unknown creator")
	wantErr(t, create(func(c *store.Conversation) { c.Type = "channel" }, a), store.ErrInvalid, "bad type")
	wantErr(t, create(func(c *store.Conversation) { c.Metadata = json.RawMessage(`{bad`) }, a), store.ErrInvalid, "bad metadata")
	wantErr(t, create(func(c *store.Conversation) { c.ID = "" }, a), store.ErrInvalid, "no id")

	id := newConvID()
	wantErr(t, create(func(c *store.Conversation) { c.ID = id }, a, newAgentID()), store.ErrNotFound, "unknown participant")
	_, err := e.s.GetConversation(e.ctx, id)
	wantErr(t, err, store.ErrNotFound, "conversation of a failed creation")
}

func testConversationArchive(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	c := e.conv(e.task(a), a)
	t1 := e.now()
	got, changed, err := e.s.ArchiveConversation(e.ctx, c.ID, t1)
	must(t, err, "ArchiveConversation")
	if !changed || got.ArchivedAt == nil || !got.ArchivedAt.Equal(t1) || !got.UpdatedAt.Equal(t1) {
		t.Fatalf("archive: changed=%v %+v", changed, got)
	}
	again, changed, err := e.s.ArchiveConversation(e.ctx, c.ID, e.now())
	must(t, err, "ArchiveConversation again")
	if changed {
		t.Fatal("re-archive reported a change")
	}
	same(t, again, got, "re-archive keeps the first timestamp")
	stored, err := e.s.GetConversation(e.ctx, c.ID)
	must(t, err, "GetConversation")
	same(t, stored, got, "stored archived conversation")

	t2 := e.now()
	un, changed, err := e.s.UnarchiveConversation(e.ctx, c.ID, t2)
	must(t, err, "UnarchiveConversation")
	if !changed || un.ArchivedAt != nil || !un.UpdatedAt.Equal(t2) {
		t.Fatalf("unarchive: changed=%v %+v", changed, un)
	}
	un2, changed, err := e.s.UnarchiveConversation(e.ctx, c.ID, e.now())
	must(t, err, "UnarchiveConversation again")
	if changed {
		t.Fatal("unarchiving an open conversation reported a change")
	}
	same(t, un2, un, "unarchive again")
	t3 := e.now()
	got, changed, err = e.s.ArchiveConversation(e.ctx, c.ID, t3)
	must(t, err, "archive after unarchive")
	if !changed || !got.ArchivedAt.Equal(t3) {
		t.Fatalf("archive after unarchive: %+v", got)
	}

	_, _, err = e.s.ArchiveConversation(e.ctx, newConvID(), e.now())
	wantErr(t, err, store.ErrNotFound, "archive unknown")
	_, _, err = e.s.UnarchiveConversation(e.ctx, newConvID(), e.now())
	wantErr(t, err, store.ErrNotFound, "unarchive unknown")
}

func testConversationMembership(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	c := e.conv(e.task(ids[0], ids[1], ids[2]), ids[0])
	in := func(agent protocol.AgentID) bool {
		t.Helper()
		ok, err := e.s.IsConversationParticipant(e.ctx, c.ID, agent)
		must(t, err, "IsConversationParticipant")
		return ok
	}
	if in(ids[1]) {
		t.Fatal("member before being added")
	}
	added, err := e.s.AddConversationParticipant(e.ctx, c.ID, ids[1], e.now())
	must(t, err, "AddConversationParticipant")
	if !added || !in(ids[1]) {
		t.Fatal("add did not add")
	}
	added, err = e.s.AddConversationParticipant(e.ctx, c.ID, ids[1], e.now())
	must(t, err, "AddConversationParticipant again")
	if added {
		t.Fatal("second add reported added")
	}
	_, err = e.s.AddConversationParticipant(e.ctx, c.ID, ids[2], e.now())
	must(t, err, "add third")
	ps, err := e.s.ConversationParticipants(e.ctx, c.ID)
	must(t, err, "ConversationParticipants")
	same(t, ps, ids, "participants in join order")

	removed, err := e.s.RemoveConversationParticipant(e.ctx, c.ID, ids[1])
	must(t, err, "RemoveConversationParticipant")
	if !removed || in(ids[1]) {
		t.Fatal("remove did not remove")
	}
	removed, err = e.s.RemoveConversationParticipant(e.ctx, c.ID, ids[1])
	must(t, err, "RemoveConversationParticipant again")
	if removed {
		t.Fatal("second remove reported removed")
	}
	ps, err = e.s.ConversationParticipants(e.ctx, c.ID)
	must(t, err, "ConversationParticipants")
	same(t, ps, []protocol.AgentID{ids[0], ids[2]}, "participants after removal")

	_, err = e.s.AddConversationParticipant(e.ctx, newConvID(), ids[1], e.now())
	wantErr(t, err, store.ErrNotFound, "add to unknown conversation")
	_, err = e.s.AddConversationParticipant(e.ctx, c.ID, newAgentID(), e.now())
	wantErr(t, err, store.ErrNotFound, "add unknown agent")
	_, err = e.s.RemoveConversationParticipant(e.ctx, newConvID(), ids[1])
	wantErr(t, err, store.ErrNotFound, "remove from unknown conversation")
	_, err = e.s.ConversationParticipants(e.ctx, newConvID())
	wantErr(t, err, store.ErrNotFound, "participants of unknown conversation")
	ok, err := e.s.IsConversationParticipant(e.ctx, newConvID(), ids[0])
	must(t, err, "IsConversationParticipant unknown conversation")
	if ok {
		t.Fatal("member of an unknown conversation")
	}
	// Removing the last member leaves an empty conversation.
	for _, id := range []protocol.AgentID{ids[0], ids[2]} {
		_, err := e.s.RemoveConversationParticipant(e.ctx, c.ID, id)
		must(t, err, "remove")
	}
	ps, err = e.s.ConversationParticipants(e.ctx, c.ID)
	must(t, err, "ConversationParticipants empty")
	same(t, ps, []string{}, "no participants")
}

func testConversationIDsForAgent(t *testing.T, e *env) {
	ids := e.agents("ag", 2)
	task := e.task(ids[0], ids[1])
	c1 := e.conv(task, ids[0])
	c2 := e.conv(task, ids[1], ids[0])
	e.conv(task, ids[1])
	c4 := e.conv(e.task(ids[0]), ids[0])
	_, _, err := e.s.ArchiveConversation(e.ctx, c2.ID, e.now())
	must(t, err, "archive")
	got, err := e.s.ConversationIDsForAgent(e.ctx, ids[0])
	must(t, err, "ConversationIDsForAgent")
	same(t, got, sortedCopy([]protocol.ConversationID{c1.ID, c2.ID, c4.ID}), "memberships incl. archived")
	got, err = e.s.ConversationIDsForAgent(e.ctx, newAgentID())
	must(t, err, "ConversationIDsForAgent stranger")
	same(t, got, []string{}, "stranger memberships")
}

func testConversationListForAgent(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	me := ids[0]
	task := e.task(me, ids[1], ids[2])
	c1 := e.conv(task, me, ids[1])
	c2 := e.conv(task, ids[1], me, ids[2])
	c3 := e.conv(task, me)
	e.conv(task, ids[1], ids[2]) // not mine
	c5 := e.conv(e.task(me), me)
	// Activity reorders: c1 gets a message, c3 is archived (included).
	e.msg(c1, me)
	_, _, err := e.s.ArchiveConversation(e.ctx, c3.ID, e.now())
	must(t, err, "archive")

	page, err := e.s.ListConversationsForAgent(e.ctx, me, store.Page{})
	must(t, err, "ListConversationsForAgent")
	if page.NextCursor != "" {
		t.Fatalf("single page with cursor %q", page.NextCursor)
	}
	var order []protocol.ConversationID
	for _, it := range page.Items {
		order = append(order, it.Conversation.ID)
	}
	same(t, order, []protocol.ConversationID{c3.ID, c1.ID, c5.ID, c2.ID}, "most recent activity first")
	stored, err := e.s.GetConversation(e.ctx, c2.ID)
	must(t, err, "GetConversation")
	same(t, page.Items[3], store.ConversationListItem{
		Conversation: stored, Participants: sortedCopy([]protocol.AgentID{ids[1], me, ids[2]}),
	}, "list item with participants")
	if page.Items[0].Conversation.ArchivedAt == nil {
		t.Fatal("archived conversation listed without ArchivedAt")
	}
	empty, err := e.s.ListConversationsForAgent(e.ctx, newAgentID(), store.Page{})
	must(t, err, "ListConversationsForAgent stranger")
	if len(empty.Items) != 0 || empty.NextCursor != "" {
		t.Fatalf("stranger: %+v", empty)
	}
	_, err = e.s.ListConversationsForAgent(e.ctx, me, store.Page{Cursor: "xyz"})
	wantErr(t, err, store.ErrBadCursor, "bad cursor")
}

func testConversationListPaging(t *testing.T, e *env) {
	me := e.agents("ag", 1)[0]
	task := e.task(me)
	var want []protocol.ConversationID // most recent first
	for range 6 {
		want = append([]protocol.ConversationID{e.conv(task, me).ID}, want...)
	}
	// Equal updatedAt: ordered by id descending.
	at := e.now()
	var tied []protocol.ConversationID
	for range 3 {
		c, err := e.s.CreateConversation(e.ctx, store.Conversation{ID: newConvID(), TaskID: task.ID,
			Type: protocol.ConversationTypeGroup, CreatedBy: me, CreatedAt: at}, []protocol.AgentID{me})
		must(t, err, "CreateConversation")
		tied = append(tied, c.ID)
	}
	tied = sortedCopy(tied)
	want = append([]protocol.ConversationID{tied[2], tied[1], tied[0]}, want...)

	for _, limit := range []int{1, 2, 3, 4, 9, 10} {
		var (
			got    []protocol.ConversationID
			cursor protocol.Cursor
		)
		for range 20 {
			page, err := e.s.ListConversationsForAgent(e.ctx, me, store.Page{Limit: limit, Cursor: cursor})
			must(t, err, "ListConversationsForAgent")
			for _, it := range page.Items {
				got = append(got, it.Conversation.ID)
				same(t, it.Participants, []protocol.AgentID{me}, "participants")
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		same(t, got, want, fmt.Sprintf("limit %d", limit))
	}
}

func testConversationTouch(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	c := e.conv(e.task(a), a)
	t1 := e.now()
	t2 := e.now()
	must(t, e.s.TouchConversation(e.ctx, c.ID, t2), "TouchConversation")
	got, err := e.s.GetConversation(e.ctx, c.ID)
	must(t, err, "GetConversation")
	if got.LastMessageAt == nil || !got.LastMessageAt.Equal(t2) || !got.UpdatedAt.Equal(t2) {
		t.Fatalf("after touch: %+v", got)
	}
	must(t, e.s.TouchConversation(e.ctx, c.ID, t1), "TouchConversation older")
	got, err = e.s.GetConversation(e.ctx, c.ID)
	must(t, err, "GetConversation")
	if !got.LastMessageAt.Equal(t2) || !got.UpdatedAt.Equal(t2) {
		t.Fatalf("an older touch moved the conversation back: %+v", got)
	}
	// Sub-microsecond precision is dropped.
	t3 := e.now().Add(time.Microsecond + 500*time.Nanosecond)
	must(t, e.s.TouchConversation(e.ctx, c.ID, t3), "TouchConversation ns")
	got, err = e.s.GetConversation(e.ctx, c.ID)
	must(t, err, "GetConversation")
	if !got.LastMessageAt.Equal(t3.Truncate(time.Microsecond)) {
		t.Fatalf("LastMessageAt = %v, want %v", got.LastMessageAt, t3.Truncate(time.Microsecond))
	}
	wantErr(t, e.s.TouchConversation(e.ctx, newConvID(), e.now()), store.ErrNotFound, "touch unknown")
}
