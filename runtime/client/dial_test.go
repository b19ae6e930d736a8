package client_test

import (
	"context"
	"errors"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/server"
)

func ptr[T any](v T) *T { return &v }

func text(s string) protocol.MessageParts { return protocol.MessageParts{protocol.TextPart{Text: s}} }

// TestTypedCallsAndSubscriptions covers the handshake, typed calls, a task on the default
// app with an initial conversation, and message delivery to On and OnAny subscribers.
func TestTypedCallsAndSubscriptions(t *testing.T) {
	e := newEnv(t)
	ra, rb := e.agent("alice"), e.agent("bob")
	a, b := e.dial(ra), e.dial(rb)
	ctx := ctxFor(t, 10*time.Second)

	if a.State() != client.Connected || a.AgentID() != ra.AgentID {
		t.Fatalf("state %v agent %q, want connected %q", a.State(), a.AgentID(), ra.AgentID)
	}
	if h := a.Hello(); h.ProtocolVersion != protocol.ProtocolVersion || h.Policy.MaxMessageBytes != 65536 {
		t.Fatalf("hello = %+v", h)
	}

	received := make(chan protocol.MessagesReceivedNotification, 4)
	On := client.On[protocol.MessagesReceivedNotification]
	cancel := On(b, func(n protocol.MessagesReceivedNotification) { received <- n })
	defer cancel()
	anyMethods := make(chan string, 16)
	cancelAny := b.OnAny(func(n protocol.Notification) { anyMethods <- n.Method() })

	if _, err := a.NetworkPing(ctx, protocol.NetworkPingParams{}); err != nil {
		t.Fatalf("network/ping: %v", err)
	}
	look, err := a.AgentsLookup(ctx, protocol.AgentsLookupParams{AgentIDs: []protocol.AgentID{protocol.AgentID(rb.AgentID)}})
	if err != nil || len(look.Agents) != 1 || string(look.Agents[0].ID) != rb.AgentID {
		t.Fatalf("agents/lookup = %+v, %v", look, err)
	}

	task, err := a.TaskRequest(ctx, protocol.TaskRequestParams{
		AppID:               server.DefaultAppID,
		InvitedAgentIDs:     []protocol.AgentID{protocol.AgentID(rb.AgentID)},
		InitialConversation: &protocol.InitialConversation{Name: ptr("chat")},
	})
	if err != nil {
		t.Fatalf("task/request: %v", err)
	}
	if task.Task.Status != protocol.TaskStatusActive || task.Conversation == nil {
		t.Fatalf("task/request = %+v", task)
	}
	sent, err := a.MessagesSend(ctx, protocol.MessagesSendParams{
		TaskID: task.Task.ID, ConversationID: task.Conversation.ID, Parts: text("hello bob"),
	})
	if err != nil {
		t.Fatalf("messages/send: %v", err)
	}

	got := recv(t, received, "messages/received")
	if got.Message.ID != sent.Message.ID || string(got.Message.SenderID) != ra.AgentID || got.TaskID != task.Task.ID {
		t.Fatalf("received %+v, sent %+v", got.Message, sent.Message)
	}
	if p, ok := got.Message.Parts[0].(protocol.TextPart); !ok || p.Text != "hello bob" {
		t.Fatalf("parts = %#v", got.Message.Parts)
	}
	seen := map[string]bool{}
	for !seen[protocol.NotificationMessagesReceived] {
		seen[recv(t, anyMethods, "OnAny notification")] = true
	}
	if !seen[protocol.NotificationTaskCreated] {
		t.Errorf("OnAny saw %v, want task/created before messages/received", seen)
	}

	// A cancelled subscription no longer receives.
	cancelAny()
	if _, err := a.MessagesSend(ctx, protocol.MessagesSendParams{
		TaskID: task.Task.ID, ConversationID: task.Conversation.ID, Parts: text("again"),
	}); err != nil {
		t.Fatalf("messages/send: %v", err)
	}
	recv(t, received, "second messages/received")
	select {
	case m := <-anyMethods:
		t.Fatalf("cancelled OnAny still received %s", m)
	case <-time.After(50 * time.Millisecond):
	}

	// A server error comes back as its registry type, wrapped with the method name.
	_, err = b.MessagesSend(ctx, protocol.MessagesSendParams{
		TaskID: task.Task.ID, ConversationID: "00000000-0000-4000-8000-000000000000", Parts: text("x"),
	})
	if err == nil {
		t.Fatal("messages/send to an unknown conversation succeeded")
	}
	var nf protocol.NotFoundError
	var fb protocol.ForbiddenError
	if !errors.As(err, &nf) && !errors.As(err, &fb) {
		t.Fatalf("error %v (%T) is not a registry error", err, errors.Unwrap(err))
	}
	if a.MalformedCount() != 0 || b.MalformedCount() != 0 {
		t.Fatalf("malformed counts %d %d", a.MalformedCount(), b.MalformedCount())
	}
}

// TestDialErrors covers refused handshakes and invalid options.
func TestDialErrors(t *testing.T) {
	e := newEnv(t)
	reg := e.agent("carol")
	ctx := ctxFor(t, 10*time.Second)

	wrong := reg
	wrong.APIKey = "moltzap_agent_0123456789abcdef_" + "000000000000000000000000000000000000000000000000"
	_, err := client.Dial(ctx, options(e.url, wrong))
	var unauth protocol.UnauthorizedError
	if !errors.As(err, &unauth) {
		t.Fatalf("wrong key: err = %v, want UnauthorizedError", err)
	}

	_, err = client.Dial(ctx, options(e.url, reg, func(o *client.Options) {
		o.MinProtocol, o.MaxProtocol = "2099.101.0", "2099.101.999999"
	}))
	var mismatch protocol.ProtocolMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("protocol range: err = %v, want ProtocolMismatchError", err)
	}
	if mismatch.Data == nil || mismatch.Data.Reason != protocol.ProtocolMismatchDataReasonServerBelowClientMin {
		t.Fatalf("mismatch data = %+v", mismatch.Data)
	}

	for name, o := range map[string]client.Options{
		"no credential":   {URL: e.url},
		"two credentials": {URL: e.url, AgentKey: reg.APIKey, SessionToken: "t"},
		"bad scheme":      {URL: "ftp://x", AgentKey: reg.APIKey},
		"no url":          {AgentKey: reg.APIKey},
	} {
		if _, err := client.Dial(ctx, o); err == nil {
			t.Errorf("%s: Dial succeeded", name)
		}
	}

	// Nothing listens there: the dial fails without retrying.
	dead := clienttest.NewProxy(t, "127.0.0.1:1")
	_, err = client.Dial(ctx, options(dead.URL(), reg))
	if err == nil {
		t.Fatal("dial through a dead proxy succeeded")
	}

	// A ws:// URL with the explicit endpoint path works too.
	c, err := client.Dial(ctx, options("ws"+e.url[len("http"):]+"/ws", reg))
	if err != nil {
		t.Fatalf("ws:// dial: %v", err)
	}
	_ = c.Close()
}

// TestCallTimeout covers the per-call timeout and a context deadline, with a TaskMaster
// that never answers task/create so that task/request stays in flight.
func TestCallTimeout(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.HookTimeout = 2 * time.Second })
	rtm, ra := e.agent("tm"), e.agent("asker")
	appID := newAppID()
	_ = dialTM(t, e.url, rtm, &tmHandlers{create: func(ctx context.Context, _ protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
		<-ctx.Done()
		return protocol.TaskCreateResult{}, ctx.Err()
	}}, appID)
	a := e.dial(ra, func(o *client.Options) { o.CallTimeout = 100 * time.Millisecond })

	req := protocol.TaskRequestParams{AppID: appID}
	start := time.Now()
	_, err := a.TaskRequest(context.Background(), req)
	if !errors.Is(err, client.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("CallTimeout of 100ms took %v", d)
	}

	// An earlier context deadline wins over the default 30 s.
	b := e.dial(ra)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = b.TaskRequest(ctx, req)
	if !errors.Is(err, client.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("50ms deadline took %v", d)
	}
	// The connection is still usable.
	if _, err := b.NetworkPing(ctxFor(t, 5*time.Second), protocol.NetworkPingParams{}); err != nil {
		t.Fatalf("ping after timeout: %v", err)
	}
}
