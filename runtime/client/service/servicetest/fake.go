// Package servicetest provides an in-memory fake of the agent connection that the service
// layer and the channel core run on, for tests of code built on them.
package servicetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// Conn is a fake agent connection: it stores conversations and messages, answers the
// list, lookup and send calls from them with the server's paging rules (messages/list
// with sinceSeq returns the oldest rows after it, without it the newest, both ascending),
// and lets the test push notifications and connection events. Notifications are delivered
// synchronously on the caller's goroutine. Safe for concurrent use.
type Conn struct {
	agentID string

	mu        sync.Mutex
	subs      []*sub[protocol.Notification]
	disc      []*sub[client.CloseInfo]
	reconn    []*sub[protocol.HelloOk]
	convs     []protocol.TaskConversationListItem
	msgs      map[string][]protocol.Message
	nextSeq   int64
	nextID    int
	names     map[string]string
	convPage  int
	listCalls []protocol.MessagesListParams
	sent      []protocol.MessagesSendParams
	dispatch  []protocol.DispatchRequestParams
	lookups   int

	lookupErr  error
	sendErr    error
	listErr    error
	dispatchFn func(ctx context.Context, p protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error)
	now        func() time.Time
}

// SetLookupErr makes agents/lookup fail with err (nil: succeed).
func (c *Conn) SetLookupErr(err error) { c.set(func() { c.lookupErr = err }) }

// SetSendErr makes messages/send fail with err (nil: succeed).
func (c *Conn) SetSendErr(err error) { c.set(func() { c.sendErr = err }) }

// SetListErr makes messages/list fail with err (nil: succeed).
func (c *Conn) SetListErr(err error) { c.set(func() { c.listErr = err }) }

// SetDispatch makes fn answer dispatch/request. Without it the fake acks with a fresh
// lease and sends no release (the test sends releases with Notify).
func (c *Conn) SetDispatch(fn func(ctx context.Context, p protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error)) {
	c.set(func() { c.dispatchFn = fn })
}

// SetNow sets the clock used for createdAt (default time.Now).
func (c *Conn) SetNow(now func() time.Time) { c.set(func() { c.now = now }) }

func (c *Conn) set(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
}

type sub[T any] struct {
	fn        func(T)
	cancelled bool
}

// NewConn returns a fake connection authenticated as agentID.
func NewConn(agentID string) *Conn {
	return &Conn{agentID: agentID, msgs: map[string][]protocol.Message{}, names: map[string]string{}, convPage: 100, nextSeq: 1000}
}

// AgentID returns the agent id given to NewConn.
func (c *Conn) AgentID() string { return c.agentID }

// OnAny subscribes fn to every notification sent with Notify.
func (c *Conn) OnAny(fn func(protocol.Notification)) func() { return add(c, &c.subs, fn) }

// OnDisconnect subscribes fn to Disconnect.
func (c *Conn) OnDisconnect(fn func(client.CloseInfo)) func() { return add(c, &c.disc, fn) }

// OnReconnect subscribes fn to Reconnect.
func (c *Conn) OnReconnect(fn func(protocol.HelloOk)) func() { return add(c, &c.reconn, fn) }

func add[T any](c *Conn, list *[]*sub[T], fn func(T)) func() {
	s := &sub[T]{fn: fn}
	c.mu.Lock()
	*list = append(*list, s)
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		s.cancelled = true
		c.mu.Unlock()
	}
}

func fire[T any](c *Conn, list *[]*sub[T], v T) {
	c.mu.Lock()
	var fns []func(T)
	for _, s := range *list {
		if !s.cancelled {
			fns = append(fns, s.fn)
		}
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(v)
	}
}

// Notify delivers n to the OnAny subscribers.
func (c *Conn) Notify(n protocol.Notification) { fire(c, &c.subs, n) }

// Disconnect fires the OnDisconnect subscribers.
func (c *Conn) Disconnect() { fire(c, &c.disc, client.CloseInfo{Code: 1006, Reason: "abnormal"}) }

// Reconnect fires the OnReconnect subscribers.
func (c *Conn) Reconnect() {
	fire(c, &c.reconn, protocol.HelloOk{AgentID: protocol.AgentID(c.agentID)})
}

// SetConversationPageSize sets the page size of task/conversation/list.
func (c *Conn) SetConversationPageSize(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.convPage = n
}

// AddConversation adds (or replaces) a conversation row of task/conversation/list.
func (c *Conn) AddConversation(it protocol.TaskConversationListItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.convs {
		if x.Conversation.ID == it.Conversation.ID {
			c.convs[i] = it
			return
		}
	}
	c.convs = append(c.convs, it)
}

// Conversation is a shorthand for a list row.
func Conversation(taskID, convID, name string, typ protocol.ConversationType, participants ...string) protocol.TaskConversationListItem {
	it := protocol.TaskConversationListItem{
		TaskID: protocol.TaskID(taskID),
		Conversation: protocol.Conversation{
			ID: protocol.ConversationID(convID), Type: typ, CreatedBy: protocol.AgentID(participants[0]),
			CreatedAt: "2026-01-01T00:00:00.000Z", UpdatedAt: "2026-01-01T00:00:00.000Z",
		},
	}
	if name != "" {
		it.Conversation.Name = &name
	}
	for _, p := range participants {
		it.Participants = append(it.Participants, protocol.AgentID(p))
	}
	return it
}

// SetName makes agents/lookup know agent id as name.
func (c *Conn) SetName(id, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names[id] = name
}

// Store stores a message (with the next seq) without notifying anyone, as if it was sent
// while this connection was away, and returns it.
func (c *Conn) Store(convID, sender, text string) protocol.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storeLocked(convID, sender, text, nil)
}

func (c *Conn) storeLocked(convID, sender, text string, replyTo *protocol.MessageID) protocol.Message {
	c.nextSeq++
	c.nextID++
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	m := protocol.Message{
		ID:             protocol.MessageID(fmt.Sprintf("m-%06d", c.nextID)),
		ConversationID: protocol.ConversationID(convID),
		SenderID:       protocol.AgentID(sender),
		Seq:            protocol.Seq(strconv.FormatInt(c.nextSeq, 10)),
		ReplyToID:      replyTo,
		Parts:          protocol.MessageParts{protocol.TextPart{Text: text}},
		CreatedAt:      protocol.DateTime(now().UTC().Format("2006-01-02T15:04:05.000Z07:00")),
	}
	c.msgs[convID] = append(c.msgs[convID], m)
	return m
}

// Receive stores a message and delivers it as messages/received, returning it.
func (c *Conn) Receive(taskID, convID, sender, text string) protocol.Message {
	m := c.Store(convID, sender, text)
	c.Notify(protocol.MessagesReceivedNotification{TaskID: protocol.TaskID(taskID), Message: m})
	return m
}

// TaskConversationList pages the stored conversations (the cursor is the next index).
func (c *Conn) TaskConversationList(_ context.Context, p protocol.TaskConversationListParams) (protocol.TaskConversationListResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := 0
	if p.Cursor != nil {
		n, err := strconv.Atoi(string(*p.Cursor))
		if err != nil {
			return protocol.TaskConversationListResult{}, protocol.InvalidParamsError{Message: "bad cursor"}
		}
		start = n
	}
	end := min(start+c.convPage, len(c.convs))
	res := protocol.TaskConversationListResult{Items: slices.Clone(c.convs[start:end])}
	if end < len(c.convs) {
		cur := protocol.Cursor(strconv.Itoa(end))
		res.NextCursor = &cur
	}
	return res, nil
}

// AgentsLookup answers from SetName.
func (c *Conn) AgentsLookup(_ context.Context, p protocol.AgentsLookupParams) (protocol.AgentsLookupResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	if c.lookupErr != nil {
		return protocol.AgentsLookupResult{}, c.lookupErr
	}
	var res protocol.AgentsLookupResult
	for _, id := range p.AgentIDs {
		if n, ok := c.names[string(id)]; ok {
			res.Agents = append(res.Agents, protocol.AgentCard{ID: id, Name: protocol.AgentName(n), Status: "active"})
		}
	}
	return res, nil
}

// MessagesList pages the stored messages of a conversation.
func (c *Conn) MessagesList(_ context.Context, p protocol.MessagesListParams) (protocol.MessagesListResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listCalls = append(c.listCalls, p)
	if c.listErr != nil {
		return protocol.MessagesListResult{}, c.listErr
	}
	limit := 50
	if p.Limit != nil {
		limit = int(*p.Limit)
	}
	all := c.msgs[string(p.ConversationID)]
	if p.SinceSeq == nil {
		start := max(0, len(all)-limit)
		return protocol.MessagesListResult{Messages: slices.Clone(all[start:]), HasMore: start > 0}, nil
	}
	since, err := strconv.ParseInt(string(*p.SinceSeq), 10, 64)
	if err != nil {
		return protocol.MessagesListResult{}, protocol.InvalidParamsError{Message: "bad sinceSeq"}
	}
	var after []protocol.Message
	for _, m := range all {
		if v, _ := strconv.ParseInt(string(m.Seq), 10, 64); v > since {
			after = append(after, m)
		}
	}
	more := len(after) > limit
	if more {
		after = after[:limit]
	}
	return protocol.MessagesListResult{Messages: after, HasMore: more}, nil
}

// MessagesSend stores the message and records the params.
func (c *Conn) MessagesSend(_ context.Context, p protocol.MessagesSendParams) (protocol.MessagesSendResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, p)
	if c.sendErr != nil {
		return protocol.MessagesSendResult{}, c.sendErr
	}
	text := ""
	for _, part := range p.Parts {
		if t, ok := part.(protocol.TextPart); ok {
			text += t.Text
		}
	}
	return protocol.MessagesSendResult{Message: c.storeLocked(string(p.ConversationID), c.agentID, text, p.ReplyToID)}, nil
}

// DispatchRequest records the params and answers with Dispatch.
func (c *Conn) DispatchRequest(ctx context.Context, p protocol.DispatchRequestParams) (protocol.DispatchRequestResult, error) {
	c.mu.Lock()
	c.dispatch = append(c.dispatch, p)
	n := len(c.dispatch)
	fn := c.dispatchFn
	c.mu.Unlock()
	if fn != nil {
		return fn(ctx, p)
	}
	return protocol.DispatchRequestResult{
		DispatchID: protocol.DispatchID(fmt.Sprintf("d-%d", n)),
		LeaseID:    protocol.LeaseID(fmt.Sprintf("l-%d", n)),
	}, nil
}

// ListCalls returns the messages/list params received so far.
func (c *Conn) ListCalls() []protocol.MessagesListParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.listCalls)
}

// Sent returns the messages/send params received so far.
func (c *Conn) Sent() []protocol.MessagesSendParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

// DispatchRequests returns the dispatch/request params received so far.
func (c *Conn) DispatchRequests() []protocol.DispatchRequestParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.dispatch)
}

// Lookups returns the number of agents/lookup calls.
func (c *Conn) Lookups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}
