package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func concurrencyCases() []testCase {
	return []testCase{
		{"Concurrency/AppendOneConversation", testConcurrentAppend},
		{"Concurrency/MixedWorkload", testConcurrentMixed},
	}
}

// testConcurrentAppend has 8 writers append 50 messages each to one
// conversation while readers page through it: every append succeeds, seqs
// are unique, each writer sees its seqs strictly increase, and the history
// holds every message exactly once in seq order.
func testConcurrentAppend(t *testing.T, e *env) {
	const writers, perWriter = 8, 50
	senders := e.agents("w", writers)
	c := e.conv(e.task(senders[0], senders[1:]...), senders[0], senders[1:]...)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		bySeq    = map[int64]protocol.MessageID{}
		done     = make(chan struct{})
		readerWG sync.WaitGroup
	)
	for r := range 2 {
		readerWG.Go(func() {
			viewer := store.MessageViewer{AgentID: senders[r], SeesAll: r == 0}
			for {
				select {
				case <-done:
					return
				default:
				}
				ms, _, err := e.s.ListMessages(e.ctx, c.ID, viewer, nil, 20)
				if err != nil {
					t.Errorf("reader: %v", err)
					return
				}
				for i := 1; i < len(ms); i++ {
					if ms[i].Seq <= ms[i-1].Seq {
						t.Errorf("reader saw seqs out of order: %v", seqs(ms))
						return
					}
				}
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			var last int64
			for i := range perWriter {
				m := e.newMessage(c, senders[w])
				m.Parts = fmt.Appendf(nil, `[{"type":"text","text":"w%d-%d"}]`, w, i)
				got, err := e.s.AppendMessage(e.ctx, m)
				if err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				if got.Seq <= last {
					t.Errorf("writer %d: seq %d after %d", w, got.Seq, last)
				}
				last = got.Seq
				mu.Lock()
				if prev, dup := bySeq[got.Seq]; dup {
					t.Errorf("seq %d assigned to %s and %s", got.Seq, prev, got.ID)
				}
				bySeq[got.Seq] = got.ID
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	readerWG.Wait()
	if t.Failed() {
		return
	}
	if len(bySeq) != writers*perWriter {
		t.Fatalf("%d distinct seqs, want %d", len(bySeq), writers*perWriter)
	}

	var (
		all   []store.Message
		since = ptr(int64(0))
	)
	for range 100 {
		page, more, err := e.s.ListMessages(e.ctx, c.ID, store.MessageViewer{SeesAll: true}, since, 64)
		must(t, err, "ListMessages")
		all = append(all, page...)
		if !more {
			break
		}
		since = ptr(page[len(page)-1].Seq)
	}
	if len(all) != writers*perWriter {
		t.Fatalf("history has %d messages, want %d", len(all), writers*perWriter)
	}
	for i, m := range all {
		if i > 0 && m.Seq <= all[i-1].Seq {
			t.Fatalf("history not in seq order at %d", i)
		}
		if bySeq[m.Seq] != m.ID {
			t.Fatalf("seq %d holds %s, appended %s", m.Seq, m.ID, bySeq[m.Seq])
		}
	}
}

// testConcurrentMixed runs unrelated writes and reads from many goroutines
// at once (agents, tasks, conversations, messages, decisions) and checks
// that none fails.
func testConcurrentMixed(t *testing.T, e *env) {
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var a store.Agent
			a, err := e.s.CreateAgent(e.ctx, e.newAgent(fmt.Sprintf("mixed-%d", w), ""))
			if err != nil {
				t.Errorf("worker %d CreateAgent: %v", w, err)
				return
			}
			if _, _, err := e.s.ClaimAgent(e.ctx, a.ClaimToken, protocol.UserID(fmt.Sprintf("owner-%d", w%3)), e.now()); err != nil {
				t.Errorf("worker %d ClaimAgent: %v", w, err)
				return
			}
			for r := range rounds {
				task, err := e.s.CreateTask(e.ctx, store.Task{ID: newTaskID(), AppID: newAppID(), InitiatorAgentID: a.ID, CreatedAt: e.now()}, []protocol.AgentID{a.ID})
				if err != nil {
					t.Errorf("worker %d CreateTask: %v", w, err)
					return
				}
				c, err := e.s.CreateConversation(e.ctx, store.Conversation{ID: newConvID(), TaskID: task.ID,
					Type: protocol.ConversationTypeGroup, CreatedBy: a.ID, CreatedAt: e.now()}, []protocol.AgentID{a.ID})
				if err != nil {
					t.Errorf("worker %d CreateConversation: %v", w, err)
					return
				}
				m, err := e.s.AppendMessage(e.ctx, e.newMessage(c, a.ID))
				if err != nil {
					t.Errorf("worker %d AppendMessage: %v", w, err)
					return
				}
				if _, err := e.s.SetMessageDecision(e.ctx, m.ID, store.Decision{Tag: store.DecisionForward, Recipients: []protocol.AgentID{a.ID}}); err != nil {
					t.Errorf("worker %d SetMessageDecision: %v", w, err)
					return
				}
				if _, err := e.s.ListConversationsForAgent(e.ctx, a.ID, store.Page{Limit: 5}); err != nil {
					t.Errorf("worker %d ListConversationsForAgent: %v", w, err)
					return
				}
				if _, err := e.s.ListVisibleAgents(e.ctx, a.ID, store.Page{}); err != nil {
					t.Errorf("worker %d ListVisibleAgents: %v", w, err)
					return
				}
				if r%3 == 0 {
					if _, _, err := e.s.CloseTask(e.ctx, task.ID, e.now()); err != nil {
						t.Errorf("worker %d CloseTask: %v", w, err)
						return
					}
				}
			}
			page, err := e.s.ListTasksForAgent(e.ctx, a.ID, store.Page{Limit: 100})
			if err != nil || len(page.Items) != rounds {
				t.Errorf("worker %d ListTasksForAgent: %d tasks, %v", w, len(page.Items), err)
			}
		})
	}
	wg.Wait()
}
