package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// maxGateEntries bounds each map of a gateStore; a full map is emptied (the next reads
// reload what is used).
const maxGateEntries = 50_000

// gateStore is the server's store with the facts every messages/send checks cached: a
// task's row, a conversation's task and archive state, a conversation's members; and the
// agents network/connect looks up by key. Every
// write that changes one of them goes through the gateStore's own methods, which drop the
// cached value after the write; a read that raced with such a write does not cache what
// it read (a generation counter tells). It is exact as long as this server is the only
// writer of the store (Config.SharedStore false).
type gateStore struct {
	store.Store

	gen atomic.Uint64 // bumped by every invalidation

	mu      sync.RWMutex
	tasks   map[protocol.TaskID]store.Task
	convs   map[protocol.ConversationID]convGate
	members map[protocol.ConversationID][]protocol.AgentID // as ConversationParticipants returns them
	keys    map[string]store.Agent                         // agents not suspended, by API key id (gatestore_agents.go)
	keyOf   map[protocol.AgentID]string                    // the key id each cached agent is under
	convsOf map[protocol.AgentID][]protocol.ConversationID // as ConversationIDsForAgent returns them
}

// convGate is what messages/send needs of a conversation.
type convGate struct {
	taskID     protocol.TaskID
	archivedAt *time.Time
}

func newGateStore(st store.Store) *gateStore {
	return &gateStore{Store: st,
		tasks:   map[protocol.TaskID]store.Task{},
		convs:   map[protocol.ConversationID]convGate{},
		members: map[protocol.ConversationID][]protocol.AgentID{},
		keys:    map[string]store.Agent{},
		keyOf:   map[protocol.AgentID]string{},
		convsOf: map[protocol.AgentID][]protocol.ConversationID{},
	}
}

// Ping passes store.Pinger through.
func (g *gateStore) Ping(ctx context.Context) error {
	if p, ok := g.Store.(store.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// put caches v under k in m unless an invalidation happened since gen was read.
func put[K comparable, V any](g *gateStore, m map[K]V, gen uint64, k K, v V) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen.Load() != gen {
		return
	}
	if len(m) >= maxGateEntries {
		clear(m)
	}
	m[k] = v
}

// cached answers k from m, or reads it with load and caches it unless an invalidation
// happened meanwhile (the value read is returned either way).
func cached[K comparable, V any](g *gateStore, m map[K]V, k K, load func() (V, error)) (V, error) {
	g.mu.RLock()
	v, ok := m[k]
	g.mu.RUnlock()
	if ok {
		return v, nil
	}
	gen := g.gen.Load()
	v, err := load()
	if err == nil {
		put(g, m, gen, k, v)
	}
	return v, err
}

// invalidate drops the cached facts of the tasks and conversations named.
func (g *gateStore) invalidate(tasks []protocol.TaskID, convs []protocol.ConversationID) {
	g.mu.Lock()
	g.gen.Add(1)
	for _, id := range tasks {
		delete(g.tasks, id)
	}
	for _, id := range convs {
		delete(g.convs, id)
		delete(g.members, id)
	}
	g.mu.Unlock()
}

// GetTask returns the task, cached.
func (g *gateStore) GetTask(ctx context.Context, id protocol.TaskID) (store.Task, error) {
	return cached(g, g.tasks, id, func() (store.Task, error) { return g.Store.GetTask(ctx, id) })
}

// conversationGate returns a conversation's task and archive state, cached; a missing
// conversation is store.ErrNotFound.
func (g *gateStore) conversationGate(ctx context.Context, id protocol.ConversationID) (convGate, error) {
	return cached(g, g.convs, id, func() (convGate, error) {
		cv, err := g.Store.GetConversation(ctx, id)
		if err != nil {
			return convGate{}, err
		}
		return convGate{taskID: cv.TaskID, archivedAt: cv.ArchivedAt}, nil
	})
}

// ConversationParticipants returns the members, cached (callers get their own copy).
func (g *gateStore) ConversationParticipants(ctx context.Context, id protocol.ConversationID) ([]protocol.AgentID, error) {
	ids, err := cached(g, g.members, id, func() ([]protocol.AgentID, error) { return g.Store.ConversationParticipants(ctx, id) })
	return slices.Clone(ids), err // the cached slice is never handed out
}

// IsConversationParticipant answers from the cached members.
func (g *gateStore) IsConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	g.mu.RLock()
	ids, ok := g.members[id]
	member := ok && slices.Contains(ids, agentID)
	g.mu.RUnlock()
	if ok {
		return member, nil // no copy: the cached slice is only read under the lock
	}
	ids, err := g.ConversationParticipants(ctx, id)
	if err != nil {
		return false, err
	}
	return slices.Contains(ids, agentID), nil
}

// The writes below change cached facts: each drops them once the store has answered
// (whatever it answered: a failed write may have partly happened in a lower layer).

// SetTaskStatus implements store.TaskStore.
func (g *gateStore) SetTaskStatus(ctx context.Context, id protocol.TaskID, from []protocol.TaskStatus, to protocol.TaskStatus, at time.Time) (store.Task, error) {
	defer g.invalidate([]protocol.TaskID{id}, nil)
	return g.Store.SetTaskStatus(ctx, id, from, to, at)
}

// CloseTask implements store.TaskStore.
func (g *gateStore) CloseTask(ctx context.Context, id protocol.TaskID, at time.Time) (store.Task, []protocol.ConversationID, error) {
	t, archived, err := g.Store.CloseTask(ctx, id, at)
	g.invalidate([]protocol.TaskID{id}, archived)
	return t, archived, err
}

// RemoveTaskParticipant implements store.TaskStore.
func (g *gateStore) RemoveTaskParticipant(ctx context.Context, taskID protocol.TaskID, agentID protocol.AgentID) (store.ParticipantRemoval, error) {
	r, err := g.Store.RemoveTaskParticipant(ctx, taskID, agentID)
	convs := r.ConversationIDs
	if err != nil {
		convs = g.conversationsOfTask(taskID) // unknown outcome: drop every cached conversation of the task
	}
	g.invalidateMembership(convs, agentID)
	return r, err
}

// conversationsOfTask lists the cached conversations of a task.
func (g *gateStore) conversationsOfTask(taskID protocol.TaskID) []protocol.ConversationID {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []protocol.ConversationID
	for id, cg := range g.convs {
		if cg.taskID == taskID {
			out = append(out, id)
		}
	}
	for id := range g.members {
		out = append(out, id) // members are not indexed by task: drop them all
	}
	return out
}

// CreateConversation implements store.ConversationStore.
func (g *gateStore) CreateConversation(ctx context.Context, c store.Conversation, participants []protocol.AgentID) (store.Conversation, error) {
	defer g.invalidateMembership([]protocol.ConversationID{c.ID}, append([]protocol.AgentID{c.CreatedBy}, participants...)...)
	return g.Store.CreateConversation(ctx, c, participants)
}

// ArchiveConversation implements store.ConversationStore.
func (g *gateStore) ArchiveConversation(ctx context.Context, id protocol.ConversationID, at time.Time) (store.Conversation, bool, error) {
	defer g.invalidate(nil, []protocol.ConversationID{id})
	return g.Store.ArchiveConversation(ctx, id, at)
}

// UnarchiveConversation implements store.ConversationStore.
func (g *gateStore) UnarchiveConversation(ctx context.Context, id protocol.ConversationID, at time.Time) (store.Conversation, bool, error) {
	defer g.invalidate(nil, []protocol.ConversationID{id})
	return g.Store.UnarchiveConversation(ctx, id, at)
}

// AddConversationParticipant implements store.ConversationStore.
func (g *gateStore) AddConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID, at time.Time) (bool, error) {
	defer g.invalidateMembership([]protocol.ConversationID{id}, agentID)
	return g.Store.AddConversationParticipant(ctx, id, agentID, at)
}

// RemoveConversationParticipant implements store.ConversationStore.
func (g *gateStore) RemoveConversationParticipant(ctx context.Context, id protocol.ConversationID, agentID protocol.AgentID) (bool, error) {
	defer g.invalidateMembership([]protocol.ConversationID{id}, agentID)
	return g.Store.RemoveConversationParticipant(ctx, id, agentID)
}

// conversationGate reads a conversation's task and archive state, from the gate cache
// when the store has one.
func (s *Server) conversationGate(ctx context.Context, convID protocol.ConversationID) (convGate, error) {
	if g, ok := s.store.(*gateStore); ok {
		return g.conversationGate(ctx, convID)
	}
	cv, err := s.store.GetConversation(ctx, convID)
	if err != nil {
		return convGate{}, err
	}
	return convGate{taskID: cv.TaskID, archivedAt: cv.ArchivedAt}, nil
}

// sendConversation applies the first gate of messages/send, the conversation is in the
// task (-32002 otherwise), and returns the conversation's gate (its archive state is
// checked later, in the order of REFERENCE 9.5.1).
func (s *Server) sendConversation(ctx context.Context, taskID protocol.TaskID, convID protocol.ConversationID) (convGate, error) {
	cg, err := s.conversationGate(ctx, convID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cg.taskID != taskID) {
		return convGate{}, protocol.NotFoundError{Message: "Conversation not found"}
	}
	if err != nil {
		return convGate{}, storeErr("get conversation", err)
	}
	return cg, nil
}
