package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/feed"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// Limits of the snapshot questions of feed.Source.
const (
	feedTasksPerAgent = 20  // recent tasks read per online agent
	feedMaxAgents     = 100 // online agents whose tasks are read
)

// watching reports whether the configured feed.Observer has anyone watching; every event
// is built behind it, so a server nobody observes pays one call (an atomic load) per event.
func (s *Server) watching() bool { return s.cfg.Feed.Watching() }

// agentPresence describes the open connections of an agent; name and owner are taken from
// fallback when none is open (the agent's last connection just ended).
func (s *Server) agentPresence(agentID protocol.AgentID, fallback *Conn) feed.AgentPresence {
	conns := s.conns.ofAgent(agentID)
	p := feed.AgentPresence{AgentID: agentID, Status: s.presence.Status(agentID), Connections: len(conns)}
	var oldest time.Time
	for _, c := range conns {
		c.mu.RLock()
		p.Name, p.OwnerUserID = c.name, c.owner
		c.mu.RUnlock()
		if oldest.IsZero() || c.started.Before(oldest) {
			oldest = c.started
		}
	}
	if len(conns) == 0 {
		p.Status = protocol.PresenceStatusOffline
		if fallback != nil {
			fallback.mu.RLock()
			p.Name, p.OwnerUserID = fallback.name, fallback.owner
			fallback.mu.RUnlock()
		}
	} else {
		at := dateTime(oldest)
		p.ConnectedAt = &at
		if p.Status == protocol.PresenceStatusOffline { // admitted, not yet known to presence
			p.Status = protocol.PresenceStatusOnline
		}
	}
	return p
}

// observeMessage reports a stored message with its decision to the feed.
func (s *Server) observeMessage(taskID protocol.TaskID, msg protocol.Message, d store.Decision) {
	if !s.watching() {
		return
	}
	m := feed.ObservedMessage{TaskID: taskID, Message: msg, Decision: observedDecision(d)}
	if d.Tag == store.DecisionBlock {
		s.cfg.Feed.MessageBlocked(m)
		return
	}
	s.cfg.Feed.MessageReceived(m)
}

// observedDecision converts a stored decision.
func observedDecision(d store.Decision) feed.Decision {
	switch d.Tag {
	case store.DecisionForward:
		return feed.Decision{Verdict: feed.VerdictForward, Recipients: d.Recipients}
	case store.DecisionBlock:
		return feed.Decision{Verdict: feed.VerdictBlock, Reason: d.Reason}
	}
	return feed.Decision{Verdict: feed.VerdictPending}
}

// FeedSource returns the server as the snapshot source of a read-only view (the
// Observatory): the view calls it when a client subscribes.
func (s *Server) FeedSource() feed.Source { return feedSource{s} }

// feedSource answers feed.Source from the connection map, the store and the lease registry.
type feedSource struct{ s *Server }

var _ feed.Source = feedSource{}

// OnlineAgents returns the agents with open connections, by name.
func (f feedSource) OnlineAgents(context.Context) ([]feed.AgentPresence, error) {
	ids := f.s.conns.agents()
	out := make([]feed.AgentPresence, 0, len(ids))
	for _, id := range ids {
		if p := f.s.agentPresence(id, nil); p.Connections > 0 {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b feed.AgentPresence) int {
		if a.Name != b.Name {
			return strings.Compare(string(a.Name), string(b.Name))
		}
		return strings.Compare(string(a.AgentID), string(b.AgentID))
	})
	return out, nil
}

// RecentTasks returns the newest tasks of the online agents (each once), newest first.
func (f feedSource) RecentTasks(ctx context.Context, limit int) ([]protocol.Task, error) {
	ids := f.s.conns.agents()
	if len(ids) > feedMaxAgents {
		ids = ids[:feedMaxAgents]
	}
	seen := map[protocol.TaskID]bool{}
	var tasks []store.Task
	for _, id := range ids {
		page, err := f.s.store.ListTasksForAgent(ctx, id, store.Page{Limit: feedTasksPerAgent})
		if err != nil {
			return nil, fmt.Errorf("list tasks of %s: %w", id, err)
		}
		for _, t := range page.Items {
			if !seen[t.ID] {
				seen[t.ID] = true
				tasks = append(tasks, t)
			}
		}
	}
	slices.SortFunc(tasks, func(a, b store.Task) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(tasks) > limit {
		tasks = tasks[:limit]
	}
	out := make([]protocol.Task, len(tasks))
	for i, t := range tasks {
		out[i] = task(t)
	}
	return out, nil
}

// Task returns a task with its participants and conversations.
func (f feedSource) Task(ctx context.Context, taskID protocol.TaskID) (feed.TaskView, bool, error) {
	t, err := f.s.store.GetTask(ctx, taskID)
	if errors.Is(err, store.ErrNotFound) {
		return feed.TaskView{}, false, nil
	}
	if err != nil {
		return feed.TaskView{}, false, fmt.Errorf("get task %s: %w", taskID, err)
	}
	parts, err := f.s.store.TaskParticipants(ctx, taskID)
	if err != nil {
		return feed.TaskView{}, false, fmt.Errorf("participants of task %s: %w", taskID, err)
	}
	convs, err := f.s.store.ConversationsOfTask(ctx, taskID)
	if err != nil {
		return feed.TaskView{}, false, fmt.Errorf("conversations of task %s: %w", taskID, err)
	}
	v := feed.TaskView{Task: task(t), Participants: make([]protocol.AgentID, len(parts)), Conversations: make([]protocol.Conversation, len(convs))}
	for i, p := range parts {
		v.Participants[i] = p.AgentID
	}
	for i, c := range convs {
		v.Conversations[i] = conversation(c)
	}
	return v, true, nil
}

// Conversation returns a conversation with its newest messages, oldest first.
func (f feedSource) Conversation(ctx context.Context, convID protocol.ConversationID, limit int) (feed.ConversationView, bool, error) {
	cv, err := f.s.store.GetConversation(ctx, convID)
	if errors.Is(err, store.ErrNotFound) {
		return feed.ConversationView{}, false, nil
	}
	if err != nil {
		return feed.ConversationView{}, false, fmt.Errorf("get conversation %s: %w", convID, err)
	}
	msgs, _, err := f.s.store.ListMessages(ctx, convID, store.MessageViewer{SeesAll: true}, nil, limit)
	if err != nil {
		return feed.ConversationView{}, false, fmt.Errorf("messages of conversation %s: %w", convID, err)
	}
	v := feed.ConversationView{Conversation: conversation(cv), TaskID: cv.TaskID, Messages: make([]feed.ObservedMessage, 0, len(msgs))}
	for _, m := range msgs {
		pm, err := message(m)
		if err != nil {
			return feed.ConversationView{}, false, fmt.Errorf("convert message %s: %w", m.ID, err)
		}
		v.Messages = append(v.Messages, feed.ObservedMessage{TaskID: m.TaskID, Message: pm, Decision: observedDecision(m.Decision)})
	}
	return v, true, nil
}

// Leases returns the leases of a conversation the registry still holds.
func (f feedSource) Leases(convID protocol.ConversationID) []protocol.LeaseRecord {
	ls := f.s.leases.ForConversation(convID)
	out := make([]protocol.LeaseRecord, len(ls))
	for i, l := range ls {
		out[i] = l.Record()
	}
	return out
}
