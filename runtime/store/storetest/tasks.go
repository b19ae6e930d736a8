package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func taskCases() []testCase {
	return []testCase{
		{"Tasks/CreateAndGet", testTaskCreateAndGet},
		{"Tasks/CreateErrors", testTaskCreateErrors},
		{"Tasks/SetStatus", testTaskSetStatus},
		{"Tasks/SetStatusRace", testTaskSetStatusRace},
		{"Tasks/ListForAgent", testTaskListForAgent},
		{"Tasks/Participants", testTaskParticipants},
		{"Tasks/RemoveParticipantCascades", testTaskRemoveParticipant},
		{"Tasks/Close", testTaskClose},
		{"Tasks/WaitingOlderThan", testTaskWaitingOlderThan},
	}
}

func testTaskCreateAndGet(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	at := e.now()
	in := store.Task{ID: newTaskID(), AppID: newAppID(), InitiatorAgentID: ids[0], CreatedAt: at}
	got, err := e.s.CreateTask(e.ctx, in, []protocol.AgentID{ids[0], ids[1], ids[2], ids[1]})
	must(t, err, "CreateTask")
	want := in
	want.Status = protocol.TaskStatusWaiting
	same(t, got, want, "CreateTask result")
	stored, err := e.s.GetTask(e.ctx, in.ID)
	must(t, err, "GetTask")
	same(t, stored, want, "GetTask")
	if stored.StartedAt != nil || stored.EndedAt != nil {
		t.Fatalf("new task has timestamps: %+v", stored)
	}

	ps, err := e.s.TaskParticipants(e.ctx, in.ID)
	must(t, err, "TaskParticipants")
	var wantPs []store.TaskParticipant
	for _, id := range sortedCopy(ids) {
		wantPs = append(wantPs, store.TaskParticipant{TaskID: in.ID, AgentID: id, AdmittedAt: ptr(at)})
	}
	same(t, ps, wantPs, "participants admitted at creation")

	// An explicit status is kept (e.g. a task created already active).
	active := store.Task{ID: newTaskID(), AppID: newAppID(), InitiatorAgentID: ids[0], Status: protocol.TaskStatusActive,
		StartedAt: ptr(at), CreatedAt: at}
	got, err = e.s.CreateTask(e.ctx, active, nil)
	must(t, err, "CreateTask active")
	same(t, got, active, "active task")
	ps, err = e.s.TaskParticipants(e.ctx, active.ID)
	must(t, err, "TaskParticipants of a task without participants")
	if len(ps) != 0 {
		t.Fatalf("participants = %+v", ps)
	}
	_, err = e.s.GetTask(e.ctx, newTaskID())
	wantErr(t, err, store.ErrNotFound, "GetTask unknown")
	_, err = e.s.TaskParticipants(e.ctx, newTaskID())
	wantErr(t, err, store.ErrNotFound, "TaskParticipants unknown")
}

func testTaskCreateErrors(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	task := e.task(a)
	create := func(mutate func(*store.Task), participants ...protocol.AgentID) error {
		in := store.Task{ID: newTaskID(), AppID: newAppID(), InitiatorAgentID: a, CreatedAt: e.now()}
		mutate(&in)
		_, err := e.s.CreateTask(e.ctx, in, participants)
		return err
	}
	wantErr(t, create(func(x *store.Task) { x.ID = task.ID }), store.ErrConflict, "taken id")
	wantErr(t, create(func(x *store.Task) { x.InitiatorAgentID = newAgentID() }), store.ErrNotFound, "unknown initiator")
	wantErr(t, create(func(x *store.Task) { x.ID = "" }), store.ErrInvalid, "no id")
	wantErr(t, create(func(x *store.Task) { x.AppID = "" }), store.ErrInvalid, "no app")
	wantErr(t, create(func(x *store.Task) { x.Status = "paused" }), store.ErrInvalid, "bad status")

	// An unknown participant aborts the whole creation.
	id := newTaskID()
	wantErr(t, create(func(x *store.Task) { x.ID = id }, a, newAgentID()), store.ErrNotFound, "unknown participant")
	_, err := e.s.GetTask(e.ctx, id)
	wantErr(t, err, store.ErrNotFound, "task of a failed creation")
}

func testTaskSetStatus(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	task := e.task(a)
	waiting := []protocol.TaskStatus{protocol.TaskStatusWaiting}

	t1 := e.now()
	got, err := e.s.SetTaskStatus(e.ctx, task.ID, waiting, protocol.TaskStatusActive, t1)
	must(t, err, "waiting -> active")
	want := task
	want.Status, want.StartedAt = protocol.TaskStatusActive, ptr(t1)
	same(t, got, want, "active task")

	cur, err := e.s.SetTaskStatus(e.ctx, task.ID, waiting, protocol.TaskStatusFailed, e.now())
	wantErr(t, err, store.ErrStateChanged, "waiting -> failed on an active task")
	same(t, cur, want, "current task returned with ErrStateChanged")

	// Re-entering active keeps the first StartedAt.
	got, err = e.s.SetTaskStatus(e.ctx, task.ID, []protocol.TaskStatus{protocol.TaskStatusActive}, protocol.TaskStatusActive, e.now())
	must(t, err, "active -> active")
	same(t, got, want, "active again")

	t2 := e.now()
	got, err = e.s.SetTaskStatus(e.ctx, task.ID, []protocol.TaskStatus{protocol.TaskStatusWaiting, protocol.TaskStatusActive}, protocol.TaskStatusClosed, t2)
	must(t, err, "active -> closed")
	want.Status, want.EndedAt = protocol.TaskStatusClosed, ptr(t2)
	same(t, got, want, "closed task")
	stored, err := e.s.GetTask(e.ctx, task.ID)
	must(t, err, "GetTask")
	same(t, stored, want, "stored closed task")

	failed := e.task(a)
	t3 := e.now()
	got, err = e.s.SetTaskStatus(e.ctx, failed.ID, waiting, protocol.TaskStatusFailed, t3)
	must(t, err, "waiting -> failed")
	if got.Status != protocol.TaskStatusFailed || got.StartedAt != nil || got.EndedAt == nil || !got.EndedAt.Equal(t3) {
		t.Fatalf("failed task = %+v", got)
	}

	_, err = e.s.SetTaskStatus(e.ctx, newTaskID(), waiting, protocol.TaskStatusActive, e.now())
	wantErr(t, err, store.ErrNotFound, "unknown task")
	_, err = e.s.SetTaskStatus(e.ctx, task.ID, nil, protocol.TaskStatusActive, e.now())
	wantErr(t, err, store.ErrInvalid, "empty from")
	_, err = e.s.SetTaskStatus(e.ctx, task.ID, waiting, "paused", e.now())
	wantErr(t, err, store.ErrInvalid, "bad target status")
}

func testTaskSetStatusRace(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	task := e.task(a)
	const n = 8
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		wins, losses int
		winner       protocol.TaskStatus
	)
	at := e.now()
	for i := range n {
		to := protocol.TaskStatusActive
		if i%2 == 1 {
			to = protocol.TaskStatusFailed
		}
		wg.Go(func() {
			got, err := e.s.SetTaskStatus(e.ctx, task.ID, []protocol.TaskStatus{protocol.TaskStatusWaiting}, to, at)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winner = got.Status
			case errors.Is(err, store.ErrStateChanged):
				losses++
			default:
				t.Errorf("SetTaskStatus: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || losses != n-1 {
		t.Fatalf("wins=%d losses=%d", wins, losses)
	}
	stored, err := e.s.GetTask(e.ctx, task.ID)
	must(t, err, "GetTask")
	if stored.Status != winner {
		t.Fatalf("status %s, winner %s", stored.Status, winner)
	}
}

func testTaskListForAgent(t *testing.T, e *env) {
	ids := e.agents("ag", 2)
	me, other := ids[0], ids[1]
	var want []protocol.TaskID // newest first
	for i := range 7 {
		var task store.Task
		if i%3 == 2 {
			task = e.task(other, me) // me invited
		} else {
			task = e.task(me)
		}
		want = append([]protocol.TaskID{task.ID}, want...)
	}
	e.task(other) // not mine
	// Two tasks with the same createdAt are ordered by id, descending.
	same1 := e.now()
	for range 2 {
		id := newTaskID()
		_, err := e.s.CreateTask(e.ctx, store.Task{ID: id, AppID: newAppID(), InitiatorAgentID: me, CreatedAt: same1}, []protocol.AgentID{me})
		must(t, err, "CreateTask")
	}
	tied, err := e.s.ListTasksForAgent(e.ctx, me, store.Page{Limit: 2})
	must(t, err, "ListTasksForAgent ties")
	if len(tied.Items) != 2 || !(tied.Items[0].ID > tied.Items[1].ID) || !tied.Items[0].CreatedAt.Equal(same1) {
		t.Fatalf("ties not ordered by id desc: %+v", tied.Items)
	}
	want = append([]protocol.TaskID{max(tied.Items[0].ID, tied.Items[1].ID), min(tied.Items[0].ID, tied.Items[1].ID)}, want...)

	for _, limit := range []int{1, 2, 4, 9, 50} {
		var (
			got    []protocol.TaskID
			cursor protocol.Cursor
		)
		for range 20 {
			page, err := e.s.ListTasksForAgent(e.ctx, me, store.Page{Limit: limit, Cursor: cursor})
			must(t, err, "ListTasksForAgent")
			for _, task := range page.Items {
				got = append(got, task.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		same(t, got, want, fmt.Sprintf("tasks of me, limit %d", limit))
	}

	// A removed participant no longer lists the task.
	_, err = e.s.RemoveTaskParticipant(e.ctx, want[0], me)
	must(t, err, "RemoveTaskParticipant")
	page, err := e.s.ListTasksForAgent(e.ctx, me, store.Page{})
	must(t, err, "ListTasksForAgent after removal")
	if len(page.Items) != len(want)-1 || page.Items[0].ID != want[1] {
		t.Fatalf("after removal: %d tasks", len(page.Items))
	}
	page, err = e.s.ListTasksForAgent(e.ctx, newAgentID(), store.Page{})
	must(t, err, "ListTasksForAgent stranger")
	if len(page.Items) != 0 || page.NextCursor != "" {
		t.Fatalf("stranger tasks: %+v", page)
	}
	_, err = e.s.ListTasksForAgent(e.ctx, me, store.Page{Cursor: "not-a-cursor"})
	wantErr(t, err, store.ErrBadCursor, "bad cursor")
}

func testTaskParticipants(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	task := e.task(ids[0])
	ok, err := e.s.IsTaskParticipant(e.ctx, task.ID, ids[1])
	must(t, err, "IsTaskParticipant")
	if ok {
		t.Fatal("not yet a participant")
	}
	t1 := e.now()
	p, err := e.s.AddTaskParticipant(e.ctx, task.ID, ids[1], t1)
	must(t, err, "AddTaskParticipant")
	same(t, p, store.TaskParticipant{TaskID: task.ID, AgentID: ids[1], AdmittedAt: ptr(t1)}, "added participant")
	p, err = e.s.AddTaskParticipant(e.ctx, task.ID, ids[1], e.now())
	must(t, err, "AddTaskParticipant again")
	same(t, p, store.TaskParticipant{TaskID: task.ID, AgentID: ids[1], AdmittedAt: ptr(t1)}, "upsert keeps first admission")
	ok, err = e.s.IsTaskParticipant(e.ctx, task.ID, ids[1])
	must(t, err, "IsTaskParticipant")
	if !ok {
		t.Fatal("participant not reported")
	}
	ps, err := e.s.TaskParticipants(e.ctx, task.ID)
	must(t, err, "TaskParticipants")
	same(t, ps, []store.TaskParticipant{
		{TaskID: task.ID, AgentID: ids[0], AdmittedAt: ptr(task.CreatedAt)},
		{TaskID: task.ID, AgentID: ids[1], AdmittedAt: ptr(t1)},
	}, "participants by admission")

	_, err = e.s.AddTaskParticipant(e.ctx, newTaskID(), ids[2], e.now())
	wantErr(t, err, store.ErrNotFound, "unknown task")
	_, err = e.s.AddTaskParticipant(e.ctx, task.ID, newAgentID(), e.now())
	wantErr(t, err, store.ErrNotFound, "unknown agent")
	ok, err = e.s.IsTaskParticipant(e.ctx, newTaskID(), ids[0])
	must(t, err, "IsTaskParticipant unknown task")
	if ok {
		t.Fatal("participant of an unknown task")
	}
}

func testTaskRemoveParticipant(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	a, b, c := ids[0], ids[1], ids[2]
	task := e.task(a, b, c)
	c1 := e.conv(task, a, b, c)
	c2 := e.conv(task, b, a)
	c3 := e.conv(task, b, c)
	otherTask := e.task(a, b)
	other := e.conv(otherTask, a, b)

	r, err := e.s.RemoveTaskParticipant(e.ctx, task.ID, a)
	must(t, err, "RemoveTaskParticipant")
	same(t, r, store.ParticipantRemoval{Removed: true, ConversationIDs: sortedCopy([]protocol.ConversationID{c1.ID, c2.ID}), Remaining: 2}, "removal")
	for _, conv := range []store.Conversation{c1, c2, c3} {
		in, err := e.s.IsConversationParticipant(e.ctx, conv.ID, a)
		must(t, err, "IsConversationParticipant")
		if in {
			t.Fatalf("still a member of %s", conv.ID)
		}
	}
	ps, err := e.s.ConversationParticipants(e.ctx, c1.ID)
	must(t, err, "ConversationParticipants")
	same(t, sortedCopy(ps), sortedCopy([]protocol.AgentID{b, c}), "others stay")
	in, err := e.s.IsConversationParticipant(e.ctx, other.ID, a)
	must(t, err, "IsConversationParticipant other task")
	if !in {
		t.Fatal("removal leaked into another task's conversation")
	}
	ok, err := e.s.IsTaskParticipant(e.ctx, task.ID, a)
	must(t, err, "IsTaskParticipant")
	if ok {
		t.Fatal("still a task participant")
	}

	r, err = e.s.RemoveTaskParticipant(e.ctx, task.ID, a)
	must(t, err, "RemoveTaskParticipant again")
	same(t, r, store.ParticipantRemoval{Removed: false, ConversationIDs: []protocol.ConversationID{}, Remaining: 2}, "second removal")

	_, err = e.s.RemoveTaskParticipant(e.ctx, newTaskID(), a)
	wantErr(t, err, store.ErrNotFound, "unknown task")

	for _, id := range []protocol.AgentID{b, c} {
		_, err = e.s.RemoveTaskParticipant(e.ctx, task.ID, id)
		must(t, err, "RemoveTaskParticipant")
	}
	ps2, err := e.s.TaskParticipants(e.ctx, task.ID)
	must(t, err, "TaskParticipants")
	if len(ps2) != 0 {
		t.Fatalf("participants left: %+v", ps2)
	}
}

func testTaskClose(t *testing.T, e *env) {
	ids := e.agents("ag", 2)
	task := e.task(ids[0], ids[1])
	early := e.conv(task, ids[0], ids[1])
	late := e.conv(task, ids[0])
	late2 := e.conv(task, ids[1])
	otherTask := e.task(ids[0])
	other := e.conv(otherTask, ids[0])
	t1 := e.now()
	_, _, err := e.s.ArchiveConversation(e.ctx, early.ID, t1)
	must(t, err, "ArchiveConversation")

	t2 := e.now()
	closed, archived, err := e.s.CloseTask(e.ctx, task.ID, t2)
	must(t, err, "CloseTask")
	want := task
	want.Status, want.EndedAt = protocol.TaskStatusClosed, ptr(t2)
	same(t, closed, want, "closed task")
	same(t, archived, sortedCopy([]protocol.ConversationID{late.ID, late2.ID}), "archived conversations")
	for conv, at := range map[protocol.ConversationID]time.Time{early.ID: t1, late.ID: t2, late2.ID: t2} {
		c, err := e.s.GetConversation(e.ctx, conv)
		must(t, err, "GetConversation")
		if c.ArchivedAt == nil || !c.ArchivedAt.Equal(at) {
			t.Fatalf("conversation %s archived at %v, want %v", conv, c.ArchivedAt, at)
		}
	}
	oc, err := e.s.GetConversation(e.ctx, other.ID)
	must(t, err, "GetConversation other")
	if oc.ArchivedAt != nil {
		t.Fatal("closing a task archived another task's conversation")
	}

	cur, _, err := e.s.CloseTask(e.ctx, task.ID, e.now())
	wantErr(t, err, store.ErrStateChanged, "close a closed task")
	same(t, cur, want, "current task with ErrStateChanged")
	stored, err := e.s.GetTask(e.ctx, task.ID)
	must(t, err, "GetTask")
	same(t, stored, want, "endedAt kept")

	failed := e.task(ids[0])
	_, err = e.s.SetTaskStatus(e.ctx, failed.ID, []protocol.TaskStatus{protocol.TaskStatusWaiting}, protocol.TaskStatusFailed, e.now())
	must(t, err, "fail task")
	_, _, err = e.s.CloseTask(e.ctx, failed.ID, e.now())
	wantErr(t, err, store.ErrStateChanged, "close a failed task")
	_, _, err = e.s.CloseTask(e.ctx, newTaskID(), e.now())
	wantErr(t, err, store.ErrNotFound, "close unknown task")

	// Closing a waiting task without conversations.
	waiting := e.task(ids[0])
	closed, archived, err = e.s.CloseTask(e.ctx, waiting.ID, e.now())
	must(t, err, "close waiting task")
	if closed.Status != protocol.TaskStatusClosed || len(archived) != 0 {
		t.Fatalf("closed waiting task = %+v, archived %v", closed, archived)
	}
}

func testTaskWaitingOlderThan(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	old := e.task(a)
	started := e.task(a)
	_, err := e.s.SetTaskStatus(e.ctx, started.ID, []protocol.TaskStatus{protocol.TaskStatusWaiting}, protocol.TaskStatusActive, e.now())
	must(t, err, "activate")
	old2 := e.task(a)
	cutoff := e.task(a).CreatedAt // created exactly at the cutoff: not older
	e.task(a)
	got, err := e.s.WaitingTasksOlderThan(e.ctx, cutoff)
	must(t, err, "WaitingTasksOlderThan")
	same(t, got, []store.Task{old, old2}, "stale waiting tasks")
	got, err = e.s.WaitingTasksOlderThan(e.ctx, old.CreatedAt)
	must(t, err, "WaitingTasksOlderThan none")
	if len(got) != 0 {
		t.Fatalf("got %d tasks", len(got))
	}
}
