package channel_test

import (
	"context"
	"errors"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/channel"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// liveCore starts B's service and channel core (admission on) with handler.
func liveCore(t *testing.T, c *client.Client, handler channel.Handler) (*service.Service, *channel.Core) {
	t.Helper()
	svc := service.New(c, service.Options{})
	if err := svc.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
	opts := channel.DefaultOptions()
	opts.AdmissionTimeout = 5 * time.Second
	core := channel.New(svc, c, handler, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = core.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		core.Close()
		svc.Close()
	})
	return svc, core
}

// startTask has a request a task on appID with b invited and an initial conversation.
func startTask(t *testing.T, a *client.Client, appID string, b string) (taskID, convID string) {
	t.Helper()
	name := "e2e"
	res, err := a.TaskRequest(t.Context(), protocol.TaskRequestParams{
		AppID:               protocol.AppID(appID),
		InvitedAgentIDs:     []protocol.AgentID{protocol.AgentID(b)},
		InitialConversation: &protocol.InitialConversation{Name: &name},
	})
	if err != nil {
		t.Fatalf("task/request: %v", err)
	}
	return string(res.Task.ID), string(res.Conversation.ID)
}

func sendText(t *testing.T, c *client.Client, taskID, convID, text string) protocol.Message {
	t.Helper()
	r, err := c.MessagesSend(t.Context(), protocol.MessagesSendParams{
		TaskID: protocol.TaskID(taskID), ConversationID: protocol.ConversationID(convID),
		Parts: protocol.MessageParts{protocol.TextPart{Text: text}},
	})
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	return r.Message
}

// TestLiveGrantAndLeasedReply: a message from A reaches B's handler through a real
// dispatch/request -> dispatch/release grant (default app); B replies through the core
// with the lease and A receives the reply.
func TestLiveGrantAndLeasedReply(t *testing.T) {
	srv := clienttest.NewServer(t)
	regA, regB := srv.Register(t, "alice"), srv.Register(t, "bob")
	a, b := dial(t, srv.URL, regA.APIKey), dial(t, srv.URL, regB.APIKey)

	replies := make(chan protocol.Message, 4)
	client.On(a, func(n protocol.MessagesReceivedNotification) { replies <- n.Message })

	type turn struct {
		in  *channel.Inbound
		err error
	}
	turns := make(chan turn, 4)
	var core atomic.Pointer[channel.Core] // set before any message can arrive
	_, c := liveCore(t, b, func(ctx context.Context, in *channel.Inbound) error {
		err := core.Load().Reply(ctx, "pong: "+in.Text)
		turns <- turn{in, err}
		return err
	})
	core.Store(c)

	taskID, convID := startTask(t, a, server.DefaultAppID, regB.AgentID)
	ping := sendText(t, a, taskID, convID, "ping")

	var got turn
	select {
	case got = <-turns:
	case <-time.After(10 * time.Second):
		t.Fatal("B's handler was not called")
	}
	if got.err != nil {
		t.Fatalf("reply: %v", got.err)
	}
	in := got.in
	if in.ID != string(ping.ID) || in.Text != "ping" || in.Sender.ID != regA.AgentID || in.DispatchLeaseID == "" || in.TaskID != taskID {
		t.Fatalf("inbound %+v", in)
	}
	select {
	case r := <-replies:
		if r.SenderID != protocol.AgentID(regB.AgentID) || service.TextOf(r.Parts) != "pong: ping" || string(r.ConversationID) != convID {
			t.Fatalf("A received %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("A did not receive the reply")
	}

	// The reply spent the lease: it cannot be spent again.
	_, err := b.MessagesSend(t.Context(), protocol.MessagesSendParams{
		TaskID: protocol.TaskID(taskID), ConversationID: protocol.ConversationID(convID),
		Parts:           protocol.MessageParts{protocol.TextPart{Text: "again"}},
		DispatchLeaseID: ptr(protocol.LeaseID(in.DispatchLeaseID)),
	})
	var forbidden protocol.ForbiddenError
	if !errors.As(err, &forbidden) {
		t.Fatalf("second spend of the lease: %v, want -32001 LeaseInvalid", err)
	}
}

// denyingTM is a TaskMaster that accepts tasks, forwards every message to the
// conversation's other members and denies every dispatch.
type denyingTM struct {
	members    []protocol.AgentID
	authorized atomic.Int32
}

func (d *denyingTM) TaskCreate(context.Context, protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
	return protocol.TaskCreateResult{Verdict: protocol.TaskCreateAccept{}}, nil
}

func (d *denyingTM) MessagesAuthorize(_ context.Context, p protocol.MessagesAuthorizeParams) (protocol.MessagesAuthorizeResult, error) {
	var to []protocol.AgentID
	for _, m := range d.members {
		if m != p.Message.SenderAgentID {
			to = append(to, m)
		}
	}
	return protocol.MessagesAuthorizeResult{Verdict: protocol.MessagesAuthorizeForward{Recipients: to}}, nil
}

func (d *denyingTM) DispatchAuthorize(context.Context, protocol.DispatchAuthorizeParams) (protocol.DispatchAuthorizeResult, error) {
	d.authorized.Add(1)
	return protocol.DispatchAuthorizeResult{Admission: protocol.DispatchDeny{Reason: ptr("not now")}}, nil
}

// TestLiveTaskMasterDenyDropsTheMessage: B's core asks for admission, the TaskMaster
// denies, and the message never reaches B's handler.
func TestLiveTaskMasterDenyDropsTheMessage(t *testing.T) {
	srv := clienttest.NewServer(t)
	regA, regB, regTM := srv.Register(t, "alice"), srv.Register(t, "bob"), srv.Register(t, "tm")
	tm := &denyingTM{members: []protocol.AgentID{protocol.AgentID(regA.AgentID), protocol.AgentID(regB.AgentID)}}
	appID := uuid.NewString()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tmc, err := client.DialTaskMaster(ctx, client.Options{URL: srv.URL, AgentKey: regTM.APIKey}, tm,
		protocol.AppManifest{AppID: protocol.AppID(appID), Name: "deny-all"})
	if err != nil {
		t.Fatalf("dial taskmaster: %v", err)
	}
	t.Cleanup(func() { _ = tmc.Close() })
	a, b := dial(t, srv.URL, regA.APIKey), dial(t, srv.URL, regB.APIKey)

	received := make(chan protocol.Message, 4)
	svc, _ := liveCore(t, b, func(_ context.Context, in *channel.Inbound) error {
		received <- in.Message
		return nil
	})
	delivered := make(chan struct{}, 4)
	svc.Messages(func(string, protocol.Message) { delivered <- struct{}{} })

	taskID, convID := startTask(t, a, appID, regB.AgentID)
	sendText(t, a, taskID, convID, "please act")
	select {
	case <-delivered:
	case <-time.After(10 * time.Second):
		t.Fatal("B's service did not receive the message")
	}
	deadline := time.Now().Add(10 * time.Second)
	for tm.authorized.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the TaskMaster was never asked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case m := <-received:
		t.Fatalf("denied message %s reached the handler", m.ID)
	case <-time.After(300 * time.Millisecond):
	}
}
