package service

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// ContextOptions bound a cross-conversation context peek; zero fields take the defaults
// (5 conversations, 3 messages per conversation).
type ContextOptions struct {
	MaxConversations   int
	MaxMessagesPerConv int
}

func (o ContextOptions) withDefaults() ContextOptions {
	if o.MaxConversations <= 0 {
		o.MaxConversations = DefaultMaxContextConversations
	}
	if o.MaxMessagesPerConv <= 0 {
		o.MaxMessagesPerConv = DefaultMaxContextMessages
	}
	return o
}

// ContextEntry summarises the new activity of one other conversation.
type ContextEntry struct {
	ConversationID   string
	ConversationName string // "" when the conversation has no name
	// SenderName is the latest new message's sender (cached name, else the raw id).
	SenderName string
	// Text is the latest new message's text, cut to ContextTextLimit characters.
	Text string
	// MinutesAgo is the age of the latest new message in whole minutes.
	MinutesAgo int
	// Count is the number of new messages, capped at MaxMessagesPerConv.
	Count int
}

// FullMessage is one new message of another conversation.
type FullMessage struct {
	ConversationID   string
	ConversationName string
	SenderName       string
	SenderID         string
	Text             string
	Timestamp        string // the message's createdAt
}

// ContextPeek is the result of PeekContextEntries. Commit advances the viewing
// conversation's markers past the returned entries; not committing leaves them to be
// returned again.
type ContextPeek struct {
	Entries []ContextEntry
	commit  func()
	once    sync.Once
}

// Commit advances the markers (idempotent).
func (p *ContextPeek) Commit() {
	if p != nil && p.commit != nil {
		p.once.Do(p.commit)
	}
}

// FullMessagesPeek is the result of PeekFullMessages, with the same commit rule.
type FullMessagesPeek struct {
	Messages []FullMessage
	commit   func()
	once     sync.Once
}

// Commit advances the markers (idempotent).
func (p *FullMessagesPeek) Commit() {
	if p != nil && p.commit != nil {
		p.once.Do(p.commit)
	}
}

// histEntry is one remembered inbound message.
type histEntry struct {
	arrival uint64
	msg     protocol.Message
	created time.Time
}

// remember appends m to the conversation's history. Callers hold s.mu.
func (s *Service) remember(cs *convState, m protocol.Message) {
	s.arrivals++
	created, err := parseTime(m.CreatedAt)
	if err != nil {
		created = s.opts.Now()
	}
	cs.history = append(cs.history, histEntry{arrival: s.arrivals, msg: m, created: created})
	if over := len(cs.history) - s.opts.HistoryPerConversation; over > 0 {
		cs.history = slices.Delete(cs.history, 0, over)
	}
}

// news is the unseen history of one other conversation.
type news struct {
	conv    Conversation
	entries []histEntry
}

// collectNews returns, newest conversation first, the history entries of every other
// conversation after the viewing conversation's marker, at most limit conversations.
// Callers hold s.mu.
func (s *Service) collectNews(current string, markers map[string]uint64, limit int) []news {
	var out []news
	for id, cs := range s.convs {
		if id == current {
			continue
		}
		mark := markers[id]
		i, _ := slices.BinarySearchFunc(cs.history, mark, func(e histEntry, m uint64) int { return cmp.Compare(e.arrival, m+1) })
		if i >= len(cs.history) {
			continue
		}
		out = append(out, news{conv: cs.info, entries: cs.history[i:]})
	}
	slices.SortFunc(out, func(a, b news) int {
		la, lb := a.entries[len(a.entries)-1], b.entries[len(b.entries)-1]
		if c := la.created.Compare(lb.created); c != 0 {
			return -c
		}
		return -cmp.Compare(la.arrival, lb.arrival)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// PeekContextEntries summarises, for the viewing conversation current, the other
// conversations with messages newer than current's per-conversation marker: one entry
// each, newest first, at most MaxConversations. Peeking does not move the markers; call
// Commit on the result to do so.
func (s *Service) PeekContextEntries(current string, opts ContextOptions) *ContextPeek {
	opts = opts.withDefaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	found := s.collectNews(current, s.entryMarkers[current], opts.MaxConversations)
	p := &ContextPeek{}
	upto := map[string]uint64{}
	for _, n := range found {
		last := n.entries[len(n.entries)-1]
		p.Entries = append(p.Entries, ContextEntry{
			ConversationID:   n.conv.ID,
			ConversationName: n.conv.Name,
			SenderName:       s.nameOf(string(last.msg.SenderID)),
			Text:             truncate(TextOf(last.msg.Parts), ContextTextLimit),
			MinutesAgo:       minutesAgo(now, last.created),
			Count:            min(len(n.entries), opts.MaxMessagesPerConv),
		})
		upto[n.conv.ID] = last.arrival
	}
	p.commit = func() { s.advance(s.entryMarkers, current, upto) }
	return p
}

// PeekFullMessages is PeekContextEntries with the new messages themselves: for each of
// at most MaxConversations other conversations, its last MaxMessagesPerConv new messages
// in order. It has markers of its own.
func (s *Service) PeekFullMessages(current string, opts ContextOptions) *FullMessagesPeek {
	opts = opts.withDefaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	found := s.collectNews(current, s.fullMarkers[current], opts.MaxConversations)
	p := &FullMessagesPeek{}
	upto := map[string]uint64{}
	for _, n := range found {
		entries := n.entries[max(0, len(n.entries)-opts.MaxMessagesPerConv):]
		for _, e := range entries {
			p.Messages = append(p.Messages, FullMessage{
				ConversationID:   n.conv.ID,
				ConversationName: n.conv.Name,
				SenderName:       s.nameOf(string(e.msg.SenderID)),
				SenderID:         string(e.msg.SenderID),
				Text:             TextOf(e.msg.Parts),
				Timestamp:        string(e.msg.CreatedAt),
			})
		}
		upto[n.conv.ID] = n.entries[len(n.entries)-1].arrival
	}
	p.commit = func() { s.advance(s.fullMarkers, current, upto) }
	return p
}

// advance moves current's markers forward to upto (never backwards).
func (s *Service) advance(markers map[string]map[string]uint64, current string, upto map[string]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := markers[current]
	if m == nil {
		m = map[string]uint64{}
		markers[current] = m
	}
	for id, a := range upto {
		if a > m[id] {
			m[id] = a
		}
	}
}

func minutesAgo(now, t time.Time) int {
	d := now.Sub(t)
	if d < 0 {
		return 0
	}
	return int(d / time.Minute)
}
