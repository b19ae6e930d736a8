// Package server is the MoltZap server: the WebSocket endpoint and connection manager, the
// handlers of every protocol method (one file per area) on the generated ServerHandlers
// interface, the TaskMaster callbacks, dispatch leases, presence, rate limits and the HTTP
// endpoints (health, registration, claim, admin registration, metrics).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/rpc"
	"github.com/moltzap/moltzap-go/runtime/server/lease"
	"github.com/moltzap/moltzap-go/runtime/server/presence"
	"github.com/moltzap/moltzap-go/runtime/server/ratelimit"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/transport"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Server is one MoltZap server process over a Store.
type Server struct {
	cfg        Config
	store      store.Store
	log        *slog.Logger
	conns      *connManager
	apps       *appRegistry
	leases     *lease.Registry
	presence   *presence.Engine
	reqLimit   *ratelimit.Limiter
	msgLimit   *ratelimit.Limiter
	authLimit  *ratelimit.Limiter // failed network/connect per remote IP
	dispatcher *protocol.ServerDispatcher[*Conn]
	metrics    *metrics
	delivery   *deliveryWebhook       // offline-delivery webhook, nil when off (webhook_delivery.go)
	contacts   *contactWebhook        // contact-policy webhook, nil when off (webhook_contacts.go)
	cluster    *cluster               // the fan-out to other nodes (cluster.go); solo without Config.Bus
	refusal    atomic.Pointer[string] // why new sockets are refused ("" or nil: accepted; health.go)
	workers    *rpc.Workers           // the goroutines every connection's requests run on

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // background work: sweeper, verdict round trips
	connWG  sync.WaitGroup // one per served connection
	closing atomic.Bool
	admitMu sync.Mutex // orders admitting a connection (connWG.Add) against Shutdown
}

// New returns a server over st. Call Shutdown to stop it; the caller closes st afterwards.
func New(cfg Config, st store.Store) (*Server, error) {
	if st == nil {
		return nil, errors.New("server: a store is required")
	}
	cfg = cfg.withDefaults()
	if !ValidNodeID(cfg.NodeID) {
		return nil, fmt.Errorf("server: node id %q: want 1-64 letters, digits, '_' or '-'", cfg.NodeID)
	}
	if !cfg.SharedStore {
		st = newGateStore(st) // the only writer: the send path's facts can be cached exactly
	}
	s := &Server{cfg: cfg, store: st, log: cfg.Logger, conns: newConnManager(), metrics: newMetrics(), workers: rpc.NewWorkers(0)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.apps = newAppRegistry()
	s.initCluster()
	s.leases = lease.New(lease.Options{DefaultTTL: cfg.LeaseTTL, HoldTTL: cfg.LeaseTTL, Retention: cfg.LeaseRetention, Events: leaseEvents{s}})
	s.reqLimit = ratelimit.New(cfg.Limits.RequestsPerMinute, 0, nil)
	s.msgLimit = ratelimit.New(cfg.Limits.MessagesPerMinute, 0, nil)
	s.authLimit = ratelimit.New(cfg.AuthFailuresPerMinute, 0, nil)
	s.dispatcher = protocol.NewServerDispatcher[*Conn](handlers{s: s})
	s.metrics.connections.Set(0)
	s.startDeliveryWebhook()
	s.startContactWebhook()
	if err := s.cluster.start(); err != nil {
		s.cancel()
		s.wg.Wait()
		s.leases.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.sweepLoop()
	if !s.cluster.solo || cfg.SharedStore { // a bus or a store that can be lost (health.go)
		s.wg.Add(1)
		go s.healthLoop()
	}
	return s, nil
}

// Handler returns the HTTP handler: /ws, /health, /healthz, /readyz, /metrics and the
// registration endpoints.
func (s *Server) Handler() http.Handler { return s.routes() }

// Shutdown stops accepting connections, closes every socket with 1001, waits for in-flight
// work (bounded by ctx) and stops the server's timers. It does not close the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.admitMu.Lock()
	first := s.closing.CompareAndSwap(false, true)
	s.admitMu.Unlock()
	if !first {
		return nil
	}
	// From here no connection is admitted, so every one connWG counts is in s.conns.
	for _, c := range s.conns.all() {
		go c.ws.Close(transport.CloseGoingAway, "server shutting down")
	}
	err := waitCtx(ctx, &s.connWG)
	if cerr := s.cluster.close(ctx); err == nil && cerr != nil { // goodbye to the other nodes
		err = fmt.Errorf("close bus: %w", cerr)
	}
	s.cancel() // stops the sweeper and pending verdict round trips
	if werr := waitCtx(ctx, &s.wg); err == nil {
		err = werr
	}
	s.leases.Close()
	return err
}

// admit counts and registers a new connection unless Shutdown has begun: a connection that
// upgraded while Shutdown ran is refused rather than missed by it.
func (s *Server) admit(c *Conn) bool {
	s.admitMu.Lock()
	defer s.admitMu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.connWG.Add(1)
	s.conns.add(c)
	return true
}

// waitCtx waits for wg, or until ctx ends.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serveWS upgrades the request and hands the socket to the transport, which serves it
// without holding a goroutine while it is idle; disconnect runs once it has ended.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if reason := s.refusalReason(); reason != "" { // store or bus lost (health.go)
		s.log.Debug("websocket refused", "remote", r.RemoteAddr, "reason", reason)
		http.Error(w, reason, http.StatusServiceUnavailable)
		return
	}
	if !s.originAllowed(r.Header.Get("Origin")) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ws, err := transport.Upgrade(w, r, s.cfg.transport())
	if err != nil {
		s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.serveConn(ws, remoteIP(r.RemoteAddr))
}

// Listener returns ln with the WebSocket endpoint (/ws) served straight from the socket
// (transport.Listener: no net/http request, buffers or goroutine per connection), for an
// http.Server to serve everything else through. A /ws request the server would refuse
// (shutting down, store or bus lost, origin not allowed) or that is not a plain upgrade
// goes on to the HTTP server, which answers it as Handler always did. headerTimeout bounds
// the receipt of a request head (0: transport.DefaultHeaderTimeout).
func (s *Server) Listener(ln net.Listener, headerTimeout time.Duration) (net.Listener, error) {
	return transport.NewListener(ln, transport.ListenerOptions{
		Path:          "/ws",
		Config:        s.cfg.transport(),
		HeaderTimeout: headerTimeout,
		Admit: func(r transport.UpgradeRequest) bool {
			return !s.closing.Load() && s.refusalReason() == "" && s.originAllowed(r.Origin)
		},
		Serve: func(ws *transport.Conn, r transport.UpgradeRequest) {
			s.serveConn(ws, remoteIP(r.RemoteAddr.String()))
		},
		OnAcceptError: func(err error) { s.log.Warn("accept failed", "err", err) },
	})
}

// serveConn serves an upgraded connection: it is admitted, its requests go to the
// dispatcher, and the transport runs it from here.
func (s *Server) serveConn(ws *transport.Conn, ip string) {
	c := &Conn{id: s.newConnID(), srv: s, ws: ws, started: time.Now(), remoteIP: ip}
	c.peer = rpc.NewPeer(ws, connHandler{c}, rpc.Options{
		Role: rpc.RoleServer, Logger: s.log, LogAttrs: []any{"conn", c.id}, IDPrefix: "srv-" + c.id[:8],
		CallTimeout: -1, OnMalformed: func(int) { s.metrics.malformed.Inc() },
		Workers: s.workers, // warm goroutines: a connection's first request grows no new stack
	})
	if !s.admit(c) {
		_ = ws.Close(transport.CloseGoingAway, "server shutting down")
		return
	}
	s.metrics.connections.Inc()
	c.authTimer.Store(time.AfterFunc(s.cfg.AuthTimeout, func() {
		if !c.Authenticated() {
			c.closePolicy("authentication timeout")
		}
	}))
	// Requests run under the server's context: Shutdown cancels them, and the peer cancels
	// a connection's own when it closes (a context per connection would cost every idle
	// connection a context and its children map).
	ctx := s.ctx
	ended := func(info transport.CloseInfo) {
		c.stopAuthTimer()
		s.disconnect(c, info)
		s.connWG.Done() // Shutdown waits for this: the connection is torn down
	}
	// The handler returns at once, releasing the request and net/http's buffers; the
	// transport reads the socket only when it is readable and runs ended when it closes.
	if !ws.Start(func(msg []byte) {
		s.metrics.framesIn.Inc()
		c.peer.HandleFrame(ctx, msg)
	}, ended) {
		<-ws.Done() // started already: cannot happen for a Conn fresh from Upgrade
		ended(ws.CloseInfo())
	}
}

// disconnect runs the cleanup of REFERENCE 3.3 once the socket has ended.
func (s *Server) disconnect(c *Conn, info transport.CloseInfo) {
	agentID := s.conns.remove(c)
	s.metrics.connections.Dec()
	s.presence.Disconnected(c.id)
	if agentID != "" && s.watching() {
		s.cfg.Feed.AgentDisconnected(s.agentPresence(agentID, c))
	}
	s.leases.ConnectionClosed(c.id)
	s.apps.dropConn(c)
	c.peer.Close(errors.New("connection closed: " + info.String()))
	waitCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.peer.Wait(waitCtx)
	s.log.Debug("connection closed", "conn", c.id, "agent", agentID, "close", info.String())
	s.runDisconnectHook(c, agentID) // Config.OnDisconnect (admitted connections only)
}

// connHandler feeds a connection's requests to the generated dispatcher.
type connHandler struct{ c *Conn }

func (h connHandler) HandleRequest(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	s := h.c.srv
	start := time.Now()
	res, err := h.dispatch(ctx, method, params)
	s.metrics.observe(method, time.Since(start), err)
	if err != nil {
		var coded wire.Coded
		var bad *protocol.InvalidResultError
		if errors.As(err, &bad) || !errors.As(err, &coded) {
			s.log.Error("request failed", "conn", h.c.id, "method", method, "err", err)
		}
	}
	return res, err
}

func (h connHandler) dispatch(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	s := h.c.srv
	if agent := h.c.AgentID(); agent != "" {
		if ok, retry := s.reqLimit.Allow(string(agent)); !ok {
			return nil, rateLimited(retry)
		}
		return s.dispatcher.Dispatch(ctx, h.c, method, params)
	}
	return h.dispatchUnauthenticated(ctx, method, params)
}

// dispatchUnauthenticated applies the limits of a socket that has not authenticated yet:
// requests and network/connect attempts per socket (beyond them the socket is closed with
// 1008) and failed network/connect attempts per remote IP (-32004 while exhausted, checked
// before any credential is looked up).
func (h connHandler) dispatchUnauthenticated(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	c, s := h.c, h.c.srv
	if c.unauthRequests.Add(1) > int64(s.cfg.MaxUnauthRequests) {
		c.closePolicy("too many unauthenticated requests")
		return nil, protocol.UnauthorizedError{Message: "Too many unauthenticated requests"}
	}
	if method != protocol.MethodNetworkConnect {
		return s.dispatcher.Dispatch(ctx, c, method, params)
	}
	if c.authAttempts.Add(1) > int64(s.cfg.MaxAuthAttempts) {
		c.closePolicy("too many failed authentication attempts")
		return nil, protocol.UnauthorizedError{Message: "Too many failed authentication attempts"}
	}
	if ok, retry := s.authLimit.Check(c.remoteIP); !ok {
		return nil, rateLimited(retry)
	}
	res, err := s.dispatcher.Dispatch(ctx, c, method, params)
	if err != nil && !c.Authenticated() {
		s.authLimit.Allow(c.remoteIP) // charge the failure to the remote address
	}
	return res, err
}

func (h connHandler) HandleNotification(context.Context, string, json.RawMessage) {}

func rateLimited(retry time.Duration) error {
	ms := (retry + time.Millisecond - 1).Milliseconds() // round up: retrying earlier fails again
	return protocol.RateLimitedError{Data: &protocol.RateLimitedData{RetryAfterMs: ms}}
}

// remoteIP is the client address a request came from, without its port (the key of the
// per-address limits). Proxies are not trusted: X-Forwarded-For is ignored.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// now is the server clock, truncated to milliseconds like the wire.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// newID mints a time-ordered UUIDv7 as an id of type T.
func newID[T ~string]() T {
	id, err := uuid.NewV7()
	if err != nil {
		return T(uuid.NewString())
	}
	return T(id.String())
}

// handlers implements protocol.ServerHandlers; its methods live in one file per area.
type handlers struct {
	s *Server
}

// The generated dispatcher needs every method of the catalog: a missing handler does not
// compile.
var _ protocol.ServerHandlers[*Conn] = handlers{}
