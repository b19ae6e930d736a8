package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func benchStore(b *testing.B) (*Store, protocol.AgentID, protocol.ConversationID) {
	b.Helper()
	s, err := Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	agent, _, conv := seed(b, b.Context(), s)
	return s, agent, conv
}

var benchParts = []byte(`[{"type":"text","text":"hello, this is a benchmark message of moderate size"}]`)

func BenchmarkAppendMessage(b *testing.B) {
	s, agent, conv := benchStore(b)
	ctx := b.Context()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.AppendMessage(ctx, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent,
			Parts: benchParts, CreatedAt: now.Add(time.Duration(i) * time.Microsecond)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendMessageParallel measures 32 concurrent appenders to one conversation with
// the group commit (AppendMessage) against one transaction per append (the baseline the
// group commit replaced, appendDirect), in the same run.
func BenchmarkAppendMessageParallel(b *testing.B) {
	for _, mode := range []string{"txn-per-append", "group-commit"} {
		b.Run(mode, func(b *testing.B) {
			s, agent, conv := benchStore(b)
			ctx := b.Context()
			now := time.Now()
			b.SetParallelism(16) // 32 goroutines on 2 cores
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m := store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent, Parts: benchParts, CreatedAt: now}
					var err error
					if mode == "group-commit" {
						_, err = s.AppendMessage(ctx, m)
					} else {
						err = s.appendDirect(ctx, m)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// appendDirect is the append as it was before the group commit: one write transaction per
// message (the baseline of BenchmarkAppendMessageParallel).
func (s *Store) appendDirect(ctx context.Context, m store.Message) error {
	r := &appendReq{ctx: ctx, m: m, decisionJSON: pendingJSON, at: toMicro(m.CreatedAt)}
	r.m.Decision = store.Decision{Tag: store.DecisionPending}
	return s.write(ctx, func(tx *txn) error {
		var w appendTx
		w.bind(ctx, tx, s.st)
		_, err := w.writeAll([]*appendReq{r}, make([]error, 1))
		return err
	})
}

func BenchmarkListMessages(b *testing.B) {
	s, agent, conv := benchStore(b)
	ctx := b.Context()
	now := time.Now()
	for i := range 1000 {
		m, err := s.AppendMessage(ctx, store.Message{ID: newID[protocol.MessageID](), ConversationID: conv, SenderID: agent,
			Parts: benchParts, CreatedAt: now.Add(time.Duration(i) * time.Microsecond)})
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := s.SetMessageDecision(ctx, m.ID, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{agent}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	since500 := int64(500)
	for _, bc := range []struct {
		name   string
		viewer store.MessageViewer
		since  *int64
	}{
		{"newest50/tm", store.MessageViewer{AgentID: agent, SeesAll: true}, nil},
		{"newest50/member", store.MessageViewer{AgentID: "someone-else"}, nil},
		{"since500/tm", store.MessageViewer{AgentID: agent, SeesAll: true}, &since500},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.ListMessages(ctx, conv, bc.viewer, bc.since, 50); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
