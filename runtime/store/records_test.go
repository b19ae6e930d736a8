package store

import (
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestTerminal(t *testing.T) {
	for s, want := range map[protocol.TaskStatus]bool{
		protocol.TaskStatusWaiting: false,
		protocol.TaskStatusActive:  false,
		protocol.TaskStatusFailed:  true,
		protocol.TaskStatusClosed:  true,
	} {
		if got := (Task{Status: s}).Terminal(); got != want {
			t.Errorf("Task{Status: %q}.Terminal() = %v, want %v", s, got, want)
		}
	}
}

func TestEffectiveLimit(t *testing.T) {
	for in, want := range map[int]int{-1: DefaultLimit, 0: DefaultLimit, 1: 1, 200: 200} {
		if got := (Page{Limit: in}).EffectiveLimit(); got != want {
			t.Errorf("EffectiveLimit(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestContactPerspective(t *testing.T) {
	c := Contact{ID: "c", OwnerUserID: "req", ContactUserID: "tgt", Direction: protocol.ContactDirectionOutgoing}
	in, ok := c.ForViewer("tgt")
	if !ok || in.OwnerUserID != "tgt" || in.ContactUserID != "req" || in.Direction != protocol.ContactDirectionIncoming {
		t.Fatalf("ForViewer(target) = %+v", in)
	}
	if in.RequesterUserID() != "req" || in.TargetUserID() != "tgt" {
		t.Fatalf("requester/target from the target's view: %q %q", in.RequesterUserID(), in.TargetUserID())
	}
	if back, _ := in.ForViewer("req"); back != c {
		t.Fatalf("round trip = %+v", back)
	}
	if _, ok := c.ForViewer("other"); ok {
		t.Fatal("ForViewer(stranger) reported a party of the edge")
	}
}

func TestCanSee(t *testing.T) {
	m := Message{SenderID: "a", Decision: Decision{Tag: DecisionForward, Recipients: []protocol.AgentID{"b"}}}
	cases := []struct {
		v    MessageViewer
		want bool
	}{
		{MessageViewer{AgentID: "a"}, true},
		{MessageViewer{AgentID: "b"}, true},
		{MessageViewer{AgentID: "c"}, false},
		{MessageViewer{AgentID: "c", SeesAll: true}, true},
	}
	for _, c := range cases {
		if got := c.v.CanSee(m); got != c.want {
			t.Errorf("CanSee(%+v) = %v", c.v, got)
		}
	}
	m.Decision = Decision{Tag: DecisionBlock}
	if (MessageViewer{AgentID: "b"}).CanSee(m) {
		t.Error("blocked message visible to a non-sender")
	}
}
