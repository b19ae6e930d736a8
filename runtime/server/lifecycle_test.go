package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

func TestShutdownClosesSocketsWith1001(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	p := e.connectAs(a)
	raw := e.dialRaw(transport.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case info := <-raw.closed:
		if info.Code != transport.CloseGoingAway {
			t.Fatalf("close %v, want 1001", info)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket still open after shutdown")
	}
	<-p.done
	if info := p.ws.CloseInfo(); info.Code != transport.CloseGoingAway {
		t.Fatalf("agent socket closed with %v, want 1001", info)
	}
	// New sockets are refused while shutting down.
	if _, err := transport.Dial(ctx, e.ws, transport.Config{}); err == nil {
		t.Fatal("dial succeeded after shutdown")
	}
}

// TestRestartDurability stops a server and starts a new one on the same data directory:
// identities, tasks, conversations and history are intact.
func TestRestartDurability(t *testing.T) {
	dir := t.TempDir()
	start := func() (*env, func()) {
		st, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		srv, err := server.New(server.Config{}, st)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		e := &env{t: t, srv: srv, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
		return e, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			hs.Close()
			if err := st.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		}
	}
	e1, stop1 := start()
	a, b := e1.register("alice"), e1.register("bob")
	e1.claim(a, ownerA)
	e1.claim(b, ownerA)
	pa := e1.connectAs(a)
	var req protocol.TaskRequestResult
	pa.mustCall("task/request", map[string]any{"appId": server.DefaultAppID, "invitedAgentIds": []string{b.ID}, "initialConversation": map[string]any{"name": "durable"}}, &req)
	var sent protocol.MessagesSendResult
	pa.mustCall("messages/send", map[string]any{"taskId": req.Task.ID, "conversationId": req.Conversation.ID,
		"parts": []map[string]any{{"type": "text", "text": "survives a restart"}}}, &sent)
	pa.close()
	stop1()

	e2, stop2 := start()
	defer stop2()
	if code, _ := e2.post("/api/v1/auth/register", map[string]any{"name": a.Name}); code != 409 {
		t.Fatalf("name free after restart: %d", code)
	}
	pb := e2.connectAs(b) // the old key still works
	var list protocol.MessagesListResult
	pb.mustCall("messages/list", map[string]any{"taskId": req.Task.ID, "conversationId": req.Conversation.ID}, &list)
	if len(list.Messages) != 1 || list.Messages[0].ID != sent.Message.ID || list.Messages[0].Seq != sent.Message.Seq {
		t.Fatalf("history after restart %+v, want the sent message", list.Messages)
	}
	var convs protocol.TaskConversationListResult
	pb.mustCall("task/conversation/list", map[string]any{}, &convs)
	if len(convs.Items) != 1 || convs.Items[0].Conversation.ID != req.Conversation.ID {
		t.Fatalf("conversations after restart %+v", convs.Items)
	}
}

// TestSweeperFailsStrandedWaitingTasks plants a task left waiting by a crash (inserted, never
// decided) and checks that the sweeper fails it and tells its participants.
func TestSweeperFailsStrandedWaitingTasks(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{HookTimeout: 50 * time.Millisecond, SweepInterval: 20 * time.Millisecond}, st)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	e := &env{t: t, srv: srv, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	a := e.register("alice")
	p := e.connectAs(a)
	const taskID = "0190a1b2-0000-7000-8000-00000000abcd"
	agentID := protocol.AgentID(a.ID)
	if _, err := st.CreateTask(context.Background(), store.Task{ID: taskID, AppID: server.DefaultAppID, InitiatorAgentID: agentID,
		Status: protocol.TaskStatusWaiting, CreatedAt: time.Now().Add(-time.Minute)}, []protocol.AgentID{agentID}); err != nil {
		t.Fatal(err)
	}
	var n protocol.TaskFailedNotification
	p.waitNote("task/failed", field("taskId", taskID), &n)
	if n.Reason == nil || *n.Reason != "timeout" {
		t.Fatalf("task/failed %+v, want reason timeout", n)
	}
	got, err := st.GetTask(context.Background(), taskID)
	if err != nil || got.Status != protocol.TaskStatusFailed || got.EndedAt == nil {
		t.Fatalf("stranded task after the sweep: %+v %v", got, err)
	}
}
