package channel_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/channel"
)

func archive(h *harness, conv string) {
	h.conn.Notify(protocol.TaskConversationArchivedNotification{TaskID: task, ConversationID: protocol.ConversationID(conv), ArchivedAt: "2026-01-01T00:00:00.000Z"})
}

func unarchive(h *harness, conv string) {
	h.conn.Notify(protocol.TaskConversationUnarchivedNotification{TaskID: task, ConversationID: protocol.ConversationID(conv)})
}

func TestArchivedConversationDropsQueuedAndFutureMessages(t *testing.T) {
	h := newHarness(t, channel.Options{})
	g := make(gate)
	h.onHandle(func(_ context.Context, in *channel.Inbound) error {
		if in.Text == "gate" {
			<-g
		}
		return nil
	})
	h.receive("z", alice, "gate")
	h.next()
	h.receive("x", alice, "queued 1")
	y1 := h.receive("y", alice, "y1")
	h.receive("x", alice, "queued 2")
	archive(h, "x")
	h.receive("x", alice, "after archive")
	g.open()
	if in := h.next(); !slices.Equal(msgIDs(in), ids(y1)) {
		t.Fatalf("batch %v, want only y1", msgIDs(in))
	}
	h.none(50 * time.Millisecond)
	unarchive(h, "x")
	x := h.receive("x", alice, "reopened")
	if in := h.next(); !slices.Equal(msgIDs(in), ids(x)) {
		t.Fatalf("batch %v after unarchive", msgIDs(in))
	}
}

func TestArchiveDropsParkedItems(t *testing.T) {
	h := newHarness(t, channel.DefaultOptions())
	h.script(true, func(n int, _ protocol.DispatchRequestParams) protocol.DispatchAdmissionDecision {
		if n == 1 {
			return protocol.DispatchHold{}
		}
		return grant()
	})
	x1 := h.receive("x", alice, "held")
	y1 := h.receive("y", alice, "fence")
	h.next() // y1: x1 is parked by now
	archive(h, "x")
	unarchive(h, "x")
	x2 := h.receive("x", alice, "fresh")
	in := h.next()
	if !slices.Equal(msgIDs(in), ids(x2)) {
		t.Fatalf("batch %v: the parked %s must have been dropped", msgIDs(in), x1.ID)
	}
	want := []string{string(x1.ID) + "/0", string(y1.ID) + "/0", string(x2.ID) + "/0"}
	if got := requested(h.conn); !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
}

func TestReplyToAnArchivedConversationIsDropped(t *testing.T) {
	h := newHarness(t, channel.Options{})
	errs := make(chan error, 1)
	h.onHandle(func(ctx context.Context, in *channel.Inbound) error {
		archive(h, in.ConversationID)
		errs <- h.core.Reply(ctx, "too late")
		return nil
	})
	h.receive("x", alice, "hi")
	h.next()
	if err := <-errs; err != nil {
		t.Fatalf("reply: %v", err)
	}
	if n := len(h.conn.Sent()); n != 0 {
		t.Fatalf("%d messages sent into an archived conversation", n)
	}
}

func TestRunTwiceAndStop(t *testing.T) {
	h := newHarness(t, channel.Options{})
	h.receive("x", alice, "proves the harness's Run is active")
	h.next()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.core.Run(ctx); err != channel.ErrRunning {
		t.Fatalf("second Run: %v", err)
	}
}
