// Package storetest is the conformance suite of store.Store: every
// implementation runs it from its own tests with
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... })
//
// open must return a fresh, empty and isolated store; it is called once per
// subtest, from parallel subtests. Run closes each store when its subtest
// ends.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// testCase is one subtest of the suite.
type testCase struct {
	name string
	fn   func(t *testing.T, e *env)
}

// suite lists every subtest, grouped by area.
func suite() []testCase {
	var cs []testCase
	cs = append(cs, agentCases()...)
	cs = append(cs, contactCases()...)
	cs = append(cs, taskCases()...)
	cs = append(cs, conversationCases()...)
	cs = append(cs, messageCases()...)
	cs = append(cs, concurrencyCases()...)
	return cs
}

// Run runs the conformance suite against the stores returned by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	for _, c := range suite() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.fn(t, newEnv(t, s))
		})
	}
}

// env is the per-subtest fixture: the store, a context and a clock.
type env struct {
	t   *testing.T
	s   store.Store
	ctx context.Context

	mu    sync.Mutex
	clock time.Time
	seq   int
}

func newEnv(t *testing.T, s store.Store) *env {
	return &env{
		t:     t,
		s:     s,
		ctx:   t.Context(),
		clock: time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC),
	}
}

// now returns a new instant, 1.001 ms after the previous one (microsecond
// precision, UTC).
func (e *env) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock = e.clock.Add(time.Millisecond + time.Microsecond)
	return e.clock
}

// next returns a counter value unique within the subtest.
func (e *env) next() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return e.seq
}

// newID returns a fresh UUIDv7 as an id of type T.
func newID[T ~string]() T { return T(uuid.Must(uuid.NewV7()).String()) }

// Fresh ids of each kind.
var (
	newAgentID   = newID[protocol.AgentID]
	newAppID     = newID[protocol.AppID]
	newContactID = newID[protocol.ContactID]
	newConvID    = newID[protocol.ConversationID]
	newMessageID = newID[protocol.MessageID]
	newTaskID    = newID[protocol.TaskID]
)

// newAgent returns an agent record (not stored) with unique credentials.
func (e *env) newAgent(name string, owner protocol.UserID) store.Agent {
	n := e.next()
	return store.Agent{
		ID:               newAgentID(),
		Name:             protocol.AgentName(name),
		Description:      "agent " + name,
		OwnerUserID:      owner,
		Status:           protocol.AgentStatusActive,
		APIKeyID:         fmt.Sprintf("%016x", n),
		APIKeySecretHash: fmt.Sprintf("%064x", n),
		ClaimToken:       fmt.Sprintf("MZAP-%032X", n),
		CreatedAt:        e.now(),
	}
}

// agent stores and returns a new active agent.
func (e *env) agent(name string, owner protocol.UserID) store.Agent {
	e.t.Helper()
	a, err := e.s.CreateAgent(e.ctx, e.newAgent(name, owner))
	must(e.t, err, "CreateAgent")
	return a
}

// agents stores n agents named prefix-i with no owner and returns their ids.
func (e *env) agents(prefix string, n int) []protocol.AgentID {
	e.t.Helper()
	ids := make([]protocol.AgentID, n)
	for i := range ids {
		ids[i] = e.agent(fmt.Sprintf("%s-%d", prefix, i), "").ID
	}
	return ids
}

// task stores a waiting task initiated by initiator with participants.
func (e *env) task(initiator protocol.AgentID, participants ...protocol.AgentID) store.Task {
	e.t.Helper()
	t, err := e.s.CreateTask(e.ctx, store.Task{
		ID: newTaskID(), AppID: newAppID(), InitiatorAgentID: initiator, CreatedAt: e.now(),
	}, append([]protocol.AgentID{initiator}, participants...))
	must(e.t, err, "CreateTask")
	return t
}

// conv stores a group conversation of task created by creator.
func (e *env) conv(task store.Task, creator protocol.AgentID, participants ...protocol.AgentID) store.Conversation {
	e.t.Helper()
	c, err := e.s.CreateConversation(e.ctx, store.Conversation{
		ID: newConvID(), TaskID: task.ID, Type: protocol.ConversationTypeGroup, CreatedBy: creator, CreatedAt: e.now(),
	}, append([]protocol.AgentID{creator}, participants...))
	must(e.t, err, "CreateConversation")
	return c
}

// newMessage returns a message record (not stored).
func (e *env) newMessage(c store.Conversation, sender protocol.AgentID) store.Message {
	return store.Message{
		ID:             newMessageID(),
		ConversationID: c.ID,
		SenderID:       sender,
		Parts:          []byte(fmt.Sprintf(`[{"type":"text","text":"m%d"}]`, e.next())),
		CreatedAt:      e.now(),
	}
}

// msg appends a message from sender to c.
func (e *env) msg(c store.Conversation, sender protocol.AgentID) store.Message {
	e.t.Helper()
	m, err := e.s.AppendMessage(e.ctx, e.newMessage(c, sender))
	must(e.t, err, "AppendMessage")
	return m
}

// must fails the test now when err is not nil.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", what, err, target)
	}
}

// same fails the test unless got and want have the same JSON encoding
// (times compare as RFC 3339 instants in their zone).
func same(t testing.TB, got, want any, what string) {
	t.Helper()
	g, err := json.Marshal(got)
	must(t, err, "marshal got")
	w, err := json.Marshal(want)
	must(t, err, "marshal want")
	if string(g) != string(w) {
		t.Fatalf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// agentIDs extracts the ids of agents.
func agentIDs(as []store.Agent) []protocol.AgentID {
	out := make([]protocol.AgentID, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// agentNames extracts the names of agents.
func agentNames(as []store.Agent) []protocol.AgentName {
	out := make([]protocol.AgentName, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

// sortedCopy returns a sorted copy of ss.
func sortedCopy[T ~string](ss []T) []T {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}
