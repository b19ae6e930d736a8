package service_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/clustertest"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// TestFailoverToAnotherNode runs two moltzap-server processes on one PostgreSQL schema. A
// listener connected to node 1 with the URLs [node 1, node 2] loses node 1 to SIGKILL;
// while it cannot reach node 2 either (a paused proxy), an agent on node 2 writes to the
// conversation; then node 2 becomes reachable and the agent keeps writing while the
// listener reconnects and catches up. Every message reaches the listener exactly once, in
// seq order, and the client ends up on node 2.
func TestFailoverToAnotherNode(t *testing.T) {
	cl := clustertest.Start(t, 2)
	node1, node2 := cl.Nodes[0], cl.Nodes[1]
	regS, regL := cl.Register(t, 0, "sender"), cl.Register(t, 0, "listener")
	px2 := clienttest.NewProxy(t, node2.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	dialOpts := func(o client.Options) *client.Client {
		t.Helper()
		c, err := client.Dial(ctx, o)
		if err != nil {
			t.Fatalf("dial %v: %v", append([]string{o.URL}, o.URLs...), err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	s1 := dialOpts(client.Options{URL: node1.URL, AgentKey: regS.APIKey, Reconnect: client.Backoff{Disabled: true}})
	s2 := dialOpts(client.Options{URL: node2.URL, AgentKey: regS.APIKey})
	reconnected := make(chan protocol.HelloOk, 4)
	var atReconnect atomic.Pointer[func()] // sends a message the moment the listener is back
	listener := dialOpts(client.Options{
		URLs: []string{node1.URL, px2.URL()}, AgentKey: regL.APIKey,
		Reconnect: client.Backoff{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond},
		// Options.OnReconnect runs before the service's reconnect hook starts the
		// catch-up: the message sent here arrives live before the missed ones are listed.
		OnReconnect: func(h protocol.HelloOk) {
			if fn := atReconnect.Load(); fn != nil {
				(*fn)()
			}
			time.Sleep(100 * time.Millisecond)
			reconnected <- h
		},
	})
	if listener.URL() != node1.URL {
		t.Fatalf("listener connected to %s, want the first URL %s", listener.URL(), node1.URL)
	}
	reports := make(chan service.CatchUpReport, 8)
	svc := service.New(listener, service.Options{OnCatchUp: func(r service.CatchUpReport) { reports <- r }})
	t.Cleanup(svc.Close)
	if err := svc.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	rec := newRecorder(svc)

	res, err := s1.TaskRequest(ctx, protocol.TaskRequestParams{
		AppID:               protocol.DefaultAppID,
		InvitedAgentIDs:     []protocol.AgentID{protocol.AgentID(regL.AgentID)},
		InitialConversation: &protocol.InitialConversation{Name: ptr("failover")},
	})
	if err != nil {
		t.Fatalf("task/request: %v", err)
	}
	taskID, convID := res.Task.ID, res.Conversation.ID
	eventually(t, "the listener learns the conversation", func() bool { _, ok := svc.Conversation(string(convID)); return ok })
	var sentMu sync.Mutex
	var sent []protocol.Message
	send := func(c *client.Client, text string) {
		t.Helper()
		r, err := c.MessagesSend(ctx, protocol.MessagesSendParams{TaskID: taskID, ConversationID: convID, Parts: protocol.MessageParts{protocol.TextPart{Text: text}}})
		if err != nil {
			t.Errorf("send %q: %v", text, err)
			return
		}
		sentMu.Lock()
		sent = append(sent, r.Message)
		sentMu.Unlock()
	}

	sendAtReconnect := func() { send(s2, "at reconnect") }
	atReconnect.Store(&sendAtReconnect)
	for i := range 3 {
		send(s1, fmt.Sprintf("before %d", i))
	}
	rec.waitFor(t, 3)

	px2.Pause(true)
	node1.Kill()
	eventually(t, "the listener notices node 1 is gone", func() bool { return listener.State() == client.Reconnecting })
	for i := range 5 {
		send(s2, fmt.Sprintf("missed %d", i))
	}
	time.Sleep(300 * time.Millisecond) // a few failed attempts on both URLs

	// The agent keeps writing while the listener reconnects and catches up.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 12 {
			send(s2, fmt.Sprintf("during %d", i))
			time.Sleep(15 * time.Millisecond)
		}
	}()
	px2.Pause(false)
	select {
	case <-reconnected:
	case <-time.After(20 * time.Second):
		t.Fatal("the listener did not reconnect")
	}
	if listener.URL() != px2.URL() {
		t.Fatalf("listener reconnected to %s, want node 2 (%s)", listener.URL(), px2.URL())
	}
	wg.Wait()
	for i := range 3 {
		send(s2, fmt.Sprintf("after %d", i))
	}

	sentMu.Lock()
	want := slices.Clone(sent)
	sentMu.Unlock()
	if len(want) != 3+5+1+12+3 {
		t.Fatalf("sent %d messages", len(want))
	}
	rec.waitForTimeout(t, len(want), 20*time.Second)
	time.Sleep(300 * time.Millisecond) // any duplicate would show up now
	got := rec.messages()
	if len(got) != len(want) {
		t.Fatalf("delivered %d messages, want %d: %v", len(got), len(want), seqs(got))
	}
	slices.SortFunc(want, func(a, b protocol.Message) int { return int(seqOf(t, a) - seqOf(t, b)) })
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("delivery %d is %s (seq %s), want %s (seq %s); delivered seqs %v", i, got[i].ID, got[i].Seq, want[i].ID, want[i].Seq, seqs(got))
		}
	}
	select {
	case r := <-reports:
		if r.Err != nil {
			t.Fatalf("catch-up report: %v", r.Err)
		}
	default:
		t.Fatal("no catch-up report after the reconnect")
	}
}

// waitForTimeout is waitFor with a deadline of d.
func (r *recorder) waitForTimeout(t *testing.T, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for len(r.ids()) < n {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("delivered %d messages, want %d: %v", len(r.ids()), n, r.ids())
		}
	}
}

// messages returns the delivered messages.
func (r *recorder) messages() []protocol.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func seqs(ms []protocol.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Seq)
	}
	return out
}

func seqOf(t *testing.T, m protocol.Message) int64 {
	t.Helper()
	v, err := strconv.ParseInt(string(m.Seq), 10, 64)
	if err != nil {
		t.Fatalf("seq %q: %v", m.Seq, err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }
