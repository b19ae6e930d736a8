package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// TestKill9UnderLoad: 6 senders write concurrently into one conversation; the server is
// killed with SIGKILL in the middle of the load and restarted on the same data directory,
// 5 times. After every restart, every message whose messages/send returned a result (in
// this round and every earlier one) is in messages/list history exactly once, with the
// acknowledged seq and text, and the history is in strictly increasing seq order with no
// repeated id. A message sent but not acknowledged may or may not be there.
func TestKill9UnderLoad(t *testing.T) {
	const (
		senders = 6
		rounds  = 5
	)
	srv := startServer(t, freeAddr(t), t.TempDir())
	agents := registerAgents(t, srv.url(), "crash", senders)
	owner := dialAgent(t, srv.url(), agents[0], true, nil)
	g := newGroup(t, owner, "crash-load", agents[1:])
	_ = owner.Close()

	acked := map[protocol.MessageID]ackedMsg{}
	var mu sync.Mutex
	for round := 1; round <= rounds; round++ {
		clients := make([]*client.Client, senders)
		for i, a := range agents {
			clients[i] = dialAgent(t, srv.url(), a, true, nil)
		}
		var wg sync.WaitGroup
		counts := make([]int, senders)
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					txt := fmt.Sprintf("r%d-s%d-%d", round, i, n)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					res, err := c.MessagesSend(ctx, protocol.MessagesSendParams{TaskID: g.Task, ConversationID: g.Conv, Parts: text(txt)})
					cancel()
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					acked[res.Message.ID] = ackedMsg{Seq: res.Message.Seq, Text: txt}
					counts[i]++
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Second + rand.N(time.Second)) // 1-2 s of load, then crash mid-stream
		srv.kill9()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: senders still blocked 20 s after kill -9", round)
		}
		for _, c := range clients {
			_ = c.Close()
		}
		mu.Lock()
		total := 0
		for i, n := range counts {
			if n == 0 {
				t.Errorf("round %d: sender %d had no message acknowledged before the crash", round, i)
			}
			total += n
		}
		mu.Unlock()

		srv = srv.restart()
		reader := dialAgent(t, srv.url(), agents[0], true, nil)
		hist := history(t, reader, g)
		_ = reader.Close()
		mu.Lock()
		extra := checkHistory(t, fmt.Sprintf("round %d", round), hist, acked)
		n := len(acked)
		mu.Unlock()
		t.Logf("round %d: %d acknowledged this round, %d in total; history %d (%d sent but unacknowledged at the crash)", round, total, n, len(hist), extra)
		if t.Failed() {
			t.FailNow()
		}
	}
}
