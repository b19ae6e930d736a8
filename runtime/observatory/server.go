package observatory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/runtime/transport"
)

// DefaultMaxConnections is the connection cap used when
// Options.MaxConnections is not set.
const DefaultMaxConnections = 100

// Error codes carried by error events.
const (
	// CodeInvalidPayload reports a frame that is not JSON or not a
	// [string, string, any] triple; it is sent on the topic "error".
	CodeInvalidPayload = "INVALID_PAYLOAD"
	// CodeInternalError reports a topic that no channel matches; it is sent
	// on that topic.
	CodeInternalError = "INTERNAL_ERROR"
	// CodeUnauthorized answers every frame of a connection that has not
	// authenticated yet (Options.Auth), on the authentication topic.
	CodeUnauthorized = "UNAUTHORIZED"
	// CodeReadOnly answers a client event other than subscribe and
	// unsubscribe on a read-only server (Options.ReadOnly).
	CodeReadOnly = "READ_ONLY"
)

// Events and topics of the wire format (REFERENCE 18.1).
const (
	// EventSubscribe is the built-in client event subscribing to a topic.
	EventSubscribe = "subscribe"
	// EventUnsubscribe is the built-in client event removing a subscription.
	EventUnsubscribe = "unsubscribe"
	// EventSubscribed confirms a subscription, echoing its id.
	EventSubscribed = "subscribed"
	// EventUnsubscribed confirms an unsubscription.
	EventUnsubscribed = "unsubscribed"
	// EventError carries an ErrorPayload.
	EventError = "error"
	// TopicError is the topic of INVALID_PAYLOAD errors.
	TopicError = "error"
)

// Close reasons sent by the server.
const (
	// ReasonAtCapacity closes (1008) a connection beyond the cap.
	ReasonAtCapacity = "Server at maximum capacity"
	// ReasonShuttingDown closes (1000) every connection on Shutdown.
	ReasonShuttingDown = "Server shutting down"
	// ReasonAuthTimeout closes (1008) a connection that has not
	// authenticated within Auth.Timeout.
	ReasonAuthTimeout = "Authentication timeout"
)

// ErrorPayload is the payload of an error event.
type ErrorPayload struct {
	// Code is CodeInvalidPayload or CodeInternalError.
	Code string `json:"code"`
	// Message describes the error.
	Message string `json:"message"`
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// MaxConnections is the largest number of open connections; a connection
	// beyond it is closed with 1008 "Server at maximum capacity". Zero or
	// negative means DefaultMaxConnections (100).
	MaxConnections int
	// Transport configures every WebSocket connection.
	Transport transport.Config
	// Logger receives connection and routing events; nil discards them.
	Logger *slog.Logger
	// Auth, when set, requires every connection to authenticate before it
	// may use the server; nil leaves the server open (the seed pattern).
	Auth *Auth
	// ReadOnly refuses every client event other than subscribe and
	// unsubscribe with an error event of code READ_ONLY on its topic,
	// instead of routing it to a channel's event handlers.
	ReadOnly bool
}

// Server is a topic-channel WebSocket server; it is an http.Handler to be
// mounted where the WebSocket endpoint lives. Create it with New; its methods
// are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context // handler context, cancelled by Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup // admitted connections being served

	mu       sync.RWMutex
	channels []*Channel
	conns    map[*conn]struct{}
	topics   map[string]map[*conn]struct{} // topic -> subscribed connections
	nextID   uint64
	closing  bool

	subscriptions atomic.Int64  // (connection, topic) pairs, kept in step with topics under mu
	accepted      atomic.Uint64 // TCP connections numbered by ConnContext
}

// conn is one admitted WebSocket connection.
type conn struct {
	id        string
	ws        *transport.Conn
	subs      map[string]struct{} // guarded by Server.mu
	authed    atomic.Bool         // always true without Options.Auth
	authTimer *time.Timer         // closes an unauthenticated socket; nil once authenticated or without Auth

	acceptSeq  uint64      // accept order (ConnContext), 0 when unknown
	admittedAt time.Time   // when admit registered it
	active     atomic.Bool // a frame has been received
}

// send queues msg on the socket.
func (c *conn) send(msg []byte) error {
	if err := c.ws.Send(msg); err != nil {
		return fmt.Errorf("observatory: send on %s: %w", c.id, err)
	}
	return nil
}

// New returns a server with no channels.
func New(opts Options) *Server {
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts: opts, log: log, ctx: ctx, cancel: cancel,
		conns:  make(map[*conn]struct{}),
		topics: make(map[string]map[*conn]struct{}),
	}
}

// Register adds ch after the channels already registered (the first matching
// channel wins) and returns s.
func (s *Server) Register(ch *Channel) *Server {
	s.mu.Lock()
	s.channels = append(s.channels, ch)
	s.mu.Unlock()
	return s
}

// findChannel returns the first channel matching topic.
func (s *Server) findChannel(topic string) (*Channel, Params, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ch := range s.channels {
		if p, ok := ch.Match(topic); ok {
			return ch, p, true
		}
	}
	return nil, nil, false
}

// ServeHTTP upgrades the request to a WebSocket and serves it until it ends.
// An invalid upgrade is answered with HTTP 400; a connection beyond the cap
// is closed with 1008 "Server at maximum capacity", one arriving during or
// after Shutdown with 1000 "Server shutting down".
//
// With Options.Auth, a request carrying "Authorization: Bearer <token>" is
// authenticated by it before the upgrade (a token Auth.Verify refuses is
// answered HTTP 401 and no socket is opened); a request without it gets a
// socket that must authenticate with its first frame.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authed := false
	if s.opts.Auth != nil {
		if token, ok := bearerToken(r); ok {
			if !s.opts.Auth.Verify(token) {
				s.log.Warn("observatory: bearer token refused", "remote", r.RemoteAddr)
				w.Header().Set("WWW-Authenticate", `Bearer realm="observatory"`)
				http.Error(w, "observatory: invalid token", http.StatusUnauthorized)
				return
			}
			authed = true
		}
	}
	ws, err := transport.Upgrade(w, r, s.opts.Transport)
	if err != nil {
		s.log.Debug("observatory: websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.serve(ws, authed, acceptSeq(r.Context()))
}

// ServeConn serves an already upgraded connection until it ends, applying
// the cap and shutdown rules of ServeHTTP. It is meant for embedders that
// check the upgrade request (for instance its credentials) themselves.
//
// With Options.Auth the connection must authenticate with its first frame;
// ServeAuthenticatedConn serves one whose upgrade request was already
// authenticated by the embedder.
func (s *Server) ServeConn(ws *transport.Conn) { s.serve(ws, false, 0) }

// ServeAuthenticatedConn is ServeConn for a connection the embedder has
// authenticated itself: Options.Auth does not apply to it.
func (s *Server) ServeAuthenticatedConn(ws *transport.Conn) { s.serve(ws, true, 0) }

// serve admits ws and serves it until it ends; authed tells whether it is
// authenticated already, seq is its accept number (0 when unknown).
func (s *Server) serve(ws *transport.Conn, authed bool, seq uint64) {
	c, code, reason := s.admit(ws, authed, seq)
	if c == nil {
		s.log.Warn("observatory: connection rejected", "remote", ws.RemoteAddr(), "reason", reason)
		_ = ws.Close(code, reason) // sendable constant code
		return
	}
	defer s.wg.Done()
	s.log.Debug("observatory: client connected", "conn", c.id)
	ctx, cancel := context.WithCancel(s.ctx)
	// Serve runs under a context that is never cancelled: cancelling it would
	// close with 1001, and the server picks its own close codes.
	info := ws.Serve(context.Background(), func(msg []byte) { s.handleMessage(ctx, c, msg) })
	cancel()
	s.drop(c)
	s.log.Debug("observatory: client disconnected", "conn", c.id, "close", info.String())
}

// admit registers ws as a connection, or returns the close code and reason
// to reject it with.
func (s *Server) admit(ws *transport.Conn, authed bool, seq uint64) (*conn, transport.CloseCode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return nil, transport.CloseNormal, ReasonShuttingDown
	case len(s.conns) >= s.opts.MaxConnections && !s.evictLaterLocked(seq):
		return nil, transport.ClosePolicyViolation, ReasonAtCapacity
	}
	s.nextID++
	c := &conn{id: "conn_" + strconv.FormatUint(s.nextID, 10), ws: ws, subs: make(map[string]struct{}),
		acceptSeq: seq, admittedAt: time.Now()}
	if authed || s.opts.Auth == nil {
		c.authed.Store(true)
	} else {
		c.authTimer = time.AfterFunc(s.opts.Auth.timeout(), func() {
			if !c.authed.Load() {
				s.log.Warn("observatory: connection did not authenticate in time", "conn", c.id)
				_ = ws.Close(transport.ClosePolicyViolation, ReasonAuthTimeout) // sendable constant code
			}
		})
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c, 0, ""
}

// drop forgets a connection that has ended, with its subscriptions.
func (s *Server) drop(c *conn) {
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic := range c.subs {
		s.unsubscribeLocked(c, topic)
	}
	delete(s.conns, c)
}

// unsubscribeLocked removes the subscription of c to topic, if any.
func (s *Server) unsubscribeLocked(c *conn, topic string) {
	delete(c.subs, topic)
	if set := s.topics[topic]; set != nil {
		if _, ok := set[c]; ok {
			s.subscriptions.Add(-1)
		}
		delete(set, c)
		if len(set) == 0 {
			delete(s.topics, topic)
		}
	}
}

// handleMessage handles one inbound frame of c.
func (s *Server) handleMessage(ctx context.Context, c *conn, msg []byte) {
	c.active.Store(true)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("observatory: handler panicked", "conn", c.id, "panic", v)
		}
	}()
	if !json.Valid(msg) {
		s.sendError(c, TopicError, CodeInvalidPayload, "Invalid JSON")
		return
	}
	topic, event, payload, ok := parseFrame(msg)
	if !ok {
		s.sendError(c, TopicError, CodeInvalidPayload, "Message must be [topic, event, payload]")
		return
	}
	if !c.authed.Load() {
		s.authenticate(c, topic, event, payload)
		return
	}
	switch event {
	case EventSubscribe:
		s.handleSubscribe(ctx, c, topic, payload)
	case EventUnsubscribe:
		s.mu.Lock()
		s.unsubscribeLocked(c, topic)
		s.mu.Unlock()
		s.sendTo(c, topic, EventUnsubscribed, struct{}{})
		s.log.Debug("observatory: unsubscribed", "conn", c.id, "topic", topic)
	default:
		if s.opts.ReadOnly {
			s.sendError(c, topic, CodeReadOnly, "This view is read-only: only subscribe and unsubscribe are accepted")
			return
		}
		ch, params, found := s.findChannel(topic)
		if !found {
			s.sendError(c, topic, CodeInternalError, "No channel matches topic: "+topic)
			return
		}
		h := ch.handlers[event]
		if h == nil {
			s.log.Warn("observatory: unhandled event", "conn", c.id, "topic", topic, "event", event)
			return
		}
		cc := &ChannelContext{Topic: topic, Params: params, srv: s, conn: c}
		if err := h(ctx, cc, payload); err != nil {
			s.log.Error("observatory: event handler failed", "conn", c.id, "topic", topic, "event", event, "err", err)
		}
	}
}

// subscribedPayload is the payload of subscribed; a missing id is omitted.
type subscribedPayload struct {
	ID *string `json:"id,omitempty"`
}

// handleSubscribe subscribes c to topic, confirms, then runs the join
// handler.
func (s *Server) handleSubscribe(ctx context.Context, c *conn, topic string, payload json.RawMessage) {
	ch, params, found := s.findChannel(topic)
	if !found {
		s.sendError(c, topic, CodeInternalError, "No channel matches topic: "+topic)
		return
	}
	var ack subscribedPayload
	var p map[string]any
	if json.Unmarshal(payload, &p) == nil && p != nil {
		if id, ok := p["id"].(string); ok {
			ack.ID = &id
		}
	}
	msg, err := encode(topic, EventSubscribed, ack)
	if err != nil { // cannot happen: the payload is a struct of a string
		s.log.Error("observatory: encode subscribed", "err", err)
		return
	}
	// Subscribing and queueing the confirmation under the lock that
	// Broadcast holds guarantees that subscribed precedes any broadcast on
	// the topic.
	s.mu.Lock()
	c.subs[topic] = struct{}{}
	set := s.topics[topic]
	if set == nil {
		set = make(map[*conn]struct{})
		s.topics[topic] = set
	}
	if _, ok := set[c]; !ok {
		s.subscriptions.Add(1)
	}
	set[c] = struct{}{}
	err = c.send(msg)
	s.mu.Unlock()
	if err != nil {
		return // the socket is closing
	}
	s.log.Debug("observatory: subscribed", "conn", c.id, "topic", topic)
	if ch.onJoin == nil {
		return
	}
	cc := &ChannelContext{Topic: topic, Params: params, srv: s, conn: c}
	if err := ch.onJoin(ctx, cc); err != nil {
		s.log.Error("observatory: join handler failed", "conn", c.id, "topic", topic, "err", err)
	}
}

// parseFrame decodes msg, valid JSON, as [string, string, any].
func parseFrame(msg []byte) (topic, event string, payload json.RawMessage, ok bool) {
	var parts []json.RawMessage
	if json.Unmarshal(msg, &parts) != nil || len(parts) != 3 {
		return "", "", nil, false
	}
	if !isString(parts[0]) || !isString(parts[1]) {
		return "", "", nil, false
	}
	if json.Unmarshal(parts[0], &topic) != nil || json.Unmarshal(parts[1], &event) != nil {
		return "", "", nil, false
	}
	return topic, event, parts[2], true
}

// isString reports whether the JSON value raw is a string (null would
// otherwise decode into a Go string without error).
func isString(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '"'
}

// encode returns the frame [topic, event, payload].
func encode(topic, event string, payload any) ([]byte, error) {
	msg, err := json.Marshal([3]any{topic, event, payload})
	if err != nil {
		return nil, fmt.Errorf("observatory: encode %s %s: %w", topic, event, err)
	}
	return msg, nil
}

// sendTo sends [topic, event, payload] to c, logging failures.
func (s *Server) sendTo(c *conn, topic, event string, payload any) {
	msg, err := encode(topic, event, payload)
	if err == nil {
		err = c.send(msg)
	}
	if err != nil {
		s.log.Debug("observatory: send failed", "conn", c.id, "topic", topic, "event", event, "err", err)
	}
}

// sendError sends an error event to c.
func (s *Server) sendError(c *conn, topic, code, message string) {
	s.sendTo(c, topic, EventError, ErrorPayload{Code: code, Message: message})
}

// Broadcast sends [topic, event, payload] to every open socket subscribed to
// exactly topic, encoding it once, and returns the number of sockets it was
// queued on. It does not block on the network. With no subscriber it returns
// 0 without encoding payload (so an unencodable payload goes unnoticed).
func (s *Server) Broadcast(topic, event string, payload any) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := s.topics[topic]
	if len(set) == 0 {
		return 0, nil
	}
	msg, err := encode(topic, event, payload)
	if err != nil {
		return 0, err
	}
	n := 0
	for c := range set {
		if c.ws.Send(msg) == nil {
			n++
		}
	}
	if n > 0 {
		s.log.Debug("observatory: broadcast", "topic", topic, "event", event, "subscribers", n)
	}
	return n, nil
}

// ConnectionCount returns the number of open connections (rejected ones
// excluded).
func (s *Server) ConnectionCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.conns)
}

// Watched reports whether any connection is subscribed to any topic. It is
// one atomic load, meant for producers that build events only while someone
// watches.
func (s *Server) Watched() bool { return s.subscriptions.Load() > 0 }

// SubscriberCount returns the number of connections subscribed to exactly
// topic.
func (s *Server) SubscriberCount(topic string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.topics[topic])
}

// Shutdown closes every connection with 1000 "Server shutting down", cancels
// the handlers' contexts and waits until every connection has ended, or
// until ctx ends (then it returns ctx's error and the closes go on in the
// background). Connections arriving afterwards are closed at once with the
// same code. Shutdown may be called more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go func() { _ = c.ws.Close(transport.CloseNormal, ReasonShuttingDown) }()
	}
	// Cancelling the handlers' contexts lets blocked handlers return so that
	// the connections can end; it does not change their close code, since
	// Serve runs under a context of its own.
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("observatory: shutdown: %w", ctx.Err())
	}
}
