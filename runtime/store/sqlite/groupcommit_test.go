package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// TestGroupCommitIsolatesFailures appends concurrently, some to a conversation that does
// not exist and some replying to a missing message: those fail alone, every other append
// is stored once with a gap-free seq.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	agent, _, conv := seed(t, ctx, s)
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent, Parts: []byte(`[]`), CreatedAt: time.Now()}
			switch i % 10 {
			case 3:
				m.ConversationID = newID[protocol.ConversationID]()
			case 7:
				m.ReplyToID = newID[protocol.MessageID]()
			}
			_, errs[i] = s.AppendMessage(ctx, m)
		}()
	}
	wg.Wait()
	stored := 0
	for i, err := range errs {
		switch {
		case i%10 == 3 || i%10 == 7:
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("append %d: err = %v, want ErrNotFound", i, err)
			}
		case err != nil:
			t.Errorf("append %d failed: %v", i, err)
		default:
			stored++
		}
	}
	msgs, _, err := s.ListMessages(ctx, conv, store.MessageViewer{SeesAll: true}, new(int64), n)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != stored {
		t.Fatalf("%d messages stored, want %d", len(msgs), stored)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: seqs must be 1..%d without gaps", i, m.Seq, stored)
		}
	}
}

// TestGroupCommitSkipsCancelledAppends: an append whose context ended before it was
// written is not stored and reports the context's error.
func TestGroupCommitSkipsCancelledAppends(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	agent, _, conv := seed(t, ctx, s)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.AppendMessage(cancelled, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent, Parts: []byte(`[]`), CreatedAt: time.Now()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled append: err = %v, want context.Canceled", err)
	}
	msgs, _, err := s.ListMessages(ctx, conv, store.MessageViewer{SeesAll: true}, nil, 10)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("after a cancelled append: %d messages, err %v; want none", len(msgs), err)
	}
}

// TestAppendAfterCloseFails: Close drains the queue; later appends fail.
func TestAppendAfterCloseFails(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	agent, _, conv := seed(t, ctx, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.AppendMessage(ctx, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent, Parts: []byte(`[]`), CreatedAt: time.Now()})
	if !errors.Is(err, errStoreClosed) {
		t.Fatalf("append after Close: err = %v, want errStoreClosed", err)
	}
}
