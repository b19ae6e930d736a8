package channel_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/channel"
)

func TestImplicitGrantWithoutAdmission(t *testing.T) {
	h := newHarness(t, channel.Options{})
	m := h.receive("x", alice, "hello")
	in := h.next()
	if in.ID != string(m.ID) || in.Text != "hello" || in.Sender != (channel.Sender{ID: alice, Name: "Alice"}) ||
		in.TaskID != task || in.ConversationID != "x" || in.IsFromMe || in.DispatchLeaseID != "" || in.CreatedAt != string(m.CreatedAt) {
		t.Fatalf("inbound %+v", in)
	}
	if in.Conversation == nil || in.Conversation.Type != "group" || in.Conversation.Name != "name-x" ||
		!slices.Equal(in.Conversation.Participants, []string{"agent:" + self, "agent:" + alice, "agent:" + bob}) {
		t.Fatalf("conversation meta %+v", in.Conversation)
	}
	if in.Context.GroupMetadata != in.Conversation {
		t.Fatal("group conversation lacks group metadata")
	}
	if n := len(h.conn.DispatchRequests()); n != 0 {
		t.Fatalf("%d dispatch requests without admission", n)
	}
}

func TestGrantWithReleaseBeforeAndAfterAck(t *testing.T) {
	for _, early := range []bool{true, false} {
		h := newHarness(t, channel.DefaultOptions())
		h.script(early, func(int, protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision { return grant() })
		m := h.receive("x", alice, "hi")
		in := h.next()
		if in.ID != string(m.ID) || in.DispatchLeaseID != "lease-1" {
			t.Fatalf("early=%v: inbound %s lease %q", early, in.ID, in.DispatchLeaseID)
		}
	}
}

func TestDispatchRequestCarriesClockAttemptAndPending(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(true, func(int, protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision { return grant() })
	g := make(gate)
	h.onHandle(func(context.Context, *channel.Inbound) error { <-g; return nil })
	first := h.receive("x", alice, "1")
	h.next() // the consumer is now blocked in the handler
	rest := []protocol.Message{h.receive("x", bob, "2"), h.receive("y", alice, "3"), h.receive("x", alice, "4")}
	g.open()
	h.next()
	reqs := h.conn.DispatchRequests()
	if len(reqs) < 2 { // the y message may already be asking too
		t.Fatalf("%d requests", len(reqs))
	}
	p0 := reqs[0]
	if p0.ConversationID != "x" || p0.MessageID != first.ID || p0.SenderAgentID != alice || *p0.Attempt != 0 ||
		p0.ReceivedAt == nil || len(p0.Parts) != 1 || len(p0.Pending) != 1 || p0.Pending[0].MessageID != first.ID {
		t.Fatalf("first request %+v", p0)
	}
	if c := p0.Clock; c.DomainID != "x" || c.Epoch != 1 || c.Vector[alice] != 1 {
		t.Fatalf("first clock %+v", c)
	}
	p1 := reqs[1]
	if p1.MessageID != rest[0].ID {
		t.Fatalf("second request for %s, want %s", p1.MessageID, rest[0].ID)
	}
	if got := pendingIDs(p1.Pending); !slices.Equal(got, ids(rest...)) {
		t.Fatalf("pending %v, want %v", got, ids(rest...))
	}
	// Clocks per conversation: x saw alice, bob, alice; y saw alice.
	wantClocks := []protocol.LogicalClock{
		{DomainID: "x", Epoch: 2, Vector: map[string]int64{alice: 1, bob: 1}},
		{DomainID: "y", Epoch: 1, Vector: map[string]int64{alice: 1}},
		{DomainID: "x", Epoch: 3, Vector: map[string]int64{alice: 2, bob: 1}},
	}
	for i, pm := range p1.Pending {
		w := wantClocks[i]
		if pm.Clock.DomainID != w.DomainID || pm.Clock.Epoch != w.Epoch || pm.Clock.Vector[alice] != w.Vector[alice] || pm.Clock.Vector[bob] != w.Vector[bob] {
			t.Fatalf("pending[%d] clock %+v, want %+v", i, pm.Clock, w)
		}
		if pm.ReceivedAt == "" || pm.CreatedAt == "" || pm.SenderAgentID == "" {
			t.Fatalf("pending[%d] incomplete: %+v", i, pm)
		}
	}
}

func TestPendingIsCappedAtTheOldest100(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(true, func(int, protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision { return grant() })
	g := make(gate)
	h.onHandle(func(context.Context, *channel.Inbound) error { <-g; return nil })
	h.receive("x", alice, "first")
	h.next()
	var queued []protocol.Message
	for i := range 150 {
		conv := "y"
		if i%2 == 0 {
			conv = "z"
		}
		queued = append(queued, h.receive(conv, alice, "q"))
	}
	g.open()
	h.next()
	p := h.conn.DispatchRequests()[1]
	if got := pendingIDs(p.Pending); !slices.Equal(got, ids(queued[:channel.MaxPending]...)) {
		t.Fatalf("pending has %d items, first %v", len(got), got[:3])
	}
}

func TestDenyDropsTheMessage(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(false, func(n int, _ protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		if n == 1 {
			return protocol.DispatchDeny{Reason: ptr("nope")}
		}
		return grant()
	})
	h.receive("x", alice, "denied")
	h.none(50 * time.Millisecond)
	m := h.receive("x", alice, "granted")
	if in := h.next(); !slices.Equal(msgIDs(in), ids(m)) {
		t.Fatalf("batch %v: the denied message must not come back", msgIDs(in))
	}
}

func TestAdmissionFailuresAreDenies(t *testing.T) {
	opts := channel.DefaultOptions()
	opts.AdmissionTimeout = 100 * time.Millisecond
	h := newHarness(t, opts)
	h.script(false, func(n int, _ protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		if n == 1 {
			return nil // ack without a release: the release wait times out
		}
		return grant()
	})
	h.receive("x", alice, "release never comes")
	h.none(200 * time.Millisecond)
	m := h.receive("x", alice, "ok")
	if in := h.next(); in.ID != string(m.ID) {
		t.Fatalf("dispatched %s", in.ID)
	}

	h.conn.SetDispatch(func(context.Context, protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error) {
		return protocol.DispatchRequestResult{}, errors.New("not connected")
	})
	h.receive("x", alice, "request fails")
	h.none(50 * time.Millisecond)
}

func TestLateReleaseAfterTimeoutGoesToTheRing(t *testing.T) {
	opts := channel.DefaultOptions()
	opts.AdmissionTimeout = 50 * time.Millisecond
	h := newHarness(t, opts)
	h.conn.SetDispatch(func(context.Context, protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error) {
		return protocol.DispatchRequestResult{DispatchID: "d", LeaseID: "late"}, nil
	})
	h.receive("x", alice, "slow verdict")
	eventually(t, "request", func() bool { return len(h.conn.DispatchRequests()) == 1 })
	time.Sleep(100 * time.Millisecond)
	// The verdict arrives after the deadline: no waiter, no dispatch, no leak into the
	// next admission (which uses another lease).
	h.conn.Notify(protocol.DispatchReleaseNotification{DispatchID: "d", LeaseID: "late", Verdict: grant()})
	h.none(50 * time.Millisecond)
}

func pendingIDs(ps []protocol.PendingMessage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.MessageID)
	}
	return out
}
