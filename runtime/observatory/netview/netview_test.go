package netview

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/feed"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

const (
	token  = "view-secret"
	taskID = protocol.TaskID("01990000-0000-7000-8000-0000000000aa")
	convID = protocol.ConversationID("01990000-0000-7000-8000-0000000000cc")
	agentA = protocol.AgentID("01990000-0000-7000-8000-0000000000a1")
)

// fakeSource is a feed.Source with one agent, task, conversation and lease.
type fakeSource struct{}

func (fakeSource) OnlineAgents(context.Context) ([]feed.AgentPresence, error) {
	return []feed.AgentPresence{{AgentID: agentA, Name: "alice", Status: protocol.PresenceStatusOnline, Connections: 1}}, nil
}
func (fakeSource) RecentTasks(context.Context, int) ([]protocol.Task, error) {
	return []protocol.Task{{ID: taskID, Status: protocol.TaskStatusActive}}, nil
}
func (fakeSource) Task(_ context.Context, id protocol.TaskID) (feed.TaskView, bool, error) {
	if id != taskID {
		return feed.TaskView{}, false, nil
	}
	return feed.TaskView{Task: protocol.Task{ID: taskID}, Participants: []protocol.AgentID{agentA},
		Conversations: []protocol.Conversation{{ID: convID}}}, true, nil
}
func (fakeSource) Conversation(_ context.Context, id protocol.ConversationID, limit int) (feed.ConversationView, bool, error) {
	if id != convID || limit != SnapshotMessages {
		return feed.ConversationView{}, false, nil
	}
	return feed.ConversationView{Conversation: protocol.Conversation{ID: convID}, TaskID: taskID,
		Messages: []feed.ObservedMessage{{TaskID: taskID, Message: protocol.Message{ID: "m1"}, Decision: feed.Decision{Verdict: feed.VerdictForward}}}}, true, nil
}
func (fakeSource) Leases(protocol.ConversationID) []protocol.LeaseRecord {
	return []protocol.LeaseRecord{{LeaseID: "l1", ConversationID: convID, State: protocol.LeaseStateGRANTED}}
}

// observer is an authenticated socket on the view.
type observer struct {
	t    *testing.T
	conn *transport.Conn
	msgs chan []byte
}

func startView(t *testing.T) (*View, *observer) {
	t.Helper()
	v, err := New(Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	v.SetSource(fakeSource{})
	hs := httptest.NewServer(v)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = v.Shutdown(ctx)
		hs.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := transport.DialHeader(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), http.Header{"Authorization": {"Bearer " + token}}, transport.Config{PingInterval: -1})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	o := &observer{t: t, conn: conn, msgs: make(chan []byte, 64)}
	go conn.Serve(context.Background(), func(m []byte) { o.msgs <- m })
	t.Cleanup(func() { _ = conn.Close(transport.CloseNormal, "") })
	return v, o
}

// next returns the next frame as [topic, event, compact payload].
func (o *observer) next() [3]string {
	o.t.Helper()
	select {
	case m := <-o.msgs:
		var parts [3]json.RawMessage
		if err := json.Unmarshal(m, &parts); err != nil {
			o.t.Fatalf("frame %s: %v", m, err)
		}
		var topic, event string
		_ = json.Unmarshal(parts[0], &topic)
		_ = json.Unmarshal(parts[1], &event)
		var buf bytes.Buffer
		_ = json.Compact(&buf, parts[2])
		return [3]string{topic, event, buf.String()}
	case <-time.After(5 * time.Second):
		o.t.Fatal("no frame")
	}
	return [3]string{}
}

func (o *observer) expect(topic, event, payloadPart string) {
	o.t.Helper()
	f := o.next()
	if f[0] != topic || f[1] != event || !strings.Contains(f[2], payloadPart) {
		o.t.Fatalf("got %v, want [%s %s ...%s...]", f, topic, event, payloadPart)
	}
}

func (o *observer) subscribe(topic string) {
	o.t.Helper()
	if err := o.conn.Send([]byte(`["` + topic + `","subscribe",{"id":"x"}]`)); err != nil {
		o.t.Fatal(err)
	}
	o.expect(topic, "subscribed", `{"id":"x"}`)
}

func TestSnapshotsOnJoin(t *testing.T) {
	_, o := startView(t)
	o.subscribe("network")
	o.expect("network", "network:snapshot", `"agents":[{"agentId":"`+string(agentA)+`","name":"alice","status":"online","connections":1}],"tasks":[{"id":"`+string(taskID))
	o.subscribe("task:" + string(taskID))
	o.expect("task:"+string(taskID), "task:snapshot", `"participants":["`+string(agentA)+`"],"conversations":[{"id":"`+string(convID))
	o.subscribe("task:01990000-0000-7000-8000-00000000dead")
	o.expect("task:01990000-0000-7000-8000-00000000dead", "task:snapshot", `{"task":null,"participants":[],"conversations":[]}`)
	o.subscribe("conversation:" + string(convID))
	o.expect("conversation:"+string(convID), "conversation:snapshot", `"taskId":"`+string(taskID)+`","messages":[{"taskId"`)
	o.subscribe("dispatch:" + string(convID))
	o.expect("dispatch:"+string(convID), "dispatch:snapshot", `{"leases":[{"dispatchId":"","leaseId":"l1"`)
}

func TestEventsGoToTheirTopicsOnly(t *testing.T) {
	v, o := startView(t)
	if v.Watching() {
		t.Fatal("Watching before any subscription")
	}
	o.subscribe("network")
	o.next() // snapshot
	o.subscribe("conversation:" + string(convID))
	o.next()
	o.subscribe("dispatch:" + string(convID))
	o.next()
	if !v.Watching() {
		t.Fatal("not Watching with subscriptions")
	}

	v.MessageReceived(feed.ObservedMessage{TaskID: taskID, Message: protocol.Message{ID: "m2", ConversationID: convID}, Decision: feed.Decision{Verdict: feed.VerdictForward}})
	o.expect("conversation:"+string(convID), "message:received", `"id":"m2"`)
	v.MessageBlocked(feed.ObservedMessage{TaskID: taskID, Message: protocol.Message{ID: "m3", ConversationID: convID}, Decision: feed.Decision{Verdict: feed.VerdictBlock, Reason: "nope"}})
	o.expect("conversation:"+string(convID), "message:blocked", `"reason":"nope"`)
	v.MessageReceived(feed.ObservedMessage{Message: protocol.Message{ID: "elsewhere", ConversationID: "01990000-0000-7000-8000-000000000fff"}})
	v.PresenceChanged(agentA, protocol.PresenceStatusWorking)
	o.expect("network", "presence:changed", `{"agentId":"`+string(agentA)+`","status":"working"}`) // the other conversation's message never came
	v.AgentConnected(feed.AgentPresence{AgentID: agentA, Name: "alice", Connections: 2})
	o.expect("network", "agent:connected", `"connections":2`)
	v.AgentDisconnected(feed.AgentPresence{AgentID: agentA, Name: "alice", Status: protocol.PresenceStatusOffline})
	o.expect("network", "agent:disconnected", `"status":"offline"`)
	v.TaskCreated(protocol.Task{ID: taskID})
	o.expect("network", "task:created", `"task":{"id":"`+string(taskID))
	v.TaskFailed(taskID)
	o.expect("network", "task:failed", `{"taskId":"`+string(taskID)+`"}`)
	v.ConversationCreated(taskID, protocol.Conversation{ID: convID}) // task:<id> has no subscriber
	for state, event := range map[protocol.LeaseState]string{
		protocol.LeaseStatePENDING: "lease:minted", protocol.LeaseStateHOLD: "lease:released", protocol.LeaseStateDENIED: "lease:released",
		protocol.LeaseStateCLAIMED: "lease:claimed", protocol.LeaseStateCONSUMED: "lease:consumed",
		protocol.LeaseStateEXPIRED: "lease:expired", protocol.LeaseStateABANDONED: "lease:abandoned", protocol.LeaseStateGRANTED: "lease:released",
	} {
		v.LeaseChanged(protocol.LeaseRecord{LeaseID: "l9", ConversationID: convID, State: state})
		o.expect("dispatch:"+string(convID), event, `"state":"`+string(state)+`"`)
	}
}

func TestViewIsReadOnly(t *testing.T) {
	_, o := startView(t)
	if err := o.conn.Send([]byte(`["network","kick",{"agentId":"x"}]`)); err != nil {
		t.Fatal(err)
	}
	o.expect("network", "error", `"code":"READ_ONLY"`)
}

func TestNewRequiresAToken(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a token succeeded")
	}
}
