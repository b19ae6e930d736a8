package server

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// countingStore counts the reads the gate cache is meant to save, and can hold GetTask
// until released.
type countingStore struct {
	store.Store
	taskReads, memberReads, convReads atomic.Int64
	keyReads, agentConvReads          atomic.Int64
	holdTask                          chan struct{} // when set, GetTask waits until it is closed
}

func (c *countingStore) GetTask(ctx context.Context, id protocol.TaskID) (store.Task, error) {
	t, err := c.Store.GetTask(ctx, id)
	c.taskReads.Add(1)
	if c.holdTask != nil {
		<-c.holdTask // the value read is held back, as if the read were slow
	}
	return t, err
}

func (c *countingStore) ConversationParticipants(ctx context.Context, id protocol.ConversationID) ([]protocol.AgentID, error) {
	c.memberReads.Add(1)
	return c.Store.ConversationParticipants(ctx, id)
}

func (c *countingStore) GetAgentByKeyID(ctx context.Context, keyID string) (store.Agent, error) {
	c.keyReads.Add(1)
	return c.Store.GetAgentByKeyID(ctx, keyID)
}

func (c *countingStore) ConversationIDsForAgent(ctx context.Context, id protocol.AgentID) ([]protocol.ConversationID, error) {
	c.agentConvReads.Add(1)
	return c.Store.ConversationIDsForAgent(ctx, id)
}

func (c *countingStore) GetConversation(ctx context.Context, id protocol.ConversationID) (store.Conversation, error) {
	c.convReads.Add(1)
	return c.Store.GetConversation(ctx, id)
}

// gateWorld is a gateStore over a counting SQLite store holding two agents, a task and a
// conversation of both.
func gateWorld(t *testing.T) (*gateStore, *countingStore, protocol.TaskID, protocol.ConversationID, [2]protocol.AgentID) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	var agents [2]protocol.AgentID
	for i := range agents {
		a, err := st.CreateAgent(ctx, store.Agent{ID: newID[protocol.AgentID](), Name: protocol.AgentName("gate-agent-" + string(rune('a'+i))),
			Status: protocol.AgentStatusActive, APIKeyID: "key" + string(rune('a'+i)), APIKeySecretHash: "00", CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		agents[i] = a.ID
	}
	task, err := st.CreateTask(ctx, store.Task{ID: newID[protocol.TaskID](), AppID: DefaultAppID, InitiatorAgentID: agents[0], Status: protocol.TaskStatusActive, CreatedAt: now}, agents[:])
	if err != nil {
		t.Fatal(err)
	}
	conv, err := st.CreateConversation(ctx, store.Conversation{ID: newID[protocol.ConversationID](), TaskID: task.ID, Type: protocol.ConversationTypeGroup, CreatedBy: agents[0], CreatedAt: now}, agents[:1])
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	return newGateStore(cs), cs, task.ID, conv.ID, agents
}

func TestGateStoreCachesUntilAWriteChangesTheFact(t *testing.T) {
	g, cs, taskID, convID, agents := gateWorld(t)
	ctx := t.Context()

	for range 3 {
		if ok, err := g.IsConversationParticipant(ctx, convID, agents[1]); err != nil || ok {
			t.Fatalf("agent 1 a member before being added: %v %v", ok, err)
		}
	}
	if n := cs.memberReads.Load(); n != 1 {
		t.Fatalf("%d member reads for three checks, want 1", n)
	}
	if _, err := g.AddConversationParticipant(ctx, convID, agents[1], time.Now()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := g.IsConversationParticipant(ctx, convID, agents[1]); !ok {
		t.Fatal("added member not seen: the cache was not invalidated")
	}
	if _, err := g.RemoveConversationParticipant(ctx, convID, agents[1]); err != nil {
		t.Fatal(err)
	}
	if ok, _ := g.IsConversationParticipant(ctx, convID, agents[1]); ok {
		t.Fatal("removed member still seen")
	}

	cg, err := g.conversationGate(ctx, convID)
	if err != nil || cg.taskID != taskID || cg.archivedAt != nil {
		t.Fatalf("conversationGate = %+v, %v", cg, err)
	}
	if _, err := g.conversationGate(ctx, convID); err != nil || cs.convReads.Load() != 1 {
		t.Fatalf("second conversationGate read the store again (%d reads)", cs.convReads.Load())
	}
	if _, _, err := g.ArchiveConversation(ctx, convID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if cg, _ := g.conversationGate(ctx, convID); cg.archivedAt == nil {
		t.Fatal("archive not seen")
	}
	if _, _, err := g.UnarchiveConversation(ctx, convID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if cg, _ := g.conversationGate(ctx, convID); cg.archivedAt != nil {
		t.Fatal("unarchive not seen")
	}

	if tk, _ := g.GetTask(ctx, taskID); tk.Status != protocol.TaskStatusActive {
		t.Fatalf("task status %s", tk.Status)
	}
	if _, _, err := g.CloseTask(ctx, taskID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if tk, _ := g.GetTask(ctx, taskID); tk.Status != protocol.TaskStatusClosed {
		t.Fatalf("closed task cached as %s", tk.Status)
	}
	if cg, _ := g.conversationGate(ctx, convID); cg.archivedAt == nil {
		t.Fatal("conversation archived by CloseTask not seen")
	}
	if ids, _ := g.ConversationParticipants(ctx, convID); !slices.Equal(ids, []protocol.AgentID{agents[0]}) {
		t.Fatalf("members %v", ids)
	}
	if _, err := g.RemoveTaskParticipant(ctx, taskID, agents[0]); err != nil {
		t.Fatal(err)
	}
	if ok, _ := g.IsConversationParticipant(ctx, convID, agents[0]); ok {
		t.Fatal("agent removed from the task still a member of its conversation")
	}
}

func TestGateStoreDoesNotCacheAReadThatRacedAWrite(t *testing.T) {
	g, cs, taskID, _, _ := gateWorld(t)
	ctx := t.Context()
	cs.holdTask = make(chan struct{})
	done := make(chan store.Task)
	go func() {
		tk, _ := g.GetTask(ctx, taskID) // reads the active task, then is held
		done <- tk
	}()
	for cs.taskReads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The status changes while the read is in flight (g.Store is the counting store, whose
	// SetTaskStatus is not held).
	if _, err := g.Store.SetTaskStatus(ctx, taskID, []protocol.TaskStatus{protocol.TaskStatusActive}, protocol.TaskStatusClosed, time.Now()); err != nil {
		t.Fatal(err)
	}
	g.invalidate([]protocol.TaskID{taskID}, nil) // what gateStore.SetTaskStatus does after the write
	close(cs.holdTask)                           // later reads pass at once
	if tk := <-done; tk.Status != protocol.TaskStatusActive {
		t.Fatalf("the held read returned %s, want the active task it read", tk.Status)
	}
	if tk, _ := g.GetTask(ctx, taskID); tk.Status != protocol.TaskStatusClosed {
		t.Fatalf("GetTask = %s after the write: the raced read was cached", tk.Status)
	}
}

func TestGateStoreCachesAgentsByKeyUntilTheyChange(t *testing.T) {
	g, cs, _, _, agents := gateWorld(t)
	ctx := t.Context()

	// Created through the gate: cached at once, never read by key.
	created, err := g.CreateAgent(ctx, store.Agent{ID: newID[protocol.AgentID](), Name: "gate-agent-new", Status: protocol.AgentStatusActive,
		APIKeyID: "keynew", APIKeySecretHash: "11", ClaimToken: "claim-new", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		a, err := g.GetAgentByKeyID(ctx, "keynew")
		if err != nil || a != created {
			t.Fatalf("GetAgentByKeyID = %+v, %v; want %+v", a, err, created)
		}
	}
	// Created before the gate: read once, then cached.
	for range 3 {
		if a, err := g.GetAgentByKeyID(ctx, "keya"); err != nil || a.ID != agents[0] {
			t.Fatalf("GetAgentByKeyID(keya) = %+v, %v", a, err)
		}
	}
	if n := cs.keyReads.Load(); n != 1 {
		t.Fatalf("%d key reads, want 1 (agent a once, the created agent never)", n)
	}

	// Every write that changes an agent is seen by the next lookup.
	if _, err := g.RotateAgentKey(ctx, "gate-agent-new", "", "keyrot", "22", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.GetAgentByKeyID(ctx, "keynew"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old key after rotation: %v, want ErrNotFound", err)
	}
	if a, err := g.GetAgentByKeyID(ctx, "keyrot"); err != nil || a.APIKeySecretHash != "22" {
		t.Fatalf("new key after rotation: %+v, %v", a, err)
	}
	claimed, _, err := g.ClaimAgent(ctx, "claim-new", "user-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := g.GetAgentByKeyID(ctx, "keyrot"); a.OwnerUserID != "user-1" || a != claimed {
		t.Fatalf("after the claim: %+v, want %+v", a, claimed)
	}
	if _, err := g.SetAgentStatus(ctx, agents[0], protocol.AgentStatusSuspended, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.GetAgentByKeyID(ctx, "keya"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("suspended agent by key: %v, want ErrNotFound", err)
	}
	if _, err := g.SetAgentStatus(ctx, agents[0], protocol.AgentStatusActive, time.Now()); err != nil {
		t.Fatal(err)
	}
	if a, err := g.GetAgentByKeyID(ctx, "keya"); err != nil || a.Status != protocol.AgentStatusActive {
		t.Fatalf("reactivated agent by key: %+v, %v", a, err)
	}
}

func TestGateStoreCachesTheConversationsOfAnAgent(t *testing.T) {
	g, cs, taskID, convID, agents := gateWorld(t)
	ctx := t.Context()
	convsOf := func(id protocol.AgentID) []protocol.ConversationID {
		t.Helper()
		ids, err := g.ConversationIDsForAgent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	created, err := g.CreateAgent(ctx, store.Agent{ID: newID[protocol.AgentID](), Name: "gate-agent-c", Status: protocol.AgentStatusActive,
		APIKeyID: "keyc", APIKeySecretHash: "33", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if ids := convsOf(created.ID); len(ids) != 0 || cs.agentConvReads.Load() != 0 {
		t.Fatalf("new agent: %v after %d reads, want none and no read", ids, cs.agentConvReads.Load())
	}
	for range 2 {
		if ids := convsOf(agents[0]); !slices.Equal(ids, []protocol.ConversationID{convID}) {
			t.Fatalf("agent a: %v", ids)
		}
	}
	if n := cs.agentConvReads.Load(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
	if _, err := g.AddTaskParticipant(ctx, taskID, created.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.AddConversationParticipant(ctx, convID, created.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if ids := convsOf(created.ID); !slices.Equal(ids, []protocol.ConversationID{convID}) {
		t.Fatalf("after being added: %v", ids)
	}
	if _, err := g.RemoveConversationParticipant(ctx, convID, created.ID); err != nil {
		t.Fatal(err)
	}
	if ids := convsOf(created.ID); len(ids) != 0 {
		t.Fatalf("after being removed: %v", ids)
	}
	conv2, err := g.CreateConversation(ctx, store.Conversation{ID: newID[protocol.ConversationID](), TaskID: taskID, Type: protocol.ConversationTypeGroup,
		CreatedBy: agents[0], CreatedAt: time.Now()}, []protocol.AgentID{agents[0], created.ID})
	if err != nil {
		t.Fatal(err)
	}
	if ids := convsOf(created.ID); !slices.Equal(ids, []protocol.ConversationID{conv2.ID}) {
		t.Fatalf("after a new conversation: %v", ids)
	}
	if ids := convsOf(agents[0]); len(ids) != 2 {
		t.Fatalf("creator after a new conversation: %v", ids)
	}
	if _, err := g.RemoveTaskParticipant(ctx, taskID, agents[0]); err != nil {
		t.Fatal(err)
	}
	if ids := convsOf(agents[0]); len(ids) != 0 {
		t.Fatalf("after leaving the task: %v", ids)
	}
}
