package service

import (
	"slices"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Conversation is the cached view of one conversation the agent takes part in.
type Conversation struct {
	// ID is the conversation id.
	ID string
	// TaskID is the task the conversation belongs to.
	TaskID string
	// Type is "dm" or "group".
	Type string
	// Name is the conversation name ("" when it has none).
	Name string
	// Participants are the member agent ids. For a conversation learnt from
	// task/conversation/created they are the listed members plus this agent (the
	// notification does not name a creator other than this agent).
	Participants []string
	// Archived reports whether the conversation is archived.
	Archived bool
}

// ConversationEvent names a conversation whose archived state changed.
type ConversationEvent struct {
	TaskID         string
	ConversationID string
}

// convState is everything the service keeps per conversation. Guarded by Service.mu.
type convState struct {
	info Conversation
	seen *window

	// seq is the highest seq seen (hasSeq false until one is known).
	seq    int64
	hasSeq bool
	// settled is the highest seq at or below which every seq was seen or listed; above
	// holds the seqs seen beyond it (see settle).
	settled    int64
	hasSettled bool
	above      map[int64]struct{}
	// cursor is where the next catch-up starts; it follows settled unless frozen.
	cursor    int64
	hasCursor bool
	// frozen holds the cursor while the connection is down or a catch-up is owed.
	frozen bool
	// baseline is the conversation's last message time when it was loaded by Start: with
	// no seq known, only messages created after it are new.
	baseline time.Time
	// floor is the highest seq a catch-up listing reached (hasFloor false until one did):
	// messages/list returns every visible message after its sinceSeq, so a message at or
	// below the floor was accepted already (or precedes the catch-up cursor) and is a
	// duplicate, whether it arrives live or listed, however long ago it left the id window.
	floor    int64
	hasFloor bool
	// holding parks live messages in held from a disconnect until the conversation has been
	// caught up: they are then delivered after the recovered ones, in seq order.
	holding bool
	held    []inbound

	history []histEntry
}

// isMember reports whether agent is among the participants.
func (cs *convState) isMember(agent string) bool {
	return slices.Contains(cs.info.Participants, agent)
}

// Conversation returns the cached conversation id.
func (s *Service) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.convs[id]
	if !ok {
		return Conversation{}, false
	}
	return cs.info.clone(), true
}

// Conversations returns every cached conversation, in no particular order.
func (s *Service) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, 0, len(s.convs))
	for _, cs := range s.convs {
		out = append(out, cs.info.clone())
	}
	return out
}

// IsConversationArchived reports whether the conversation is known to be archived.
func (s *Service) IsConversationArchived(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.convs[id]
	return ok && cs.info.Archived
}

// OnConversationArchived subscribes fn to conversations becoming archived
// (task/conversation/archived, or an archive noticed when the list is re-read after a
// reconnect). fn runs on the goroutine that noticed the change and must not block.
func (s *Service) OnConversationArchived(fn func(ConversationEvent)) (cancel func()) {
	return s.archived.add(fn)
}

// OnConversationUnarchived subscribes fn to conversations becoming unarchived.
func (s *Service) OnConversationUnarchived(fn func(ConversationEvent)) (cancel func()) {
	return s.unarchived.add(fn)
}

func (c Conversation) clone() Conversation {
	c.Participants = slices.Clone(c.Participants)
	return c
}

// ensureConv returns the state of conversation id, creating it (as a member conversation
// of taskID) when unknown. Callers hold s.mu.
func (s *Service) ensureConv(id, taskID string) *convState {
	cs, ok := s.convs[id]
	if !ok {
		cs = &convState{
			info: Conversation{ID: id, TaskID: taskID, Type: string(protocol.ConversationTypeGroup), Participants: []string{s.self}},
			seen: newWindow(s.opts.DedupWindow),
		}
		// Learnt while disconnected or catching up: every message of it may have been
		// missed, so it is caught up from its start before its live messages flow.
		cs.frozen, cs.holding = s.gap, s.gap
		s.convs[id] = cs
	}
	if cs.info.TaskID == "" {
		cs.info.TaskID = taskID
	}
	return cs
}

// applyListItem updates the cache from one task/conversation/list row and reports an
// archived-state change (+1 archived, -1 unarchived, 0 none). With initial set, a
// conversation new to the cache gets its last message time as catch-up baseline.
// Callers hold s.mu.
func (s *Service) applyListItem(it protocol.TaskConversationListItem, initial bool) (cs *convState, change int) {
	id := string(it.Conversation.ID)
	_, known := s.convs[id]
	cs = s.ensureConv(id, string(it.TaskID))
	if !known && initial && it.Conversation.LastMessageTimestamp != nil {
		if t, err := parseTime(*it.Conversation.LastMessageTimestamp); err == nil {
			cs.baseline = t
		}
	}
	wasArchived := cs.info.Archived
	cs.info.TaskID = string(it.TaskID)
	cs.info.Type = string(it.Conversation.Type)
	cs.info.Name = deref(it.Conversation.Name)
	cs.info.Participants = agentStrings(it.Participants)
	cs.info.Archived = it.Conversation.ArchivedAt != nil
	switch {
	case known && !wasArchived && cs.info.Archived:
		change = 1
	case known && wasArchived && !cs.info.Archived:
		change = -1
	}
	return cs, change
}

// onCreated handles task/conversation/created.
func (s *Service) onCreated(n protocol.TaskConversationCreatedNotification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, known := s.convs[string(n.ConversationID)]
	cs := s.ensureConv(string(n.ConversationID), string(n.TaskID))
	if n.Name != nil {
		cs.info.Name = *n.Name
	}
	if !known {
		// REFERENCE Q21: dm iff exactly one participant besides the creator.
		cs.info.Type = string(protocol.ConversationTypeGroup)
		if len(n.Participants) == 1 {
			cs.info.Type = string(protocol.ConversationTypeDm)
		}
	}
	for _, p := range n.Participants {
		addParticipant(&cs.info, string(p))
	}
}

// onArchiveChange handles task/conversation/archived (archived=true) and unarchived.
func (s *Service) onArchiveChange(taskID, convID string, archived bool) {
	s.mu.Lock()
	cs := s.ensureConv(convID, taskID)
	changed := cs.info.Archived != archived
	cs.info.Archived = archived
	s.mu.Unlock()
	if changed {
		s.emitArchive(ConversationEvent{TaskID: taskID, ConversationID: convID}, archived)
	}
}

func (s *Service) emitArchive(ev ConversationEvent, archived bool) {
	if archived {
		s.archived.emit(ev, s.panicked("conversation archived subscriber"))
		return
	}
	s.unarchived.emit(ev, s.panicked("conversation unarchived subscriber"))
}

// onParticipant handles participants/added (added=true) and participants/removed.
func (s *Service) onParticipant(taskID, convID, agent string, added bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.ensureConv(convID, taskID)
	if added {
		addParticipant(&cs.info, agent)
		return
	}
	cs.info.Participants = slices.DeleteFunc(cs.info.Participants, func(p string) bool { return p == agent })
}

func addParticipant(c *Conversation, agent string) {
	if !slices.Contains(c.Participants, agent) {
		c.Participants = append(c.Participants, agent)
	}
}

func agentStrings(ids []protocol.AgentID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func deref[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// parseTime parses a protocol DateTime.
func parseTime(t protocol.DateTime) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, string(t))
}
