package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func messageCases() []testCase {
	return []testCase{
		{"Messages/AppendAndGet", testMessageAppendAndGet},
		{"Messages/AppendErrors", testMessageAppendErrors},
		{"Messages/SeqPerConversation", testMessageSeqPerConversation},
		{"Messages/Decision", testMessageDecision},
		{"Messages/DecisionAtAppend", testMessageDecisionAtAppend},
		{"Messages/ListNewest", testMessageListNewest},
		{"Messages/ListForwardPaging", testMessageListForward},
		{"Messages/Visibility", testMessageVisibility},
	}
}

// seqs extracts the seq numbers of ms.
func seqs(ms []store.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// messageIDs extracts the ids of ms.
func messageIDs(ms []store.Message) []protocol.MessageID {
	out := make([]protocol.MessageID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testMessageAppendAndGet(t *testing.T, e *env) {
	ids := e.agents("ag", 2)
	task := e.task(ids[0], ids[1])
	c := e.conv(task, ids[0], ids[1])

	in := e.newMessage(c, ids[0])
	in.Parts = []byte{0, 1, 2, 0xff, '"'} // opaque bytes
	in.TaggedEntities = []protocol.AgentID{ids[1]}
	first, err := e.s.AppendMessage(e.ctx, in)
	must(t, err, "AppendMessage")
	want := in
	want.TaskID = task.ID
	want.Seq = first.Seq
	want.Decision = store.Decision{Tag: store.DecisionPending}
	same(t, first, want, "AppendMessage result")
	if first.Seq <= 0 {
		t.Fatalf("seq = %d, want > 0", first.Seq)
	}
	stored, err := e.s.GetMessage(e.ctx, in.ID)
	must(t, err, "GetMessage")
	same(t, stored, want, "GetMessage")
	if !bytes.Equal(stored.Parts, in.Parts) {
		t.Fatalf("parts = %v", stored.Parts)
	}

	reply := e.newMessage(c, ids[1])
	reply.TaskID = task.ID
	reply.ReplyToID = first.ID
	second, err := e.s.AppendMessage(e.ctx, reply)
	must(t, err, "AppendMessage reply")
	if second.Seq <= first.Seq || second.ReplyToID != first.ID || second.TaggedEntities != nil {
		t.Fatalf("reply = %+v", second)
	}
	got, err := e.s.GetMessage(e.ctx, reply.ID)
	must(t, err, "GetMessage reply")
	same(t, got, second, "stored reply")

	conv, err := e.s.GetConversation(e.ctx, c.ID)
	must(t, err, "GetConversation")
	if conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(reply.CreatedAt) || !conv.UpdatedAt.Equal(reply.CreatedAt) {
		t.Fatalf("conversation not touched by append: %+v", conv)
	}
	_, err = e.s.GetMessage(e.ctx, newMessageID())
	wantErr(t, err, store.ErrNotFound, "GetMessage unknown")
}

func testMessageAppendErrors(t *testing.T, e *env) {
	ids := e.agents("ag", 2)
	task := e.task(ids[0], ids[1])
	c := e.conv(task, ids[0], ids[1])
	other := e.conv(e.task(ids[0]), ids[0])
	m := e.msg(c, ids[0])
	foreign := e.msg(other, ids[0])

	appendWith := func(mutate func(*store.Message)) error {
		in := e.newMessage(c, ids[0])
		mutate(&in)
		_, err := e.s.AppendMessage(e.ctx, in)
		return err
	}
	wantErr(t, appendWith(func(x *store.Message) { x.ConversationID = newConvID() }), store.ErrNotFound, "unknown conversation")
	wantErr(t, appendWith(func(x *store.Message) { x.SenderID = newAgentID() }), store.ErrNotFound, "unknown sender")
	wantErr(t, appendWith(func(x *store.Message) { x.ReplyToID = newMessageID() }), store.ErrNotFound, "unknown reply target")
	wantErr(t, appendWith(func(x *store.Message) { x.ReplyToID = foreign.ID }), store.ErrNotFound, "reply target in another conversation")
	wantErr(t, appendWith(func(x *store.Message) { x.ID = m.ID }), store.ErrConflict, "taken id")
	wantErr(t, appendWith(func(x *store.Message) { x.TaskID = newTaskID() }), store.ErrInvalid, "task not the conversation's")
	wantErr(t, appendWith(func(x *store.Message) { x.Parts = nil }), store.ErrInvalid, "no parts")
	wantErr(t, appendWith(func(x *store.Message) { x.ID = "" }), store.ErrInvalid, "no id")

	// Failed appends store nothing and take no seq: the next one follows at once.
	next := e.msg(c, ids[1])
	if next.Seq != m.Seq+1 {
		t.Fatalf("seq after failures = %d, previous %d: want no gap", next.Seq, m.Seq)
	}
	all, _, err := e.s.ListMessages(e.ctx, c.ID, store.MessageViewer{SeesAll: true}, nil, 100)
	must(t, err, "ListMessages")
	same(t, messageIDs(all), []protocol.MessageID{m.ID, next.ID}, "stored messages")
}

func testMessageSeqPerConversation(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	task := e.task(a)
	c1, c2 := e.conv(task, a), e.conv(task, a)
	last := map[protocol.ConversationID]int64{}
	for i := range 20 {
		c := c1
		if i%3 == 0 {
			c = c2
		}
		m := e.msg(c, a)
		if m.Seq <= last[c.ID] {
			t.Fatalf("conversation %s: seq %d after %d", c.ID, m.Seq, last[c.ID])
		}
		last[c.ID] = m.Seq
	}
	for _, c := range []store.Conversation{c1, c2} {
		ms, _, err := e.s.ListMessages(e.ctx, c.ID, store.MessageViewer{SeesAll: true}, nil, 100)
		must(t, err, "ListMessages")
		for i := 1; i < len(ms); i++ {
			if ms[i].Seq <= ms[i-1].Seq {
				t.Fatalf("not ascending: %v", seqs(ms))
			}
			if ms[i].ConversationID != c.ID {
				t.Fatal("message of another conversation listed")
			}
		}
	}
}

func testMessageDecision(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	c := e.conv(e.task(ids[0], ids[1], ids[2]), ids[0], ids[1], ids[2])
	m := e.msg(c, ids[0])

	fwd := store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{ids[1], ids[2]}, Reason: "ignored"}
	got, err := e.s.SetMessageDecision(e.ctx, m.ID, fwd)
	must(t, err, "SetMessageDecision")
	wantD := store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{ids[1], ids[2]}}
	same(t, got, wantD, "winning decision")
	stored, err := e.s.GetMessage(e.ctx, m.ID)
	must(t, err, "GetMessage")
	same(t, stored.Decision, wantD, "stored decision")

	cur, err := e.s.SetMessageDecision(e.ctx, m.ID, store.Decision{Tag: store.DecisionBlock, Reason: "late"})
	wantErr(t, err, store.ErrStateChanged, "second decision")
	same(t, cur, wantD, "decision returned with ErrStateChanged")

	blocked := e.msg(c, ids[1])
	got, err = e.s.SetMessageDecision(e.ctx, blocked.ID, store.Decision{Tag: store.DecisionBlock, Reason: "spam", Recipients: []protocol.AgentID{ids[0]}})
	must(t, err, "block")
	same(t, got, store.Decision{Tag: store.DecisionBlock, Reason: "spam"}, "block decision")
	stored, err = e.s.GetMessage(e.ctx, blocked.ID)
	must(t, err, "GetMessage blocked")
	same(t, stored.Decision, got, "stored block")

	empty := e.msg(c, ids[1])
	got, err = e.s.SetMessageDecision(e.ctx, empty.ID, store.Decision{Tag: store.DecisionForward})
	must(t, err, "forward to nobody")
	same(t, got, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{}}, "forward to nobody")
	stored, err = e.s.GetMessage(e.ctx, empty.ID)
	must(t, err, "GetMessage")
	same(t, stored.Decision, got, "stored forward to nobody")

	_, err = e.s.SetMessageDecision(e.ctx, newMessageID(), fwd)
	wantErr(t, err, store.ErrNotFound, "unknown message")
	p := e.msg(c, ids[0])
	_, err = e.s.SetMessageDecision(e.ctx, p.ID, store.Decision{Tag: store.DecisionPending})
	wantErr(t, err, store.ErrInvalid, "pending is not a decision")
	_, err = e.s.SetMessageDecision(e.ctx, p.ID, store.Decision{Tag: "maybe"})
	wantErr(t, err, store.ErrInvalid, "unknown tag")
	stored, err = e.s.GetMessage(e.ctx, p.ID)
	must(t, err, "GetMessage")
	same(t, stored.Decision, store.Decision{Tag: store.DecisionPending}, "still pending")
}

func testMessageListNewest(t *testing.T, e *env) {
	a := e.agents("ag", 1)[0]
	c := e.conv(e.task(a), a)
	var all []store.Message
	for range 60 {
		all = append(all, e.msg(c, a))
	}
	tm := store.MessageViewer{AgentID: a, SeesAll: true}

	got, more, err := e.s.ListMessages(e.ctx, c.ID, tm, nil, 3)
	must(t, err, "ListMessages newest 3")
	same(t, got, all[57:], "newest 3, ascending")
	if !more {
		t.Fatal("hasMore = false with older rows left")
	}
	got, more, err = e.s.ListMessages(e.ctx, c.ID, tm, nil, 60)
	must(t, err, "ListMessages all")
	if more || len(got) != 60 {
		t.Fatalf("limit 60: %d rows, hasMore %v", len(got), more)
	}
	same(t, messageIDs(got), messageIDs(all), "all rows")
	got, more, err = e.s.ListMessages(e.ctx, c.ID, tm, nil, 0)
	must(t, err, "ListMessages default limit")
	if !more || len(got) != store.DefaultLimit {
		t.Fatalf("default limit: %d rows, hasMore %v", len(got), more)
	}
	same(t, messageIDs(got), messageIDs(all[10:]), "default limit = newest 50")

	got, more, err = e.s.ListMessages(e.ctx, newConvID(), tm, nil, 10)
	must(t, err, "ListMessages unknown conversation")
	if len(got) != 0 || more {
		t.Fatalf("unknown conversation: %d rows, hasMore %v", len(got), more)
	}
}

func testMessageListForward(t *testing.T, e *env) {
	ids := e.agents("ag", 2)
	c := e.conv(e.task(ids[0], ids[1]), ids[0], ids[1])
	var all []store.Message
	for i := range 23 {
		all = append(all, e.msg(c, ids[i%2]))
	}
	tm := store.MessageViewer{SeesAll: true}
	for _, limit := range []int{1, 4, 5, 22, 23, 24} {
		var (
			got   []store.Message
			since = ptr(int64(0))
			pages int
		)
		for {
			page, more, err := e.s.ListMessages(e.ctx, c.ID, tm, since, limit)
			must(t, err, "ListMessages since")
			if len(page) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			got = append(got, page...)
			pages++
			if !more {
				break
			}
			if len(page) == 0 || pages > 30 {
				t.Fatalf("limit %d: hasMore without progress", limit)
			}
			since = ptr(page[len(page)-1].Seq)
		}
		same(t, messageIDs(got), messageIDs(all), fmt.Sprintf("limit %d: forward pages", limit))
		if want := (len(all) + limit - 1) / limit; pages != want {
			t.Fatalf("limit %d: %d pages", limit, pages)
		}
	}
	// From the middle: the oldest rows after sinceSeq.
	got, more, err := e.s.ListMessages(e.ctx, c.ID, tm, ptr(all[9].Seq), 3)
	must(t, err, "ListMessages from the middle")
	same(t, messageIDs(got), messageIDs(all[10:13]), "rows after seq 10")
	if !more {
		t.Fatal("hasMore = false in the middle")
	}
	got, more, err = e.s.ListMessages(e.ctx, c.ID, tm, ptr(all[22].Seq), 3)
	must(t, err, "ListMessages past the end")
	if len(got) != 0 || more {
		t.Fatalf("past the end: %d rows, hasMore %v", len(got), more)
	}
	// A new message after catching up is the next page.
	m := e.msg(c, ids[0])
	got, more, err = e.s.ListMessages(e.ctx, c.ID, tm, ptr(all[22].Seq), 3)
	must(t, err, "ListMessages new row")
	if len(got) != 1 || got[0].ID != m.ID || more {
		t.Fatalf("after a new message: %v, hasMore %v", messageIDs(got), more)
	}
}

func testMessageVisibility(t *testing.T, e *env) {
	ids := e.agents("ag", 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	conv := e.conv(e.task(a, b, c, d), a, b, c, d)
	decide := func(m store.Message, d store.Decision) {
		t.Helper()
		_, err := e.s.SetMessageDecision(e.ctx, m.ID, d)
		must(t, err, "SetMessageDecision")
	}
	m1 := e.msg(conv, a) // forward to b
	decide(m1, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{b}})
	m2 := e.msg(conv, b) // pending
	m3 := e.msg(conv, c) // forward to a, b
	decide(m3, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{a, b}})
	m4 := e.msg(conv, c) // blocked
	decide(m4, store.Decision{Tag: store.DecisionBlock, Reason: "no"})
	m5 := e.msg(conv, a) // pending
	m6 := e.msg(conv, d) // forward to nobody
	decide(m6, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{}})

	visible := map[protocol.AgentID][]store.Message{
		a: {m1, m3, m5},
		b: {m1, m2, m3},
		c: {m3, m4},
		d: {m6},
	}
	for viewer, want := range visible {
		v := store.MessageViewer{AgentID: viewer}
		got, more, err := e.s.ListMessages(e.ctx, conv.ID, v, nil, 10)
		must(t, err, "ListMessages")
		same(t, messageIDs(got), messageIDs(want), "visible newest-first mode")
		if more {
			t.Fatal("hasMore with everything returned")
		}
		got, _, err = e.s.ListMessages(e.ctx, conv.ID, v, ptr(int64(0)), 10)
		must(t, err, "ListMessages since")
		same(t, messageIDs(got), messageIDs(want), "visible forward mode")
	}
	// hasMore counts only visible rows.
	got, more, err := e.s.ListMessages(e.ctx, conv.ID, store.MessageViewer{AgentID: b}, nil, 2)
	must(t, err, "ListMessages b limit 2")
	same(t, messageIDs(got), messageIDs([]store.Message{m2, m3}), "b newest 2")
	if !more {
		t.Fatal("b: hasMore = false with m1 left")
	}
	got, more, err = e.s.ListMessages(e.ctx, conv.ID, store.MessageViewer{AgentID: b}, ptr(m1.Seq), 2)
	must(t, err, "ListMessages b since m1")
	same(t, messageIDs(got), messageIDs([]store.Message{m2, m3}), "b after m1")
	if more {
		t.Fatal("b: hasMore = true with only hidden rows left")
	}
	got, more, err = e.s.ListMessages(e.ctx, conv.ID, store.MessageViewer{AgentID: c}, ptr(m4.Seq), 2)
	must(t, err, "ListMessages c since m4")
	if len(got) != 0 || more {
		t.Fatalf("c after its last visible row: %v, %v", messageIDs(got), more)
	}

	// The task manager sees every row, whatever its AgentID.
	all, _, err := e.s.ListMessages(e.ctx, conv.ID, store.MessageViewer{AgentID: newAgentID(), SeesAll: true}, nil, 10)
	must(t, err, "ListMessages TM")
	same(t, messageIDs(all), messageIDs([]store.Message{m1, m2, m3, m4, m5, m6}), "TM sees all")
	// A stranger sees nothing.
	none, _, err := e.s.ListMessages(e.ctx, conv.ID, store.MessageViewer{AgentID: newAgentID()}, nil, 10)
	must(t, err, "ListMessages stranger")
	if len(none) != 0 {
		t.Fatalf("stranger sees %d rows", len(none))
	}
	// MessageViewer.CanSee agrees with the store.
	for viewer, want := range visible {
		v := store.MessageViewer{AgentID: viewer}
		var mine []protocol.MessageID
		for _, m := range all {
			if v.CanSee(m) {
				mine = append(mine, m.ID)
			}
		}
		same(t, mine, messageIDs(want), "CanSee")
	}
}

// testMessageDecisionAtAppend: a decision known before the insert is stored with the row;
// later compare-and-sets lose against it; visibility follows it at once.
func testMessageDecisionAtAppend(t *testing.T, e *env) {
	ids := e.agents("ag", 3)
	c := e.conv(e.task(ids[0], ids[1], ids[2]), ids[0], ids[1], ids[2])
	in := e.newMessage(c, ids[0])
	in.Decision = store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{ids[1]}, Reason: "dropped"}
	m, err := e.s.AppendMessage(e.ctx, in)
	must(t, err, "AppendMessage with a decision")
	want := store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{ids[1]}}
	same(t, m.Decision, want, "returned decision")
	stored, err := e.s.GetMessage(e.ctx, m.ID)
	must(t, err, "GetMessage")
	same(t, stored.Decision, want, "stored decision")
	cur, err := e.s.SetMessageDecision(e.ctx, m.ID, store.Decision{Tag: store.DecisionBlock})
	wantErr(t, err, store.ErrStateChanged, "decision after a decided append")
	same(t, cur, want, "the append's decision wins")
	for viewer, visible := range map[protocol.AgentID]bool{ids[1]: true, ids[2]: false} {
		ms, _, err := e.s.ListMessages(e.ctx, c.ID, store.MessageViewer{AgentID: viewer}, nil, 10)
		must(t, err, "ListMessages")
		if got := len(ms) == 1; got != visible {
			t.Fatalf("viewer %s sees the message: %v, want %v", viewer, got, visible)
		}
	}
	bad := e.newMessage(c, ids[0])
	bad.Decision = store.Decision{Tag: "maybe"}
	_, err = e.s.AppendMessage(e.ctx, bad)
	wantErr(t, err, store.ErrInvalid, "unknown decision tag")
	pending, err := e.s.AppendMessage(e.ctx, e.newMessage(c, ids[0]))
	must(t, err, "AppendMessage without a decision")
	same(t, pending.Decision, store.Decision{Tag: store.DecisionPending}, "default decision")
}
