package channel_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/channel"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

const (
	self  = "agent-self"
	alice = "agent-alice"
	bob   = "agent-bob"
	task  = "task-1"
)

// harness is a core over a real service over a fake connection.
type harness struct {
	t    *testing.T
	conn *servicetest.Conn
	svc  *service.Service
	core *channel.Core

	calls chan *channel.Inbound
	mu    sync.Mutex
	fn    func(ctx context.Context, in *channel.Inbound) error
}

func newHarness(t *testing.T, opts channel.Options) *harness {
	t.Helper()
	conn := servicetest.NewConn(self)
	for _, id := range []string{"x", "y", "z"} {
		conn.AddConversation(servicetest.Conversation(task, id, "name-"+id, protocol.ConversationTypeGroup, self, alice, bob))
	}
	conn.SetName(alice, "Alice")
	svc := service.New(conn, service.Options{})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &harness{t: t, conn: conn, svc: svc, calls: make(chan *channel.Inbound, 1000)}
	h.core = channel.New(svc, conn, h.handle, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.core.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
		h.core.Close()
		svc.Close()
	})
	return h
}

func (h *harness) handle(ctx context.Context, in *channel.Inbound) error {
	h.calls <- in
	h.mu.Lock()
	fn := h.fn
	h.mu.Unlock()
	if fn != nil {
		return fn(ctx, in)
	}
	return nil
}

// onHandle sets what the handler does after recording the call.
func (h *harness) onHandle(fn func(ctx context.Context, in *channel.Inbound) error) {
	h.mu.Lock()
	h.fn = fn
	h.mu.Unlock()
}

// next waits for the next handler call.
func (h *harness) next() *channel.Inbound {
	h.t.Helper()
	select {
	case in := <-h.calls:
		return in
	case <-time.After(5 * time.Second):
		h.t.Fatal("no handler call within 5s")
		return nil
	}
}

// none asserts that the handler is not called within d.
func (h *harness) none(d time.Duration) {
	h.t.Helper()
	select {
	case in := <-h.calls:
		h.t.Fatalf("unexpected handler call for %s (%s)", in.ID, in.Text)
	case <-time.After(d):
	}
}

func (h *harness) receive(conv, sender, text string) protocol.Message {
	return h.conn.Receive(task, conv, sender, text)
}

// script answers dispatch/request: verdict picks the verdict of the n-th request (from 1);
// the release is sent before the ack returns when early is set, else shortly after.
func (h *harness) script(early bool, verdict func(n int, p protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision) {
	var mu sync.Mutex
	n := 0
	h.conn.SetDispatch(func(_ context.Context, p protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		ack := protocol.DispatchRequestResult{DispatchID: protocol.DispatchID(fmt.Sprintf("d-%d", i)), LeaseID: protocol.LeaseID(fmt.Sprintf("lease-%d", i))}
		v := verdict(i, p)
		if v == nil {
			return ack, nil // no release at all
		}
		rel := protocol.DispatchReleaseNotification{DispatchID: ack.DispatchID, LeaseID: ack.LeaseID, Verdict: v}
		if early {
			h.conn.Notify(rel)
		} else {
			go func() {
				time.Sleep(5 * time.Millisecond)
				h.conn.Notify(rel)
			}()
		}
		return ack, nil
	})
}

func grant() protocol.DispatchAdmissionDecision { return protocol.DispatchGrant{} }

func msgIDs(in *channel.Inbound) []string {
	out := make([]string, len(in.Coalesced))
	for i, m := range in.Coalesced {
		out[i] = m.ID
	}
	return out
}

func ids(ms ...protocol.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.ID)
	}
	return out
}

// requested lists "messageId/attempt" of the dispatch requests so far.
func requested(conn *servicetest.Conn) []string {
	var out []string
	for _, p := range conn.DispatchRequests() {
		out = append(out, fmt.Sprintf("%s/%d", p.MessageID, *p.Attempt))
	}
	return out
}

// gate blocks a handler call until it is opened.
type gate chan struct{}

func (g gate) open() { close(g) }

func ptr[T any](v T) *T { return &v }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
