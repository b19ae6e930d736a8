package store

import "testing"

func TestValid(t *testing.T) {
	for _, s := range []AgentStatus{AgentPendingClaim, AgentActive, AgentSuspended} {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
	}
	if AgentStatus("x").Valid() || TaskStatus("").Valid() || ConversationType("channel").Valid() {
		t.Error("unknown value reported valid")
	}
	for _, s := range []TaskStatus{TaskWaiting, TaskActive, TaskFailed, TaskClosed} {
		if !s.Valid() || s.Terminal() != (s == TaskFailed || s == TaskClosed) {
			t.Errorf("%q: Valid/Terminal wrong", s)
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
	c := Contact{ID: "c", OwnerUserID: "req", ContactUserID: "tgt", Direction: ContactOutgoing}
	in, ok := c.ForViewer("tgt")
	if !ok || in.OwnerUserID != "tgt" || in.ContactUserID != "req" || in.Direction != ContactIncoming {
		t.Fatalf("ForViewer(target) = %+v", in)
	}
	if in.RequesterUserID() != "req" || in.TargetUserID() != "tgt" {
		t.Fatalf("requester/target from the target's view: %q %q", in.RequesterUserID(), in.TargetUserID())
	}
	if back, _ := in.ForViewer("req"); back != c {
		t.Fatalf("round trip = %+v", back)
	}
}

func TestCanSee(t *testing.T) {
	m := Message{SenderID: "a", Decision: Decision{Tag: DecisionForward, Recipients: []string{"b"}}}
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
