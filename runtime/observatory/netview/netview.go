// Package netview is the MoltZap network view on the Observatory (REFERENCE
// 18.3, docs/observatory.md): a read-only observatory.Server whose topics
// mirror the network as the server sees it.
//
//   - network: the agents online and their presence, and recent tasks;
//   - task:<taskId>: a task, its participants and conversations;
//   - conversation:<conversationId>: the last 50 messages with their
//     decisions, then each message as it is delivered or blocked;
//   - dispatch:<conversationId>: the conversation's dispatch leases and
//     their transitions.
//
// A View is the server's feed.Observer (server.Config.Feed) and reads its
// snapshots from a feed.Source (Server.FeedSource). Nothing is built or
// encoded for a topic nobody watches, and while nobody watches anything the
// server pays one atomic load per event.
package netview

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/feed"
	"github.com/moltzap/moltzap-go/runtime/observatory"
)

// Topics and their prefixes.
const (
	TopicNetwork       = "network"
	PrefixTask         = "task:"
	PrefixConversation = "conversation:"
	PrefixDispatch     = "dispatch:"
)

// Snapshot sizes.
const (
	// SnapshotMessages is the number of messages in a conversation snapshot.
	SnapshotMessages = 50
	// SnapshotTasks is the largest number of tasks in the network snapshot.
	SnapshotTasks = 100
)

// Options configures a View.
type Options struct {
	// Token is the secret an observer presents (Authorization: Bearer, or the
	// first frame for browsers). It is required.
	Token string
	// MaxConnections caps the open sockets (observatory default when zero).
	MaxConnections int
	// Observatory carries the remaining settings of the underlying server
	// (transport, logger); its Auth, ReadOnly and MaxConnections are set by
	// New.
	Observatory observatory.Options
}

// View is the network view: an http.Handler serving the observatory
// WebSocket, and the feed.Observer the MoltZap server reports to.
type View struct {
	obs    *observatory.Server
	log    *slog.Logger
	source atomic.Pointer[sourceBox]
}

// sourceBox holds the feed.Source for an atomic pointer.
type sourceBox struct{ feed.Source }

var _ feed.Observer = (*View)(nil)

// New returns a view with no source: call SetSource before serving (the
// server is built with the view as its feed, then gives its source).
func New(opts Options) (*View, error) {
	if opts.Token == "" {
		return nil, fmt.Errorf("netview: a token is required")
	}
	o := opts.Observatory
	o.Auth = &observatory.Auth{Verify: observatory.TokenVerifier(opts.Token)}
	o.ReadOnly = true
	o.MaxConnections = opts.MaxConnections
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &View{obs: observatory.New(o), log: log}
	v.register()
	return v, nil
}

// SetSource sets where snapshots are read from.
func (v *View) SetSource(src feed.Source) { v.source.Store(&sourceBox{src}) }

// ServeHTTP serves the observatory WebSocket.
func (v *View) ServeHTTP(w http.ResponseWriter, r *http.Request) { v.obs.ServeHTTP(w, r) }

// Shutdown closes every observer socket (1000) and waits for them, bounded
// by ctx.
func (v *View) Shutdown(ctx context.Context) error { return v.obs.Shutdown(ctx) }

// ConnContext numbers TCP connections in accept order for the cap (see
// observatory.Server.ConnContext); set it as http.Server.ConnContext.
func (v *View) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return v.obs.ConnContext(ctx, c)
}

// ConnectionCount returns the number of open observer sockets.
func (v *View) ConnectionCount() int { return v.obs.ConnectionCount() }

// register adds the four channels.
func (v *View) register() {
	v.obs.Register(observatory.MustChannel(TopicNetwork).OnJoin(v.joinNetwork))
	v.obs.Register(observatory.MustChannel(PrefixTask + "<taskId>").OnJoin(v.joinTask))
	v.obs.Register(observatory.MustChannel(PrefixConversation + "<conversationId>").OnJoin(v.joinConversation))
	v.obs.Register(observatory.MustChannel(PrefixDispatch + "<conversationId>").OnJoin(v.joinDispatch))
}

// src returns the snapshot source, or an error before SetSource.
func (v *View) src() (feed.Source, error) {
	b := v.source.Load()
	if b == nil {
		return nil, fmt.Errorf("netview: no snapshot source")
	}
	return b.Source, nil
}

// snapshotFailed tells the subscriber its snapshot could not be read.
func snapshotFailed(c *observatory.ChannelContext, err error) error {
	_ = c.Send(observatory.EventError, observatory.ErrorPayload{Code: observatory.CodeInternalError, Message: "snapshot unavailable"})
	return err
}

// networkSnapshot is the payload of network:snapshot.
type networkSnapshot struct {
	Agents []feed.AgentPresence `json:"agents"`
	Tasks  []protocol.Task      `json:"tasks"`
}

func (v *View) joinNetwork(ctx context.Context, c *observatory.ChannelContext) error {
	src, err := v.src()
	if err != nil {
		return snapshotFailed(c, err)
	}
	agents, err := src.OnlineAgents(ctx)
	if err != nil {
		return snapshotFailed(c, err)
	}
	tasks, err := src.RecentTasks(ctx, SnapshotTasks)
	if err != nil {
		return snapshotFailed(c, err)
	}
	return c.Send("network:snapshot", networkSnapshot{Agents: nonNil(agents), Tasks: nonNil(tasks)})
}

// taskSnapshot is the payload of task:snapshot; Task is null for an unknown
// task.
type taskSnapshot struct {
	Task          *protocol.Task          `json:"task"`
	Participants  []protocol.AgentID      `json:"participants"`
	Conversations []protocol.Conversation `json:"conversations"`
}

func (v *View) joinTask(ctx context.Context, c *observatory.ChannelContext) error {
	src, err := v.src()
	if err != nil {
		return snapshotFailed(c, err)
	}
	tv, ok, err := src.Task(ctx, protocol.TaskID(c.Params["taskId"]))
	if err != nil {
		return snapshotFailed(c, err)
	}
	snap := taskSnapshot{Participants: []protocol.AgentID{}, Conversations: []protocol.Conversation{}}
	if ok {
		snap.Task, snap.Participants, snap.Conversations = &tv.Task, nonNil(tv.Participants), nonNil(tv.Conversations)
	}
	return c.Send("task:snapshot", snap)
}

// conversationSnapshot is the payload of conversation:snapshot;
// Conversation is null for an unknown conversation.
type conversationSnapshot struct {
	Conversation *protocol.Conversation `json:"conversation"`
	TaskID       *protocol.TaskID       `json:"taskId"`
	Messages     []feed.ObservedMessage `json:"messages"`
}

func (v *View) joinConversation(ctx context.Context, c *observatory.ChannelContext) error {
	src, err := v.src()
	if err != nil {
		return snapshotFailed(c, err)
	}
	cv, ok, err := src.Conversation(ctx, protocol.ConversationID(c.Params["conversationId"]), SnapshotMessages)
	if err != nil {
		return snapshotFailed(c, err)
	}
	snap := conversationSnapshot{Messages: []feed.ObservedMessage{}}
	if ok {
		snap.Conversation, snap.TaskID, snap.Messages = &cv.Conversation, &cv.TaskID, nonNil(cv.Messages)
	}
	return c.Send("conversation:snapshot", snap)
}

// dispatchSnapshot is the payload of dispatch:snapshot.
type dispatchSnapshot struct {
	Leases []protocol.LeaseRecord `json:"leases"`
}

func (v *View) joinDispatch(_ context.Context, c *observatory.ChannelContext) error {
	src, err := v.src()
	if err != nil {
		return snapshotFailed(c, err)
	}
	leases := src.Leases(protocol.ConversationID(c.Params["conversationId"]))
	return c.Send("dispatch:snapshot", dispatchSnapshot{Leases: nonNil(leases)})
}

// nonNil returns s, or an empty slice for nil (so that it encodes as []).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// lower returns an id as topics spell it (ids are lowercase UUIDs).
func lower[T ~string](id T) string { return strings.ToLower(string(id)) }
