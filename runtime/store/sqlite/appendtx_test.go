package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// newAppendReq prepares m as AppendMessage does (a pending decision, no tagged entities).
func newAppendReq(ctx context.Context, m store.Message) *appendReq {
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Microsecond)
	m.Decision = store.Decision{Tag: store.DecisionPending}
	return &appendReq{ctx: ctx, m: m, decisionJSON: pendingJSON, at: toMicro(m.CreatedAt), done: make(chan error, 1)}
}

// commitBatch commits reqs as one batch of the group commit and returns each outcome.
func commitBatch(s *Store, reqs []*appendReq) []error {
	s.appends.commit(reqs)
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		errs[i] = <-r.done
	}
	return errs
}

// checkHistory checks that conversation conv holds exactly want, in seq order 1..len(want),
// with the seqs and task the appends were answered with.
func checkHistory(t *testing.T, s *Store, conv protocol.ConversationID, want []*appendReq) {
	t.Helper()
	got, _, err := s.ListMessages(t.Context(), conv, store.MessageViewer{SeesAll: true}, new(int64), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("conversation %s holds %d messages, want %d", conv, len(got), len(want))
	}
	for i, m := range got {
		w := want[i].m
		if m.ID != w.ID || m.Seq != int64(i+1) || w.Seq != m.Seq || m.TaskID != w.TaskID || m.ReplyToID != w.ReplyToID {
			t.Fatalf("conversation %s message %d: stored %s seq %d task %s, answered %s seq %d task %s; want seqs 1..%d in batch order",
				conv, i, m.ID, m.Seq, m.TaskID, w.ID, w.Seq, w.TaskID, len(want))
		}
	}
}

// TestGroupCommitBatchAcrossConversations writes one batch of appends to more
// conversations than one multi-row statement takes, several to each, one a reply to an
// earlier append of the same batch: every append is stored with the seqs of its
// conversation in batch order, and each conversation's last message time is its latest.
func TestGroupCommitBatchAcrossConversations(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const convs = 1<<maxRowsLog2 + 5
	agents := make([]protocol.AgentID, convs)
	ids := make([]protocol.ConversationID, convs)
	for i := range convs {
		agents[i], _, ids[i] = seed(t, ctx, s)
	}
	base := time.Now()
	var batch []*appendReq
	byConv := map[protocol.ConversationID][]*appendReq{}
	for i := range maxAppendBatch {
		c := i % convs
		if i%7 == 0 {
			c = 0 // conversation 0 gets more appends than the others
		}
		m := store.Message{ID: newID[protocol.MessageID](), ConversationID: ids[c], SenderID: agents[c], Parts: []byte(`[]`),
			CreatedAt: base.Add(time.Duration(i%50) * time.Second)}
		if prev := byConv[ids[c]]; len(prev) > 0 && i%11 == 0 {
			m.ReplyToID = prev[len(prev)-1].m.ID // written earlier in this very batch
		}
		r := newAppendReq(ctx, m)
		batch = append(batch, r)
		byConv[ids[c]] = append(byConv[ids[c]], r)
	}
	// Written as the group commit writes a batch first, without savepoints: that must not
	// fail (the retry with savepoints would hide a failure).
	if err := s.write(ctx, func(tx *txn) error {
		var w appendTx
		w.bind(ctx, tx, s.st)
		defer w.unbind()
		i, err := w.writeAll(batch, make([]error, len(batch)))
		if err != nil {
			return fmt.Errorf("append %d: %w", i, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, conv := range ids {
		want := byConv[conv]
		checkHistory(t, s, conv, want)
		latest := want[0].m.CreatedAt
		for _, r := range want {
			if r.m.CreatedAt.After(latest) {
				latest = r.m.CreatedAt
			}
		}
		c, err := s.GetConversation(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		if c.LastMessageAt == nil || !c.LastMessageAt.Equal(latest) || c.UpdatedAt.Before(latest) {
			t.Fatalf("conversation %s: last message at %v, updated %v; want %v", conv, c.LastMessageAt, c.UpdatedAt, latest)
		}
	}
}

// TestGroupCommitBatchFailures commits batches mixing good appends with each kind of
// failing one: each failing append fails alone with its own error, and the others are
// stored with gap-free seqs in batch order.
func TestGroupCommitBatchFailures(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	agentA, _, convA := seed(t, ctx, s)
	agentB, _, convB := seed(t, ctx, s)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	good := func(conv protocol.ConversationID, sender protocol.AgentID) store.Message {
		return store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: sender, Parts: []byte(`[]`), CreatedAt: time.Now()}
	}
	first := good(convA, agentA)
	failing := []struct {
		name   string
		ctx    context.Context
		mutate func(*store.Message)
		want   error
	}{
		{"unknown conversation", ctx, func(m *store.Message) { m.ConversationID = newID[protocol.ConversationID]() }, store.ErrNotFound},
		{"unknown sender", ctx, func(m *store.Message) { m.SenderID = newID[protocol.AgentID]() }, store.ErrNotFound},
		{"unknown reply target", ctx, func(m *store.Message) { m.ReplyToID = newID[protocol.MessageID]() }, store.ErrNotFound},
		{"reply target in another conversation", ctx, func(m *store.Message) { m.ConversationID, m.SenderID, m.ReplyToID = convB, agentB, first.ID }, store.ErrNotFound},
		{"id taken in the same batch", ctx, func(m *store.Message) { m.ID = first.ID }, store.ErrConflict},
		{"task not the conversation's", ctx, func(m *store.Message) { m.TaskID = newID[protocol.TaskID]() }, store.ErrInvalid},
		{"cancelled", cancelled, func(*store.Message) {}, context.Canceled},
	}
	var wantA, wantB []*appendReq
	for round, f := range failing {
		var batch []*appendReq
		add := func(m store.Message) {
			r := newAppendReq(ctx, m)
			batch = append(batch, r)
			if m.ConversationID == convA {
				wantA = append(wantA, r)
			} else {
				wantB = append(wantB, r)
			}
		}
		if round == 0 {
			add(first)
		}
		add(good(convA, agentA))
		add(good(convB, agentB))
		bad := good(convA, agentA)
		f.mutate(&bad)
		badReq := newAppendReq(f.ctx, bad)
		batch = append(batch, badReq)
		add(good(convA, agentA))
		add(good(convB, agentB))
		errs := commitBatch(s, batch)
		for i, err := range errs {
			if batch[i] == badReq {
				if !errors.Is(err, f.want) {
					t.Errorf("%s: err = %v, want %v", f.name, err, f.want)
				}
			} else if err != nil {
				t.Errorf("%s: good append %d failed: %v", f.name, i, err)
			}
		}
	}
	checkHistory(t, s, convA, wantA)
	checkHistory(t, s, convB, wantB)
}
