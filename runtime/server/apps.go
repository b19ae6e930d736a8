package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// appBinding ties an app id to its TaskMaster connection, the typed client of its
// callbacks on that connection, and its manifest. For a TaskMaster on another node of the
// cluster, conn is a stand-in that carries only the connection's id (it is never
// registered nor sent to) and tm sends the callbacks over the bus (remoteInvoker).
type appBinding struct {
	conn     *Conn
	tm       *protocol.TaskMasterClient
	manifest protocol.AppManifest
	node     string // the node holding conn; "" for a local connection
}

// appRegistry maps app ids to the live connection that moderates them (in memory: a
// TaskMaster re-registers after it reconnects): local ones, and those other nodes of the
// cluster announced (remote). An app id is bound once in the whole cluster.
type appRegistry struct {
	cl     *cluster // nil on a solo node: nothing is announced
	mu     sync.RWMutex
	byApp  map[protocol.AppID]appBinding
	remote map[protocol.AppID]appBinding
}

func newAppRegistry() *appRegistry {
	return &appRegistry{byApp: map[protocol.AppID]appBinding{}, remote: map[protocol.AppID]appBinding{}}
}

// register binds appID to c; re-registering on the same connection is idempotent. In a
// cluster the registration is announced (and its callbacks served) in the same step.
func (r *appRegistry) register(c *Conn, m protocol.AppManifest) error {
	appID := m.AppID
	if appID == DefaultAppID {
		return protocol.ForbiddenError{Message: fmt.Sprintf("App %s is already registered", appID)}
	}
	if r.cl != nil {
		r.cl.pubMu.Lock()
		defer r.cl.pubMu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.byApp[appID]; ok && b.conn != c {
		return protocol.ForbiddenError{Message: fmt.Sprintf("App %s is already registered", appID)}
	}
	if _, ok := r.remote[appID]; ok {
		return protocol.ForbiddenError{Message: fmt.Sprintf("App %s is already registered", appID)}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return protocol.ForbiddenError{Message: "connection is closing"}
	}
	if c.apps == nil {
		c.apps = map[protocol.AppID]struct{}{}
	}
	c.apps[appID] = struct{}{}
	c.mu.Unlock()
	r.byApp[appID] = appBinding{conn: c, tm: protocol.NewTaskMasterClient(callbackInvoker{c}), manifest: m}
	if r.cl != nil {
		r.cl.appUpLocked(appAnnounce{AppID: appID, ConnID: c.id, Manifest: m})
	}
	return nil
}

// moderator returns the TaskMaster connection of appID, if one is registered here or on
// another node.
func (r *appRegistry) moderator(appID protocol.AppID) (appBinding, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if b, ok := r.byApp[appID]; ok {
		return b, true
	}
	b, ok := r.remote[appID]
	return b, ok
}

// localBinding returns the binding of appID when its TaskMaster is on this node.
func (r *appRegistry) localBinding(appID protocol.AppID) (appBinding, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.byApp[appID]
	return b, ok
}

// dropConn removes every registration bound to c (announced to the cluster).
func (r *appRegistry) dropConn(c *Conn) {
	if r.cl != nil {
		r.cl.pubMu.Lock()
		defer r.cl.pubMu.Unlock()
	}
	r.mu.Lock()
	var dropped []protocol.AppID
	for id, b := range r.byApp {
		if b.conn == c {
			delete(r.byApp, id)
			dropped = append(dropped, id)
		}
	}
	r.mu.Unlock()
	if r.cl != nil && len(dropped) > 0 {
		r.cl.appsDownLocked(dropped)
	}
}

// localAnnouncements lists the apps served here (a node's full state).
func (r *appRegistry) localAnnouncements() []appAnnounce {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]appAnnounce, 0, len(r.byApp))
	for id, b := range r.byApp {
		out = append(out, appAnnounce{AppID: id, ConnID: b.conn.id, Manifest: b.manifest})
	}
	return out
}

// setRemote records that node serves a's TaskMaster. A local registration of the same app
// (two nodes registered it at once) keeps precedence here.
func (r *appRegistry) setRemote(node string, a appAnnounce) {
	s := r.cl.s
	stand := &Conn{id: a.ConnID, srv: s, closed: true}
	b := appBinding{conn: stand, manifest: a.Manifest, node: node,
		tm: protocol.NewTaskMasterClient(remoteInvoker{c: r.cl, appID: a.AppID, connID: a.ConnID})}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.remote[a.AppID]; ok && old.node == node && old.conn.id == a.ConnID {
		return
	}
	r.remote[a.AppID] = b
}

// dropRemote forgets apps node no longer serves.
func (r *appRegistry) dropRemote(node string, ids []protocol.AppID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if b, ok := r.remote[id]; ok && b.node == node {
			delete(r.remote, id)
		}
	}
}

// replaceRemote makes apps exactly what node serves (nil: nothing, the node is gone).
func (r *appRegistry) replaceRemote(node string, apps []appAnnounce) {
	keep := make(map[protocol.AppID]bool, len(apps))
	for _, a := range apps {
		keep[a.AppID] = true
	}
	r.mu.Lock()
	for id, b := range r.remote {
		if b.node == node && !keep[id] {
			delete(r.remote, id)
		}
	}
	r.mu.Unlock()
	for _, a := range apps {
		r.setRemote(node, a)
	}
}

// Hook names of the manifest's hooks object.
const (
	hookDispatchAuthorize = "dispatch_authorize"
	hookMessageAuthorize  = "message_authorize"
	hookTaskCreate        = "task_create"
)

// hookTimeout is the manifest's timeout_ms for a hook, or the server default.
func (s *Server) hookTimeout(m protocol.AppManifest, hook string) time.Duration {
	if m.Hooks != nil {
		var h *protocol.Hook
		switch hook {
		case hookDispatchAuthorize:
			h = m.Hooks.DispatchAuthorize
		case hookMessageAuthorize:
			h = m.Hooks.MessageAuthorize
		case hookTaskCreate:
			h = m.Hooks.TaskCreate
		}
		if h != nil && h.TimeoutMs != nil && *h.TimeoutMs > 0 {
			return time.Duration(*h.TimeoutMs) * time.Millisecond
		}
	}
	return s.cfg.HookTimeout
}

// callTaskMaster runs one callback (a method of the generated TaskMasterClient) against
// the TaskMaster of appID, bounded by the manifest's timeout for hook; the client decodes
// and validates the result. errNoTaskMaster means no connection is registered; a timeout
// is context.DeadlineExceeded; everything else is a transport, wire or schema error.
func callTaskMaster[R any](ctx context.Context, s *Server, appID protocol.AppID, hook string, call func(context.Context, *protocol.TaskMasterClient) (R, error)) (R, error) {
	b, ok := s.apps.moderator(appID)
	if !ok {
		var zero R
		return zero, errNoTaskMaster
	}
	ctx, cancel := context.WithTimeout(ctx, s.hookTimeout(b.manifest, hook))
	defer cancel()
	return call(ctx, b.tm)
}

type sentinel string

func (e sentinel) Error() string { return string(e) }

const errNoTaskMaster = sentinel("no TaskMaster registered for the app")

// AppsRegister binds the manifest's app id to the calling connection, after the
// Config.AppAllowlist check.
func (h handlers) AppsRegister(_ context.Context, c *Conn, p protocol.AppsRegisterParams) (protocol.AppsRegisterResult, error) {
	if p.Manifest.AppID != DefaultAppID { // the boot app keeps its own "already registered" answer
		if err := h.s.checkAppAllowed(p.Manifest.AppID, c.Owner()); err != nil {
			return protocol.AppsRegisterResult{}, err
		}
	}
	if err := h.s.apps.register(c, p.Manifest); err != nil {
		return protocol.AppsRegisterResult{}, err
	}
	return protocol.AppsRegisterResult{AppID: p.Manifest.AppID}, nil
}
