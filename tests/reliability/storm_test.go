package reliability_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// TestReconnectStorm: 1,000 agents are connected (runtime/client, reconnecting on) in 10
// conversations of 100. The server is stopped with SIGTERM and restarted, then killed with
// SIGKILL and restarted, on the same address and data directory. After each restart all
// 1,000 clients are back and authenticated (each fired OnReconnect, is Connected and the
// server counts 1,000 connections) within reconnectBound. Messages are sent before the
// first stop and after each restart (every send must succeed); at the end each
// conversation's history holds every sent message exactly once, in seq order, nothing
// else; and an observer in each conversation received every message of every phase live.
func TestReconnectStorm(t *testing.T) {
	const (
		nAgents        = 1000
		groupSize      = 100
		sendersPer     = 5
		reconnectBound = 45 * time.Second
	)
	srv := startServer(t, freeAddr(t), t.TempDir())
	agents := registerAgents(t, srv.url(), "storm", nAgents)

	var reconnected atomic.Int64
	clients := make([]*client.Client, nAgents)
	// observed[g] counts the messages/received of group g's observer, by message id.
	nGroups := nAgents / groupSize
	var obsMu sync.Mutex
	observed := make([]map[protocol.MessageID]int, nGroups)
	for g := range observed {
		observed[g] = map[protocol.MessageID]int{}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range agents {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			clients[i] = dialAgent(t, srv.url(), agents[i], false, func(o *client.Options) {
				o.OnReconnect = func(protocol.HelloOk) { reconnected.Add(1) }
			})
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	groups := make([]group, nGroups)
	for g := range groups {
		base := g * groupSize
		groups[g] = newGroup(t, clients[base], fmt.Sprintf("storm-%d", g), agents[base+1:base+groupSize])
		// The observer is the group's last member, which never sends.
		client.On(clients[base+groupSize-1], func(n protocol.MessagesReceivedNotification) {
			obsMu.Lock()
			observed[g][n.Message.ID]++
			obsMu.Unlock()
		})
	}

	acked := make([]map[protocol.MessageID]ackedMsg, nGroups)
	for g := range acked {
		acked[g] = map[protocol.MessageID]ackedMsg{}
	}
	// send has the first sendersPer members of every group send one message each, all
	// concurrently, and waits until every observer has received them.
	send := func(phase string) {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := range groups {
			for s := 0; s < sendersPer; s++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					txt := fmt.Sprintf("%s-g%d-s%d", phase, g, s)
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					res, err := clients[g*groupSize+s].MessagesSend(ctx, protocol.MessagesSendParams{TaskID: groups[g].Task, ConversationID: groups[g].Conv, Parts: text(txt)})
					if err != nil {
						t.Errorf("%s: send %s: %v", phase, txt, err)
						return
					}
					mu.Lock()
					acked[g][res.Message.ID] = ackedMsg{Seq: res.Message.Seq, Text: txt}
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		ok := waitFor(30*time.Second, func() bool {
			obsMu.Lock()
			defer obsMu.Unlock()
			for g := range groups {
				for id := range acked[g] {
					if observed[g][id] == 0 {
						return false
					}
				}
			}
			return true
		})
		if !ok {
			t.Fatalf("%s: an observer did not receive every message within 30 s", phase)
		}
	}
	// back waits until all clients have reconnected once more and are connected.
	back := func(phase string, want int64) {
		t.Helper()
		start := time.Now()
		ok := waitFor(reconnectBound, func() bool {
			if reconnected.Load() < want {
				return false
			}
			for _, c := range clients {
				if c.State() != client.Connected {
					return false
				}
			}
			return srv.connections() == nAgents
		})
		if !ok {
			n := 0
			for _, c := range clients {
				if c.State() == client.Connected {
					n++
				}
			}
			t.Fatalf("%s: after %v only %d reconnects of %d, %d clients connected, server counts %d connections",
				phase, reconnectBound, reconnected.Load()-(want-nAgents), nAgents, n, srv.connections())
		}
		if got := reconnected.Load(); got != want {
			t.Fatalf("%s: %d reconnects, want exactly %d", phase, got, want)
		}
		t.Logf("%s: all %d clients reconnected and authenticated %v after the restart", phase, nAgents, time.Since(start).Round(time.Millisecond))
	}

	send("before")
	srv.sigterm()
	srv = srv.restart()
	back("after SIGTERM", nAgents)
	send("after-sigterm")

	srv.kill9()
	srv = srv.restart()
	back("after kill -9", 2*nAgents)
	send("after-kill9")

	for g := range groups {
		hist := history(t, clients[g*groupSize], groups[g])
		if extra := checkHistory(t, fmt.Sprintf("group %d", g), hist, acked[g]); extra != 0 {
			t.Errorf("group %d: history has %d messages that were never sent", g, extra)
		}
		if len(hist) != 3*sendersPer {
			t.Errorf("group %d: history has %d messages, want %d", g, len(hist), 3*sendersPer)
		}
		obsMu.Lock()
		for id, n := range observed[g] {
			if n != 1 {
				t.Errorf("group %d: observer received message %s %d times", g, id, n)
			}
		}
		obsMu.Unlock()
	}
}
