package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/feed"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// feedRecorder is a feed.Observer that records every event as "kind subject".
type feedRecorder struct {
	watching atomic.Bool
	discard  bool // count nothing (benchmarks)
	mu       sync.Mutex
	events   []string
	messages []feed.ObservedMessage
	presence []feed.AgentPresence
}

var _ feed.Observer = (*feedRecorder)(nil)

func (r *feedRecorder) add(format string, args ...any) {
	if r.discard {
		return
	}
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *feedRecorder) Watching() bool { return r.watching.Load() }
func (r *feedRecorder) AgentConnected(a feed.AgentPresence) {
	r.mu.Lock()
	r.presence = append(r.presence, a)
	r.mu.Unlock()
	r.add("connected %s %d", a.Name, a.Connections)
}
func (r *feedRecorder) AgentDisconnected(a feed.AgentPresence) {
	r.add("disconnected %s %d %s", a.Name, a.Connections, a.Status)
}
func (r *feedRecorder) PresenceChanged(id protocol.AgentID, s protocol.PresenceStatus) {
	r.add("presence %s %s", id, s)
}
func (r *feedRecorder) TaskCreated(t protocol.Task) { r.add("task:created %s %s", t.ID, t.Status) }
func (r *feedRecorder) TaskClosed(t protocol.Task)  { r.add("task:closed %s %s", t.ID, t.Status) }
func (r *feedRecorder) TaskFailed(id protocol.TaskID) {
	r.add("task:failed %s", id)
}
func (r *feedRecorder) ConversationCreated(taskID protocol.TaskID, c protocol.Conversation) {
	r.add("conversation:created %s %s", taskID, c.ID)
}
func (r *feedRecorder) ConversationArchived(taskID protocol.TaskID, id protocol.ConversationID) {
	r.add("conversation:archived %s %s", taskID, id)
}
func (r *feedRecorder) ConversationUnarchived(taskID protocol.TaskID, id protocol.ConversationID) {
	r.add("conversation:unarchived %s %s", taskID, id)
}
func (r *feedRecorder) ParticipantsAdded(taskID protocol.TaskID, id protocol.ConversationID, ids []protocol.AgentID) {
	r.add("participants:added %s %v", id, ids)
}
func (r *feedRecorder) ParticipantRemoved(taskID protocol.TaskID, id protocol.ConversationID, agentID protocol.AgentID) {
	r.add("participants:removed %s %s", id, agentID)
}
func (r *feedRecorder) MessageReceived(m feed.ObservedMessage) {
	r.mu.Lock()
	r.messages = append(r.messages, m)
	r.mu.Unlock()
	r.add("message:received %s %s", m.Message.ID, m.Decision.Verdict)
}
func (r *feedRecorder) MessageBlocked(m feed.ObservedMessage) {
	r.mu.Lock()
	r.messages = append(r.messages, m)
	r.mu.Unlock()
	r.add("message:blocked %s %s", m.Message.ID, m.Decision.Reason)
}
func (r *feedRecorder) LeaseChanged(l protocol.LeaseRecord) { r.add("lease %s %s", l.LeaseID, l.State) }

func (r *feedRecorder) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.events, event)
}

func (r *feedRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// waitEvent waits until the recorder has event.
func (r *feedRecorder) waitEvent(t *testing.T, event string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !r.has(event) {
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no feed event %q; got %q", event, r.events)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFeedReportsTheNetworkToAWatchingObserver(t *testing.T) {
	rec := &feedRecorder{}
	rec.watching.Store(true)
	w := newMW(t, mwOptions{tm: true, cfg: func(c *server.Config) { c.Feed = rec }})
	bob := w.peers[0]
	taskID, convID := protocol.TaskID(w.taskID), protocol.ConversationID(w.convID)

	rec.waitEvent(t, fmt.Sprintf("connected %s 1", w.alice.Name))
	rec.waitEvent(t, fmt.Sprintf("presence %s online", w.alice.ID))
	rec.waitEvent(t, fmt.Sprintf("task:created %s active", taskID))
	rec.waitEvent(t, fmt.Sprintf("conversation:created %s %s", taskID, convID))

	// A forwarded message and a blocked one, with their decisions.
	msg := w.send(w.a, "observed", nil)
	rec.waitEvent(t, fmt.Sprintf("message:received %s forward", msg.ID))
	w.setMsgAuth(func(json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "Block", "reason": "nope"}}, nil
	})
	werr := w.a.wantError("messages/send", w.sendParams("blocked"), -32019)
	blockedID, _ := errData(t, werr.Data)["messageId"].(string)
	rec.waitEvent(t, fmt.Sprintf("message:blocked %s nope", blockedID))
	w.setMsgAuth(nil)

	// A lease from mint to consumption.
	ack, _ := w.request(bob, msg)
	for _, state := range []string{"PENDING", "GRANTED"} {
		rec.waitEvent(t, fmt.Sprintf("lease %s %s", ack.LeaseID, state))
	}
	w.spend(bob, ack.LeaseID, "reply")
	for _, state := range []string{"CLAIMED", "CONSUMED"} {
		rec.waitEvent(t, fmt.Sprintf("lease %s %s", ack.LeaseID, state))
	}

	// The snapshot source sees the same network.
	src := w.e.srv.FeedSource()
	ctx := context.Background()
	online, err := src.OnlineAgents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[protocol.AgentName]feed.AgentPresence{}
	for _, a := range online {
		names[a.Name] = a
	}
	if a, ok := names[protocol.AgentName(w.alice.Name)]; !ok || a.Connections != 1 || a.ConnectedAt == nil || a.Status != protocol.PresenceStatusOnline {
		t.Fatalf("OnlineAgents: alice = %+v (present %v), want online with 1 connection", a, ok)
	}
	if len(online) != 2+len(w.members) {
		t.Fatalf("OnlineAgents: %d agents, want %d", len(online), 2+len(w.members))
	}
	tasks, err := src.RecentTasks(ctx, 10)
	if err != nil || len(tasks) != 1 || tasks[0].ID != taskID {
		t.Fatalf("RecentTasks = %v, %v; want the one task", tasks, err)
	}
	tv, ok, err := src.Task(ctx, taskID)
	if err != nil || !ok || len(tv.Conversations) != 1 || tv.Conversations[0].ID != convID || len(tv.Participants) != 1+len(w.members) {
		t.Fatalf("Task = %+v, %v, %v", tv, ok, err)
	}
	if _, ok, err := src.Task(ctx, "01999999-0000-7000-8000-000000000000"); ok || err != nil {
		t.Fatalf("Task of an unknown id: ok %v err %v", ok, err)
	}
	cv, ok, err := src.Conversation(ctx, convID, 50)
	if err != nil || !ok || cv.TaskID != taskID {
		t.Fatalf("Conversation = %+v, %v, %v", cv, ok, err)
	}
	var verdicts []string
	for _, m := range cv.Messages {
		verdicts = append(verdicts, m.Decision.Verdict)
	}
	if !slices.Equal(verdicts, []string{"forward", "block", "forward"}) {
		t.Fatalf("conversation snapshot verdicts %v, want forward, block, forward", verdicts)
	}
	leases := src.Leases(convID)
	if len(leases) != 1 || leases[0].LeaseID != ack.LeaseID || leases[0].State != protocol.LeaseStateCONSUMED {
		t.Fatalf("Leases = %+v, want the consumed lease", leases)
	}

	// Disconnecting the last socket of an agent reports it offline.
	bob.close()
	rec.waitEvent(t, fmt.Sprintf("disconnected %s 0 offline", w.members[0].Name))

	// Closing the task archives its conversation and closes it.
	w.tm.mustCall("task/close", map[string]any{"taskId": w.taskID}, nil)
	rec.waitEvent(t, fmt.Sprintf("conversation:archived %s %s", taskID, convID))
	rec.waitEvent(t, fmt.Sprintf("task:closed %s closed", taskID))
}

func TestFeedBuildsNothingWhileNobodyWatches(t *testing.T) {
	rec := &feedRecorder{} // Watching stays false
	w := newMW(t, mwOptions{cfg: func(c *server.Config) { c.Feed = rec }})
	msg := w.send(w.a, "unobserved", nil)
	w.peers[0].waitNote("messages/received", messageID(msg.ID), nil)
	w.peers[0].close()
	if n := rec.count(); n != 0 {
		t.Fatalf("%d feed events while nobody watches, want 0", n)
	}
}
