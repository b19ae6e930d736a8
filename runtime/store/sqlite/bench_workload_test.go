package sqlite

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// BenchmarkAppendWorkload measures AppendMessage (the group commit) in the shapes the
// server sees: many DM pairs each busy in its own conversation, and a few agents all
// sending to one group conversation. ns/op is the wall time per message with that many
// concurrent senders; cpu-ns/op is the CPU time of the whole process per message (all
// goroutines, the senders' own work included), less disturbed by other load on the machine.
func BenchmarkAppendWorkload(b *testing.B) {
	b.Run("32-senders-32-conversations", func(b *testing.B) { benchAppendSenders(b, 32, 32) })
	b.Run("8-senders-1-conversation", func(b *testing.B) { benchAppendSenders(b, 8, 1) })
}

// benchAppendSenders runs exactly senders goroutines (whatever GOMAXPROCS is) appending
// b.N messages in all; sender g writes to conversation g%convs, each conversation having
// its own sender agent and task.
func benchAppendSenders(b *testing.B, senders, convs int) {
	s, err := Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := b.Context()
	agents := make([]protocol.AgentID, convs)
	conv := make([]protocol.ConversationID, convs)
	for i := range convs {
		agents[i], _, conv[i] = seed(b, ctx, s)
	}
	now := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := processCPU()
	for g := range senders {
		wg.Go(func() {
			c := g % convs
			for next.Add(1) <= int64(b.N) {
				m := store.Message{ID: newID[protocol.MessageID](), ConversationID: conv[c], SenderID: agents[c],
					Parts: benchParts, CreatedAt: now}
				if _, err := s.AppendMessage(ctx, m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}
