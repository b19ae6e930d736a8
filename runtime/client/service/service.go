package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// Service tracks conversations, agent names and inbound messages of one agent connection.
// It is safe for concurrent use.
type Service struct {
	conn Conn
	opts Options
	log  *slog.Logger
	self string

	mu           sync.Mutex
	convs        map[string]*convState
	names        map[string]string
	arrivals     uint64                       // numbers history entries in acceptance order
	entryMarkers map[string]map[string]uint64 // viewing conv -> other conv -> last committed arrival
	fullMarkers  map[string]map[string]uint64

	// deliverMu serialises acceptance and delivery, so subscribers see messages one at a
	// time in acceptance order.
	deliverMu  sync.Mutex
	messages   subscribers[inbound]
	archived   subscribers[ConversationEvent]
	unarchived subscribers[ConversationEvent]

	ctx    context.Context // background work; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	unsubs []func()

	// gap is set from a disconnect until the catch-up that follows the last reconnect has
	// run; gapGen counts the disconnects (and catch-up requests). Guarded by mu.
	gap    bool
	gapGen uint64

	catchMu      sync.Mutex
	catchRunning bool
	catchAgain   bool
	closed       bool
}

// inbound is one accepted message.
type inbound struct {
	taskID string
	msg    protocol.Message
}

// New returns a service over c and subscribes to its notifications and connection hooks
// right away (messages that arrive before Start are tracked too). Call Start to load the
// conversations and Close to detach.
func New(c Conn, opts Options) *Service {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		conn:         c,
		opts:         opts,
		log:          opts.Logger,
		self:         c.AgentID(),
		convs:        map[string]*convState{},
		names:        map[string]string{},
		entryMarkers: map[string]map[string]uint64{},
		fullMarkers:  map[string]map[string]uint64{},
		ctx:          ctx,
		cancel:       cancel,
	}
	s.unsubs = append(s.unsubs,
		c.OnAny(s.onNotification),
		c.OnDisconnect(func(client.CloseInfo) { s.freeze() }),
		c.OnReconnect(func(protocol.HelloOk) { s.scheduleCatchUp() }),
	)
	return s
}

// AgentID returns the agent the service runs as.
func (s *Service) AgentID() string { return s.self }

// Start loads every conversation of the agent (task/conversation/list, all pages) into the
// cache and warms the name cache with their participants. Conversations loaded here only
// count messages created after their latest message as new when they are caught up.
func (s *Service) Start(ctx context.Context) error {
	items, err := s.listConversations(ctx)
	if err != nil {
		return fmt.Errorf("moltzap service: start: %w", err)
	}
	s.mu.Lock()
	var ids []string
	for _, it := range items {
		cs, _ := s.applyListItem(it, true)
		ids = append(ids, cs.info.Participants...)
	}
	s.mu.Unlock()
	s.warmNames(ctx, ids)
	return nil
}

// Close unsubscribes from the client, stops background catch-up and waits for it. The
// client itself is left open. Idempotent.
func (s *Service) Close() {
	s.catchMu.Lock()
	if s.closed {
		s.catchMu.Unlock()
		return
	}
	s.closed = true
	s.catchMu.Unlock()
	for _, u := range s.unsubs {
		u()
	}
	s.cancel()
	s.wg.Wait()
}

// Messages subscribes fn to inbound messages: messages/received notifications and messages
// recovered by the catch-up, each delivered once (per conversation: the last DedupWindow
// ids, and every seq up to the highest a catch-up listed, are duplicates). After a
// reconnect, the live messages of a conversation are held until its missed messages were
// recovered, so that a conversation's messages reach fn in seq order across the gap. Calls
// never overlap and follow acceptance order; fn runs on the client's notification
// goroutine or the catch-up goroutine and must not block.
func (s *Service) Messages(fn func(taskID string, m protocol.Message)) (cancel func()) {
	if fn == nil {
		return func() {}
	}
	return s.messages.add(func(in inbound) { fn(in.taskID, in.msg) })
}

// onNotification routes the notifications the service tracks.
func (s *Service) onNotification(n protocol.Notification) {
	switch n := n.(type) {
	case protocol.MessagesReceivedNotification:
		s.receive(string(n.TaskID), n.Message)
	case protocol.TaskConversationCreatedNotification:
		s.onCreated(n)
	case protocol.TaskConversationArchivedNotification:
		s.onArchiveChange(string(n.TaskID), string(n.ConversationID), true)
	case protocol.TaskConversationUnarchivedNotification:
		s.onArchiveChange(string(n.TaskID), string(n.ConversationID), false)
	case protocol.TaskConversationParticipantsAddedNotification:
		s.onParticipant(string(n.TaskID), string(n.ConversationID), string(n.AddedAgentID), true)
	case protocol.TaskConversationParticipantsRemovedNotification:
		s.onParticipant(string(n.TaskID), string(n.ConversationID), string(n.RemovedAgentID), false)
	}
}

// receive handles a live message: it is held while its conversation is being caught up,
// else accepted and delivered.
func (s *Service) receive(taskID string, m protocol.Message) {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.mu.Lock()
	cs := s.ensureConv(string(m.ConversationID), taskID)
	if cs.holding {
		cs.held = append(cs.held, inbound{taskID: taskID, msg: m})
		s.mu.Unlock()
		return
	}
	ok := s.accept(cs, m, true)
	s.mu.Unlock()
	if ok {
		s.messages.emit(inbound{taskID: taskID, msg: m}, s.panicked("message subscriber"))
	}
}

// deliverListed accepts a message returned by messages/list unless it is a duplicate, raises
// its conversation's floor to it, and then (with notify set) hands it to the subscribers.
// It reports whether m was new.
func (s *Service) deliverListed(taskID string, m protocol.Message, notify bool) bool {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	s.mu.Lock()
	cs := s.ensureConv(string(m.ConversationID), taskID)
	ok := s.accept(cs, m, notify)
	if v, parsed := parseSeq(m.Seq); parsed && (!cs.hasFloor || v > cs.floor) {
		cs.floor, cs.hasFloor = v, true
		cs.settleTo(v)
	}
	s.mu.Unlock()
	if ok && notify {
		s.messages.emit(inbound{taskID: taskID, msg: m}, s.panicked("message subscriber"))
	}
	return ok
}

// accept records m in its conversation's de-duplication window and seq tracking and,
// when it is news from another agent, in the conversation's history. A message at or
// below the floor, or whose id is in the window, is a duplicate (false). Callers hold s.mu.
func (s *Service) accept(cs *convState, m protocol.Message, news bool) bool {
	if v, ok := parseSeq(m.Seq); ok && cs.hasFloor && v <= cs.floor {
		return false
	}
	if !cs.seen.add(string(m.ID)) {
		return false
	}
	cs.observeSeq(m.Seq)
	if news && string(m.SenderID) != s.self {
		s.remember(cs, m)
	}
	return true
}

// listConversations drains task/conversation/list.
func (s *Service) listConversations(ctx context.Context) ([]protocol.TaskConversationListItem, error) {
	limit := protocol.PageLimit(conversationPageSize)
	return client.DrainPages(ctx, func(ctx context.Context, cur *protocol.Cursor) ([]protocol.TaskConversationListItem, *protocol.Cursor, error) {
		var r protocol.TaskConversationListResult
		err := retryRateLimited(ctx, func() error {
			var err error
			r, err = s.conn.TaskConversationList(ctx, protocol.TaskConversationListParams{Limit: &limit, Cursor: cur})
			return err
		})
		return r.Items, r.NextCursor, err
	})
}

// panicked returns a recover handler that logs a subscriber panic.
func (s *Service) panicked(what string) func(any) {
	return func(p any) {
		s.log.Error("moltzap service: "+what+" panicked", "panic", p)
	}
}
