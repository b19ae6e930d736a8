package service_test

import (
	"context"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"slices"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// TestLiveCatchUpAfterReconnect runs against the real server: B's connection is cut while
// A keeps writing; after B reconnects its service delivers the missed messages exactly
// once, and live traffic continues.
func TestLiveCatchUpAfterReconnect(t *testing.T) {
	srv := clienttest.NewServer(t)
	regA, regB := srv.Register(t, "alice"), srv.Register(t, "bob")
	a := dial(t, srv.URL, regA.APIKey)
	px := clienttest.NewProxy(t, srv.URL)
	b := dial(t, px.URL(), regB.APIKey)

	svc := service.New(b, service.Options{})
	t.Cleanup(svc.Close)
	if err := svc.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	rec := newRecorder(svc)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	name := "catch-up"
	res, err := a.TaskRequest(ctx, protocol.TaskRequestParams{
		AppID:               server.DefaultAppID,
		InvitedAgentIDs:     []protocol.AgentID{protocol.AgentID(regB.AgentID)},
		InitialConversation: &protocol.InitialConversation{Name: &name},
	})
	if err != nil {
		t.Fatalf("task/request: %v", err)
	}
	taskID, convID := string(res.Task.ID), string(res.Conversation.ID)
	eventually(t, "B learns the conversation", func() bool { _, ok := svc.Conversation(convID); return ok })

	send := func(text string) protocol.Message {
		t.Helper()
		r, err := a.MessagesSend(ctx, protocol.MessagesSendParams{
			TaskID: protocol.TaskID(taskID), ConversationID: protocol.ConversationID(convID),
			Parts: protocol.MessageParts{protocol.TextPart{Text: text}},
		})
		if err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
		return r.Message
	}

	m1 := send("before")
	rec.waitFor(t, 1)

	px.Pause(true)
	px.Cut()
	eventually(t, "B notices the drop", func() bool { return b.State() == client.Reconnecting })
	missed := []protocol.Message{send("missed 1"), send("missed 2"), send("missed 3")}
	px.Pause(false)

	rec.waitFor(t, 4)
	m5 := send("after")
	rec.waitFor(t, 5)
	time.Sleep(200 * time.Millisecond) // let any duplicate show up
	want := append(append(ids(m1), ids(missed...)...), string(m5.ID))
	if got := rec.ids(); !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	c, _ := svc.Conversation(convID)
	if c.Name != name || c.TaskID != taskID || !slices.Contains(c.Participants, regA.AgentID) || !slices.Contains(c.Participants, regB.AgentID) {
		t.Fatalf("cached conversation %+v", c)
	}
}
