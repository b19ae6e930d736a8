package client_test

import (
	"context"
	"errors"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// TestReconnect cuts the socket under a client (through a TCP proxy) and checks REFERENCE
// 17.3: the in-flight call fails with ErrNotConnected, OnDisconnect fires once with 1006,
// the client reconnects, OnReconnect fires, subscriptions still deliver and the presence
// watch set is restored.
func TestReconnect(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.HookTimeout = 3 * time.Second })
	ra, rb, rc, rtm := e.agent("alice"), e.agent("bob"), e.agent("carol"), e.agent("tm")
	ctx := ctxFor(t, 20*time.Second)

	// A TaskMaster that holds task/create keeps a call of alice in flight.
	hungApp := newAppID()
	inCreate := make(chan struct{}, 1)
	dialTM(t, e.url, rtm, &tmHandlers{create: func(ctx context.Context, _ protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
		inCreate <- struct{}{}
		<-ctx.Done()
		return protocol.TaskCreateResult{}, ctx.Err()
	}}, hungApp)

	type disconnect struct {
		info    client.CloseInfo
		state   client.State
		pingErr error
	}
	disconnects := make(chan disconnect, 4)
	reconnects := make(chan protocol.HelloOk, 4)
	px := clienttest.NewProxy(t, e.url)
	var self atomic.Pointer[client.Client] // the callback's view of a
	a := dialURL(t, px.URL(), ra, func(o *client.Options) {
		o.OnDisconnect = func(ci client.CloseInfo) {
			a := self.Load()
			_, err := a.NetworkPing(context.Background(), protocol.NetworkPingParams{})
			disconnects <- disconnect{info: ci, state: a.State(), pingErr: err}
		}
		o.OnReconnect = func(h protocol.HelloOk) { reconnects <- h }
	})
	self.Store(a)
	hooked := make(chan client.CloseInfo, 4)
	a.OnDisconnect(func(ci client.CloseInfo) { hooked <- ci })
	b := e.dial(rb)
	c := e.dial(rc)

	messages := make(chan protocol.MessagesReceivedNotification, 8)
	client.On(a, func(n protocol.MessagesReceivedNotification) { messages <- n })
	presence := make(chan protocol.PresenceChangedNotification, 8)
	client.On(a, func(n protocol.PresenceChangedNotification) { presence <- n })

	statuses, err := a.SetPresenceWatch(ctx, []string{rc.AgentID})
	if err != nil || len(statuses) != 1 || statuses[0].Status != protocol.PresenceStatusOnline {
		t.Fatalf("SetPresenceWatch = %+v, %v", statuses, err)
	}
	task, err := b.TaskRequest(ctx, protocol.TaskRequestParams{
		AppID:               server.DefaultAppID,
		InvitedAgentIDs:     []protocol.AgentID{protocol.AgentID(ra.AgentID)},
		InitialConversation: &protocol.InitialConversation{Name: ptr("chat")},
	})
	if err != nil {
		t.Fatalf("task/request: %v", err)
	}
	send := func(s string) {
		t.Helper()
		if _, err := b.MessagesSend(ctx, protocol.MessagesSendParams{TaskID: task.Task.ID, ConversationID: task.Conversation.ID, Parts: text(s)}); err != nil {
			t.Fatalf("messages/send: %v", err)
		}
	}
	send("before")
	recv(t, messages, "message before the cut")

	inflight := make(chan error, 1)
	go func() {
		_, err := a.TaskRequest(ctx, protocol.TaskRequestParams{AppID: hungApp})
		inflight <- err
	}()
	recv(t, inCreate, "task/create at the TaskMaster")

	px.Cut()
	if err := recv(t, inflight, "in-flight call result"); !errors.Is(err, client.ErrNotConnected) {
		t.Fatalf("in-flight call: err = %v, want ErrNotConnected", err)
	}
	d := recv(t, disconnects, "OnDisconnect")
	if d.info.Code != 1006 || d.info.Reason != "abnormal" {
		t.Fatalf("OnDisconnect(%+v), want 1006 abnormal", d.info)
	}
	if d.state != client.Reconnecting || !errors.Is(d.pingErr, client.ErrNotConnected) {
		t.Fatalf("during the disconnect: state %v, ping err %v", d.state, d.pingErr)
	}
	if h := recv(t, hooked, "OnDisconnect hook"); h != d.info {
		t.Fatalf("hook got %+v, option got %+v", h, d.info)
	}
	hello := recv(t, reconnects, "OnReconnect")
	if string(hello.AgentID) != ra.AgentID || a.State() != client.Connected {
		t.Fatalf("after reconnect: hello %+v state %v", hello, a.State())
	}

	// Subscriptions survived.
	send("after")
	if m := recv(t, messages, "message after the reconnect"); m.Message.Parts[0].(protocol.TextPart).Text != "after" {
		t.Fatalf("got %+v", m.Message)
	}
	// The presence watch set was restored on the new connection.
	_ = c.Close()
	if p := recv(t, presence, "presence/changed offline"); string(p.AgentID) != rc.AgentID || p.Status != protocol.PresenceStatusOffline {
		t.Fatalf("presence = %+v, want carol offline", p)
	}
	e.dial(rc)
	if p := recv(t, presence, "presence/changed online"); string(p.AgentID) != rc.AgentID || p.Status != protocol.PresenceStatusOnline {
		t.Fatalf("presence = %+v, want carol online", p)
	}

	// One disconnect, one reconnect.
	select {
	case d := <-disconnects:
		t.Fatalf("second OnDisconnect %+v", d)
	case h := <-reconnects:
		t.Fatalf("second OnReconnect %+v", h)
	case <-time.After(50 * time.Millisecond):
	}
	if n := a.MalformedCount(); n != 0 {
		t.Fatalf("malformed = %d", n)
	}
}

// TestReconnectDisabled checks that without reconnecting a drop closes the client.
func TestReconnectDisabled(t *testing.T) {
	e := newEnv(t)
	ra := e.agent("solo")
	px := clienttest.NewProxy(t, e.url)
	disconnects := make(chan client.CloseInfo, 2)
	a := dialURL(t, px.URL(), ra, func(o *client.Options) {
		o.Reconnect.Disabled = true
		o.OnDisconnect = func(ci client.CloseInfo) { disconnects <- ci }
	})
	px.Cut()
	if ci := recv(t, disconnects, "OnDisconnect"); ci.Code != 1006 {
		t.Fatalf("OnDisconnect(%+v)", ci)
	}
	recv(t, a.Done(), "Done")
	if a.State() != client.Closed {
		t.Fatalf("state = %v, want closed", a.State())
	}
	if _, err := a.NetworkPing(context.Background(), protocol.NetworkPingParams{}); !errors.Is(err, client.ErrNotConnected) {
		t.Fatalf("ping after drop: %v", err)
	}
}

// TestCloseWhileReconnecting closes a client whose reconnect attempts keep failing: Close
// returns promptly, no OnReconnect fires, and the client's goroutines end.
func TestCloseWhileReconnecting(t *testing.T) {
	e := newEnv(t)
	ra := e.agent("lost")
	px := clienttest.NewProxy(t, e.url)
	disconnects := make(chan client.CloseInfo, 2)
	reconnects := make(chan protocol.HelloOk, 2)
	a := dialURL(t, px.URL(), ra, func(o *client.Options) {
		o.OnDisconnect = func(ci client.CloseInfo) { disconnects <- ci }
		o.OnReconnect = func(h protocol.HelloOk) { reconnects <- h }
	})
	px.Pause(true) // reconnect attempts are refused from now on
	px.Cut()
	recv(t, disconnects, "OnDisconnect")
	time.Sleep(100 * time.Millisecond) // a few failed attempts
	if a.State() != client.Reconnecting {
		t.Fatalf("state = %v, want reconnecting", a.State())
	}
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	recv(t, a.Done(), "Done")
	select {
	case h := <-reconnects:
		t.Fatalf("OnReconnect(%+v) after Close", h)
	case <-time.After(100 * time.Millisecond):
	}
	waitUntil(t, "the client's goroutines end", func() bool { return clientGoroutines() == "" })
}

// clientGoroutines returns the stacks of goroutines running this package's code.
func clientGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "runtime/client.(*") && !strings.Contains(g, "clientGoroutines") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
