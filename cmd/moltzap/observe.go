package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/observatory"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/spf13/cobra"
)

// observe: the live, read-only view of the network (docs/observatory.md), in a terminal.

// envObservatoryToken is the environment variable of observe's --token.
const envObservatoryToken = "MOLTZAP_OBSERVATORY_TOKEN"

// defaultObserveTopic is the topic observed when none is given.
const defaultObserveTopic = "network"

const (
	// observeDialTimeout bounds one connect (TCP, TLS and the WebSocket upgrade).
	observeDialTimeout = 10 * time.Second
	// observeReadLimit is the largest frame accepted: a conversation snapshot holds up to 50
	// messages of up to 32,768 characters each, more than the transport's default 1 MiB.
	observeReadLimit = 16 << 20
	// observeMinBackoff and observeMaxBackoff bound the wait before a reconnect; it doubles
	// after each failed attempt and starts again from the minimum after a subscribed session.
	observeMinBackoff = 250 * time.Millisecond
	observeMaxBackoff = 10 * time.Second
	// observeMaxText is the number of characters of a message shown in the readable form.
	observeMaxText = 240
)

// addObserveCmd registers observe under its own help group.
func addObserveCmd(root *cobra.Command, a *app) {
	root.AddGroup(&cobra.Group{ID: "observe", Title: "Operators:"})
	c := newObserveCmd(a)
	c.GroupID = "observe"
	root.AddCommand(c)
}

func newObserveCmd(a *app) *cobra.Command {
	var token string
	cmd := &cobra.Command{
		Use:   "observe [TOPIC...] [--token TOKEN]",
		Short: "Watch the network live through the server's Observatory (operators)",
		Long: `Watch a live, read-only view of the network: the server's Observatory, which
moltzap-server serves at /observatory when started with --observatory-token (or
--admin-secret). The token is sent in an Authorization header, never in the URL; it comes
from --token or ` + envObservatoryToken + ` (prefer the variable: a flag shows in the process list).

Topics (default network; several may be given):

  network                  agents connecting and leaving, presence, tasks created/closed/failed
  task:TASK_ID             a task, its conversations and their participants
  conversation:CONV_ID     the messages of a conversation (delivered and blocked)
  dispatch:CONV_ID         the dispatch leases of a conversation

Each topic starts with a snapshot of its current state, marked "(snapshot)", then one line
per event:

  15:04:05.000 network presence:changed agent=alice status=online
  15:04:06.120 conversation:0197... message:received #3 alice → bob: hi bob

Agents are named once the network topic has told their names (observe network with the
other topics); until then they are shown by id.

With --json each frame is one JSON object per line, {"topic": ..., "event": ...,
"payload": ...}, the payload as the server sent it (docs/observatory.md lists the events).
Errors the server reports are printed on standard error.

Runs until interrupted (Ctrl-C, exit 0). A dropped connection is re-established with
backoff; the topics are subscribed again and their snapshots printed again (there is no
replay of the events missed meanwhile). A refused token ends with exit 1.`,
		Example: `  MOLTZAP_OBSERVATORY_TOKEN=... moltzap --server https://moltzap.example.com observe
  moltzap observe --token "$TOKEN" --json conversation:0197a0f2-6c1e-7c3b-9d2a-4b5c6d7e8f90 network`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"network", "task:", "conversation:", "dispatch:"}, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			topics, err := observeTopics(args)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("token") {
				token = os.Getenv(envObservatoryToken)
			}
			if strings.TrimSpace(token) == "" {
				return usagef("missing observatory token: pass --token TOKEN or set %s (the server's --observatory-token)", envObservatoryToken)
			}
			u, err := observatoryURL(a.server)
			if err != nil {
				return usagef("--server %q: %v", a.server, err)
			}
			return newObserver(a, u, token, topics).run(cmd.Context())
		}),
	}
	cmd.Flags().StringVar(&token, "token", "", "the server's observatory token (env "+envObservatoryToken+")")
	noCompletion(cmd, "token")
	return cmd
}

// observeTopics validates the topic arguments and returns them normalised (ids in lower
// case, duplicates dropped); none means the network topic.
func observeTopics(args []string) ([]string, error) {
	if len(args) == 0 {
		return []string{defaultObserveTopic}, nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(args))
	for _, arg := range args {
		topic, err := normalTopic(strings.TrimSpace(arg))
		if err != nil {
			return nil, err
		}
		if !seen[topic] {
			seen[topic] = true
			out = append(out, topic)
		}
	}
	return out, nil
}

// normalTopic checks one topic: network, or task:, conversation: or dispatch: and a UUID.
func normalTopic(arg string) (string, error) {
	if arg == defaultObserveTopic {
		return arg, nil
	}
	kind, id, _ := strings.Cut(arg, ":")
	switch kind {
	case "task", "conversation", "dispatch":
		if !isUUID(id) {
			return "", usagef("topic %q: want %s:ID with a UUID (8-4-4-4-12 hex)", arg, kind)
		}
		return kind + ":" + strings.ToLower(id), nil
	}
	return "", usagef("unknown topic %q: want network, task:TASK_ID, conversation:CONV_ID or dispatch:CONV_ID", arg)
}

// observatoryURL is the Observatory endpoint of a server URL: http becomes ws, https wss,
// and the path /observatory replaces a trailing /ws.
func observatoryURL(server string) (string, error) {
	u, err := url.Parse(httpBase(server))
	if err != nil {
		return "", errors.New("not a URL")
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", errors.New("want an http://, https://, ws:// or wss:// URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/observatory"
	return u.String(), nil
}

// observer runs observe: connect, subscribe, print, reconnect. Its state is used by one
// goroutine at a time (run's, which also runs the socket's read loop).
type observer struct {
	url, token     string
	topics         []string
	json           bool
	stdout, stderr io.Writer
	minBackoff     time.Duration
	maxBackoff     time.Duration
	names          map[string]string // agent id -> name, learned from the network topic
}

func newObserver(a *app, u, token string, topics []string) *observer {
	return &observer{url: u, token: token, topics: topics, json: a.json, stdout: a.stdout, stderr: a.stderr,
		minBackoff: observeMinBackoff, maxBackoff: observeMaxBackoff, names: map[string]string{}}
}

// fatalError ends observe instead of a reconnect.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// sessionEnd is how one connection ended.
type sessionEnd struct {
	opened     bool // the socket was opened
	subscribed bool // the server confirmed a subscription
	err        error
}

// run observes until ctx is cancelled (nil) or a fatal error. The first connection must
// open; after that every drop or failed connect is retried with backoff.
func (o *observer) run(ctx context.Context) error {
	delay := o.minBackoff
	opened := false
	for {
		end := o.session(ctx, opened)
		if ctx.Err() != nil {
			return nil
		}
		var fe *fatalError
		if errors.As(end.err, &fe) {
			return fe.err
		}
		if !opened && !end.opened {
			return end.err
		}
		opened = opened || end.opened
		if end.subscribed {
			delay = o.minBackoff
		}
		wait := delay/2 + rand.N(delay/2+1)
		fmt.Fprintf(o.stderr, "moltzap: %v; reconnecting in %s\n", end.err, wait.Round(time.Millisecond))
		if !sleepCtx(ctx, wait) {
			return nil
		}
		delay = min(2*delay, o.maxBackoff)
	}
}

// sleepCtx waits for d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// session runs one connection: dial with the bearer token, subscribe to every topic, print
// the frames until the socket ends. again tells whether this is a reconnect.
func (o *observer) session(ctx context.Context, again bool) sessionEnd {
	dctx, cancel := context.WithTimeout(ctx, observeDialTimeout)
	conn, err := transport.DialHeader(dctx, o.url, http.Header{"Authorization": {"Bearer " + o.token}},
		transport.Config{ReadLimit: observeReadLimit})
	cancel()
	if err != nil {
		return sessionEnd{err: o.dialError(err)}
	}
	s := &observeSession{o: o, conn: conn, again: again,
		pending: map[string]bool{}, observed: map[string]bool{}}
	for _, topic := range o.topics {
		s.pending[topic] = true
		if err := conn.Send(encodeFrame(topic, observatory.EventSubscribe, struct{}{})); err != nil {
			_ = conn.Close(transport.CloseNormal, "")
			return sessionEnd{opened: true, err: fmt.Errorf("subscribe to %s: %w", topic, err)}
		}
	}
	info := conn.Serve(ctx, s.handle)
	end := sessionEnd{opened: true, subscribed: s.subscribed}
	if s.fatal != nil {
		end.err = &fatalError{err: s.fatal}
	} else {
		end.err = fmt.Errorf("observatory connection lost (%d %s)", info.Code, info.Reason)
	}
	return end
}

// dialError classifies a failed connect: a refused token (401) and a server without the
// Observatory (404) are fatal.
func (o *observer) dialError(err error) error {
	var status ws.StatusError
	if errors.As(err, &status) {
		switch int(status) {
		case http.StatusUnauthorized:
			return &fatalError{err: o.tokenRefused("HTTP 401")}
		case http.StatusNotFound:
			return &fatalError{err: fmt.Errorf("%s answered HTTP 404: the server does not serve the Observatory (start it with --observatory-token)", o.url)}
		}
		return fmt.Errorf("connect to %s: HTTP %d", o.url, int(status))
	}
	if cause := errors.Unwrap(err); cause != nil {
		err = cause // drop the transport's "dial URL" prefix
	}
	return fmt.Errorf("connect to %s: %w", o.url, err)
}

func (o *observer) tokenRefused(why string) error {
	return &hintError{err: fmt.Errorf("observatory token refused by %s (%s)", o.url, why),
		hint: "the token (--token or " + envObservatoryToken + ") must be the server's --observatory-token, or its --admin-secret when it has no --observatory-token"}
}

// observeSession is the state of one connection; handle runs on its read loop.
type observeSession struct {
	o          *observer
	conn       *transport.Conn
	again      bool
	pending    map[string]bool // topics not answered yet
	observed   map[string]bool // topics whose subscription was confirmed
	subscribed bool            // some subscription was confirmed
	fatal      error
}

// handle processes one frame.
func (s *observeSession) handle(msg []byte) {
	topic, event, payload, ok := decodeFrame(msg)
	if !ok {
		fmt.Fprintf(s.o.stderr, "moltzap: ignoring a frame that is not [topic, event, payload]: %s\n", truncateRunes(string(msg), 200))
		return
	}
	switch event {
	case observatory.EventSubscribed:
		s.confirm(topic, true)
	case observatory.EventUnsubscribed:
	case observatory.EventError:
		s.serverError(topic, payload)
	default:
		if err := s.o.print(time.Now(), topic, event, payload); err != nil {
			s.stop(fmt.Errorf("write the event: %w", err))
		}
	}
}

// confirm records the answer to a subscription; once every topic is answered a line on
// standard error names the topics observed.
func (s *observeSession) confirm(topic string, ok bool) {
	if _, waiting := s.pending[topic]; !waiting {
		return
	}
	delete(s.pending, topic)
	if ok {
		s.subscribed = true
		s.observed[topic] = true
	}
	if len(s.pending) > 0 || !s.subscribed {
		return
	}
	var topics []string
	for _, t := range s.o.topics {
		if s.observed[t] {
			topics = append(topics, t)
		}
	}
	if s.again {
		fmt.Fprintf(s.o.stderr, "moltzap: reconnected; observing %s again\n", strings.Join(topics, ", "))
		return
	}
	fmt.Fprintf(s.o.stderr, "moltzap: observing %s on %s; Ctrl-C to stop\n", strings.Join(topics, ", "), s.o.url)
}

// serverError prints an error event; UNAUTHORIZED ends observe.
func (s *observeSession) serverError(topic string, payload json.RawMessage) {
	var e observatory.ErrorPayload
	if json.Unmarshal(payload, &e) != nil {
		e.Message = string(payload)
	}
	if e.Code == observatory.CodeUnauthorized {
		s.stop(s.o.tokenRefused("UNAUTHORIZED: " + e.Message))
		return
	}
	fmt.Fprintf(s.o.stderr, "moltzap: observatory error on %s: %s: %s\n", topic, e.Code, e.Message)
	s.confirm(topic, false)
}

// stop ends the session with a fatal error.
func (s *observeSession) stop(err error) {
	if s.fatal == nil {
		s.fatal = err
	}
	_ = s.conn.Close(transport.CloseNormal, "") // only starts the close: called from the read loop
}

// encodeFrame is the frame [topic, event, payload].
func encodeFrame(topic, event string, payload any) []byte {
	b, _ := json.Marshal([3]any{topic, event, payload}) // strings and a struct{}: cannot fail
	return b
}

// decodeFrame decodes [topic, event, payload].
func decodeFrame(msg []byte) (topic, event string, payload json.RawMessage, ok bool) {
	var parts []json.RawMessage
	if json.Unmarshal(msg, &parts) != nil || len(parts) != 3 {
		return "", "", nil, false
	}
	if json.Unmarshal(parts[0], &topic) != nil || json.Unmarshal(parts[1], &event) != nil || topic == "" || event == "" {
		return "", "", nil, false
	}
	return topic, event, parts[2], true
}

// observedEvent is the --json form of one event.
type observedEvent struct {
	Topic   string          `json:"topic"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// print writes one event, received at at.
func (o *observer) print(at time.Time, topic, event string, payload json.RawMessage) error {
	if o.json {
		return printJSONLine(o.stdout, observedEvent{Topic: topic, Event: event, Payload: payload})
	}
	_, err := fmt.Fprintln(o.stdout, o.format(at, topic, event, payload))
	return err
}

// format renders an event readably: "15:04:05.000 TOPIC EVENT DETAIL", then the items of a
// snapshot on indented lines.
func (o *observer) format(at time.Time, topic, event string, payload json.RawMessage) string {
	detail, items := o.describe(event, payload)
	var b strings.Builder
	b.WriteString(at.Format("15:04:05.000") + " " + topic + " " + event)
	if detail != "" {
		b.WriteString(" " + detail)
	}
	for _, it := range items {
		b.WriteString("\n    " + it)
	}
	return b.String()
}

// describe renders a payload; one it cannot read is shown as its JSON.
func (o *observer) describe(event string, payload json.RawMessage) (string, []string) {
	detail, items, ok := o.describeKnown(event, payload)
	if !ok {
		return compactJSON(payload), nil
	}
	return detail, items
}

// describeKnown renders the events of docs/observatory.md; ok is false for an unknown event
// or a payload it cannot read.
func (o *observer) describeKnown(event string, raw json.RawMessage) (string, []string, bool) {
	switch {
	case event == "network:snapshot":
		return o.networkSnapshot(raw)
	case event == "task:snapshot":
		return o.taskSnapshot(raw)
	case event == "conversation:snapshot":
		return o.conversationSnapshot(raw)
	case event == "dispatch:snapshot":
		return o.dispatchSnapshot(raw)
	case event == "agent:connected", event == "agent:disconnected":
		return one(decodeThen(raw, o.agentText))
	case event == "presence:changed":
		return one(decodeThen(raw, func(p obsPresence) string { return "agent=" + o.name(p.AgentID) + " status=" + p.Status }))
	case event == "task:created", event == "task:closed":
		return one(decodeThen(raw, func(p obsTaskEvent) string { return o.taskText(p.Task) }))
	case event == "task:failed":
		return one(decodeThen(raw, func(p obsTaskEvent) string { return "task=" + p.TaskID }))
	case event == "message:received", event == "message:blocked":
		return one(decodeThen(raw, o.observedText))
	case strings.HasPrefix(event, "lease:"):
		return one(decodeThen(raw, func(p obsLeaseEvent) string { return o.leaseText(p.Lease) }))
	}
	return o.describeConversationEvent(event, raw)
}

// describeConversationEvent renders the conversation events of a task topic.
func (o *observer) describeConversationEvent(event string, raw json.RawMessage) (string, []string, bool) {
	type convEvent struct {
		ConversationID string          `json:"conversationId"`
		Conversation   obsConversation `json:"conversation"`
		AgentIDs       []string        `json:"agentIds"`
		AgentID        string          `json:"agentId"`
	}
	switch event {
	case "conversation:created":
		return one(decodeThen(raw, func(p convEvent) string { return o.conversationText(p.Conversation) }))
	case "conversation:archived", "conversation:unarchived":
		return one(decodeThen(raw, func(p convEvent) string { return "conversation=" + p.ConversationID }))
	case "participants:added":
		return one(decodeThen(raw, func(p convEvent) string {
			return "conversation=" + p.ConversationID + " agents=" + o.nameList(p.AgentIDs)
		}))
	case "participants:removed":
		return one(decodeThen(raw, func(p convEvent) string {
			return "conversation=" + p.ConversationID + " agent=" + o.name(p.AgentID)
		}))
	}
	return "", nil, false
}

// decodeThen decodes raw as T and renders it with f.
func decodeThen[T any](raw json.RawMessage, f func(T) string) (string, bool) {
	var v T
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return f(v), true
}

// one adapts a one-line rendering to describeKnown's results.
func one(detail string, ok bool) (string, []string, bool) { return detail, nil, ok }

// The payload shapes of docs/observatory.md, read leniently: only what is printed.

type obsAgent struct {
	AgentID     string `json:"agentId"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Connections int    `json:"connections"`
	ConnectedAt string `json:"connectedAt"`
}

type obsPresence struct {
	AgentID string `json:"agentId"`
	Status  string `json:"status"`
}

type obsTaskEvent struct {
	Task   obsTask `json:"task"`
	TaskID string  `json:"taskId"`
}

type obsLeaseEvent struct {
	Lease obsLease `json:"lease"`
}

type obsTask struct {
	ID               string `json:"id"`
	AppID            string `json:"appId"`
	InitiatorAgentID string `json:"initiatorAgentId"`
	Status           string `json:"status"`
}

type obsConversation struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Name       *string `json:"name"`
	CreatedBy  string  `json:"createdBy"`
	ArchivedAt *string `json:"archivedAt"`
}

type obsObserved struct {
	TaskID  string `json:"taskId"`
	Message struct {
		SenderID string          `json:"senderId"`
		Seq      string          `json:"seq"`
		Parts    json.RawMessage `json:"parts"`
	} `json:"message"`
	Decision struct {
		Verdict    string   `json:"verdict"`
		Reason     *string  `json:"reason"`
		Recipients []string `json:"recipients"`
	} `json:"decision"`
}

type obsLease struct {
	LeaseID          string `json:"leaseId"`
	DispatchID       string `json:"dispatchId"`
	RecipientAgentID string `json:"recipientAgentId"`
	State            string `json:"state"`
	Verdict          *struct {
		Decision string `json:"decision"`
	} `json:"verdict"`
}

func (o *observer) networkSnapshot(raw json.RawMessage) (string, []string, bool) {
	var p struct {
		Agents []obsAgent `json:"agents"`
		Tasks  []obsTask  `json:"tasks"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", nil, false
	}
	items := make([]string, 0, len(p.Agents)+len(p.Tasks))
	for _, ag := range p.Agents {
		items = append(items, o.agentText(ag))
	}
	for _, t := range p.Tasks {
		items = append(items, o.taskText(t))
	}
	return fmt.Sprintf("(snapshot) %d %s connected, %d recent %s", len(p.Agents), plural(len(p.Agents), "agent", "agents"),
		len(p.Tasks), plural(len(p.Tasks), "task", "tasks")), items, true
}

func (o *observer) taskSnapshot(raw json.RawMessage) (string, []string, bool) {
	var p struct {
		Task          *obsTask          `json:"task"`
		Participants  []string          `json:"participants"`
		Conversations []obsConversation `json:"conversations"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", nil, false
	}
	if p.Task == nil {
		return "(snapshot) no such task", nil, true
	}
	items := make([]string, 0, len(p.Conversations))
	for _, c := range p.Conversations {
		items = append(items, o.conversationText(c))
	}
	return fmt.Sprintf("(snapshot) %s participants=%s", o.taskText(*p.Task), o.nameList(p.Participants)), items, true
}

func (o *observer) conversationSnapshot(raw json.RawMessage) (string, []string, bool) {
	var p struct {
		Conversation *obsConversation `json:"conversation"`
		TaskID       string           `json:"taskId"`
		Messages     []obsObserved    `json:"messages"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", nil, false
	}
	if p.Conversation == nil {
		return "(snapshot) no such conversation", nil, true
	}
	items := make([]string, 0, len(p.Messages))
	for _, m := range p.Messages {
		items = append(items, o.observedText(m))
	}
	return fmt.Sprintf("(snapshot) %s task=%s, %d %s", o.conversationText(*p.Conversation), p.TaskID,
		len(p.Messages), plural(len(p.Messages), "message", "messages")), items, true
}

func (o *observer) dispatchSnapshot(raw json.RawMessage) (string, []string, bool) {
	var p struct {
		Leases []obsLease `json:"leases"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return "", nil, false
	}
	items := make([]string, 0, len(p.Leases))
	for _, l := range p.Leases {
		items = append(items, o.leaseText(l))
	}
	return fmt.Sprintf("(snapshot) %d %s", len(p.Leases), plural(len(p.Leases), "lease", "leases")), items, true
}

// agentText renders an AgentPresence and remembers the agent's name.
func (o *observer) agentText(ag obsAgent) string {
	if ag.AgentID != "" && ag.Name != "" {
		o.names[strings.ToLower(ag.AgentID)] = ag.Name
	}
	s := fmt.Sprintf("agent=%s id=%s status=%s connections=%d", o.name(ag.AgentID), ag.AgentID, ag.Status, ag.Connections)
	if ag.ConnectedAt != "" {
		s += " since=" + clock(ag.ConnectedAt)
	}
	return s
}

func (o *observer) taskText(t obsTask) string {
	return fmt.Sprintf("task=%s status=%s app=%s initiator=%s", t.ID, t.Status, t.AppID, o.name(t.InitiatorAgentID))
}

func (o *observer) conversationText(c obsConversation) string {
	s := "conversation=" + c.ID
	if c.Name != nil {
		s += fmt.Sprintf(" name=%q", *c.Name)
	}
	s += " type=" + c.Type + " by=" + o.name(c.CreatedBy)
	if c.ArchivedAt != nil {
		s += " archived"
	}
	return s
}

// observedText renders an ObservedMessage: "#3 alice → bob: hi bob", followed by the
// verdict when it is not forward ("[block: reason]").
func (o *observer) observedText(m obsObserved) string {
	s := "#" + m.Message.Seq + " " + o.name(m.Message.SenderID)
	if len(m.Decision.Recipients) > 0 {
		s += " → " + o.nameList(m.Decision.Recipients)
	}
	s += ": " + truncateRunes(oneLine(messageText(m.Message.Parts)), observeMaxText)
	if v := m.Decision.Verdict; v != "" && v != "forward" {
		if m.Decision.Reason != nil && *m.Decision.Reason != "" {
			v += ": " + oneLine(*m.Decision.Reason)
		}
		s += " [" + v + "]"
	}
	return s
}

func (o *observer) leaseText(l obsLease) string {
	s := fmt.Sprintf("lease=%s state=%s recipient=%s dispatch=%s", l.LeaseID, l.State, o.name(l.RecipientAgentID), l.DispatchID)
	if l.Verdict != nil && l.Verdict.Decision != "" {
		s += " verdict=" + l.Verdict.Decision
	}
	return s
}

// name is the name of agent id when the network topic told it, else the id.
func (o *observer) name(id string) string {
	if n, ok := o.names[strings.ToLower(id)]; ok {
		return n
	}
	return id
}

func (o *observer) nameList(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = o.name(id)
	}
	return strings.Join(names, ",")
}

// messageText renders message parts on one line; parts it cannot read are shown as JSON.
func messageText(raw json.RawMessage) string {
	parts, err := protocol.DecodeMessageParts(raw)
	if err != nil {
		return compactJSON(raw)
	}
	return partsText(parts)
}

// clock renders an RFC 3339 time as local "15:04:05"; an unparsable value is returned as is.
func clock(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format("15:04:05")
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// truncateRunes shortens s to at most n characters, marking a cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
