package channel_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/channel"
)

func TestHoldParksAtTheFrontAndNewTrafficRetries(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(true, func(_ int, p protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		if p.ConversationID == "x" && *p.Attempt < 2 {
			return protocol.DispatchHold{Reason: ptr("moderator_unavailable")}
		}
		return grant()
	})
	x1 := h.receive("x", alice, "x1")
	y1 := h.receive("y", alice, "y1") // other conversations are unaffected by the hold
	if in := h.next(); in.ID != string(y1.ID) {
		t.Fatalf("dispatched %s, want y1", in.ID)
	}
	time.Sleep(50 * time.Millisecond)
	if got := requested(h.conn); !slices.Equal(got, []string{string(x1.ID) + "/0", string(y1.ID) + "/0"}) {
		t.Fatalf("requests %v: a held message must wait for new traffic (no timer)", got)
	}
	x2 := h.receive("x", bob, "x2") // wakes x1 (attempt 1), held again; x2 parks behind it
	x3 := h.receive("x", alice, "x3")
	in := h.next()
	want := []string{string(x1.ID) + "/0", string(y1.ID) + "/0", string(x1.ID) + "/1", string(x1.ID) + "/2"}
	if got := requested(h.conn); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	if in.ID != string(x1.ID) || in.Attempt != 2 || !slices.Equal(msgIDs(in), ids(x1, x2, x3)) {
		t.Fatalf("dispatched %s attempt %d batch %v, want x1 attempt 2 with [x1 x2 x3]", in.ID, in.Attempt, msgIDs(in))
	}
	if ps := pendingIDs(h.conn.DispatchRequests()[3].Pending); !slices.Equal(ps, ids(x1, x2, x3)) {
		t.Fatalf("pending of the retry %v", ps)
	}
}

func TestGrantCoalescesTheConversationAndKeepsOthersInOrder(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(false, func(int, protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision { return grant() })
	g := make(gate)
	h.onHandle(func(_ context.Context, in *channel.Inbound) error {
		if in.Text == "x0" {
			<-g
		}
		return nil
	})
	h.receive("x", alice, "x0")
	h.next()
	x1, y1, x2, z1, y2 := h.receive("x", alice, "x1"), h.receive("y", alice, "y1"), h.receive("x", bob, "x2"), h.receive("z", bob, "z1"), h.receive("y", bob, "y2")
	g.open()
	for _, want := range [][]string{ids(x1, x2), ids(y1, y2), ids(z1)} {
		in := h.next()
		if got := msgIDs(in); !slices.Equal(got, want) {
			t.Fatalf("batch %v, want %v", got, want)
		}
		if in.ID != want[0] || len(in.Batch) != len(want) {
			t.Fatalf("primary %s / raw batch %d", in.ID, len(in.Batch))
		}
	}
}

func TestDispatchMessageIDStartsTheBatch(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	var target protocol.MessageID
	h.script(true, func(n int, _ protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		switch n {
		case 2:
			return protocol.DispatchGrant{DispatchMessageID: &target}
		case 3:
			return protocol.DispatchGrant{DispatchMessageID: ptr(protocol.MessageID("no-such-message"))}
		}
		return grant()
	})
	g := make(gate)
	h.onHandle(func(_ context.Context, in *channel.Inbound) error {
		if in.Text == "gate" {
			<-g
		}
		return nil
	})
	h.receive("y", alice, "gate")
	h.next()
	x1, x2, x3 := h.receive("x", alice, "x1"), h.receive("x", alice, "x2"), h.receive("x", alice, "x3")
	target = x2.ID
	g.open()
	if in := h.next(); in.ID != string(x2.ID) || !slices.Equal(msgIDs(in), ids(x2, x3)) {
		t.Fatalf("batch %v, want [x2 x3] (x1 %s skipped)", msgIDs(in), x1.ID)
	}
	// Request 3 names an unknown target: "target unavailable", the batch is dropped.
	h.receive("x", alice, "x4")
	h.none(50 * time.Millisecond)
	x5 := h.receive("x", alice, "x5")
	if in := h.next(); !slices.Equal(msgIDs(in), ids(x5)) {
		t.Fatalf("batch %v, want [x5]", msgIDs(in))
	}
}

func TestReplySpendsTheGrantLease(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(true, func(n int, _ protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		if n == 2 {
			return protocol.DispatchGrant{LeaseID: ptr(protocol.LeaseID("override"))}
		}
		return grant()
	})
	var saved context.Context
	errs := make(chan error, 3)
	h.onHandle(func(ctx context.Context, in *channel.Inbound) error {
		saved = ctx
		errs <- h.core.Reply(ctx, "first")
		errs <- h.core.Reply(ctx, "second")
		return nil
	})
	h.receive("x", alice, "question")
	h.next()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("reply: %v", err)
		}
	}
	sent := h.conn.Sent()
	if len(sent) != 2 || sent[0].DispatchLeaseID == nil || *sent[0].DispatchLeaseID != "lease-1" || sent[1].DispatchLeaseID != nil {
		t.Fatalf("sent %+v: the first reply spends the lease, the second goes without", sent)
	}
	if sent[0].ConversationID != "x" || sent[0].TaskID != task || sent[0].Parts[0] != (protocol.TextPart{Text: "first"}) {
		t.Fatalf("reply params %+v", sent[0])
	}
	if err := h.core.Reply(context.Background(), "nowhere"); err != channel.ErrNoTurn {
		t.Fatalf("reply outside a turn: %v", err)
	}

	// grant.leaseId overrides the ack's lease.
	first := saved
	h.receive("y", alice, "again")
	if in := h.next(); in.DispatchLeaseID != "override" {
		t.Fatalf("lease %q, want the grant's", in.DispatchLeaseID)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("reply: %v", err)
		}
	}
	if got := *h.conn.Sent()[2].DispatchLeaseID; got != "override" {
		t.Fatalf("reply spent %q", got)
	}
	// The first turn is over: its context can no longer reply.
	if err := h.core.Reply(first, "late"); err != channel.ErrTurnEnded {
		t.Fatalf("reply after the turn: %v", err)
	}
}

func TestHandlerIsBoundedByTheLeaseTimeout(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(true, func(n int, _ protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		return protocol.DispatchGrant{LeaseTimeoutMs: ptr(int64(50))}
	})
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	h.onHandle(func(ctx context.Context, in *channel.Inbound) error {
		if in.Text == "hang" {
			<-stuck // ignores ctx: the core abandons the turn
		}
		return nil
	})
	h.receive("x", alice, "hang")
	h.next()
	m := h.receive("y", alice, "next")
	if in := h.next(); in.ID != string(m.ID) {
		t.Fatalf("dispatched %s", in.ID)
	}
}

func TestHandlerFailuresDoNotStopTheConsumer(t *testing.T) {
	h := newHarness(t, channel.Options{})
	h.onHandle(func(_ context.Context, in *channel.Inbound) error {
		switch in.Text {
		case "panic":
			panic("boom")
		case "fail":
			return context.DeadlineExceeded
		}
		return nil
	})
	h.receive("x", alice, "panic")
	h.next()
	h.receive("y", alice, "fail")
	h.next()
	m := h.receive("z", alice, "fine")
	if in := h.next(); in.ID != string(m.ID) {
		t.Fatalf("dispatched %s", in.ID)
	}
}

func TestContextMarkersCommitOnlyAfterSuccess(t *testing.T) {
	h := newHarness(t, channel.Options{})
	var fail atomic.Bool
	fail.Store(true)
	h.onHandle(func(_ context.Context, in *channel.Inbound) error {
		if in.ConversationID == "x" && fail.Load() {
			return context.Canceled
		}
		return nil
	})
	h.receive("y", alice, "elsewhere")
	h.next()
	h.receive("x", alice, "one")
	in := h.next()
	if len(in.Context.CrossConversation) != 1 || in.Context.CrossConversation[0].ConversationID != "y" || len(in.Context.CrossConversationMessages) != 1 {
		t.Fatalf("context %+v", in.Context)
	}
	h.receive("x", alice, "two")
	if in := h.next(); len(in.Context.CrossConversation) != 1 {
		t.Fatal("a failed handler committed the context markers")
	}
	fail.Store(false)
	h.receive("x", alice, "three")
	h.next()
	h.receive("x", alice, "four")
	if in := h.next(); len(in.Context.CrossConversation) != 0 || len(in.Context.CrossConversationMessages) != 0 {
		t.Fatalf("context after a successful turn %+v", in.Context)
	}
}
