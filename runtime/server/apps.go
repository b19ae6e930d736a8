package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// appBinding ties an app id to its TaskMaster connection, the typed client of its
// callbacks on that connection, and its manifest.
type appBinding struct {
	conn     *Conn
	tm       *protocol.TaskMasterClient
	manifest protocol.AppManifest
}

// appRegistry maps app ids to the live connection that moderates them (in memory: a
// TaskMaster re-registers after it reconnects).
type appRegistry struct {
	mu    sync.RWMutex
	byApp map[protocol.AppID]appBinding
}

func newAppRegistry() *appRegistry { return &appRegistry{byApp: map[protocol.AppID]appBinding{}} }

// register binds appID to c; re-registering on the same connection is idempotent.
func (r *appRegistry) register(c *Conn, m protocol.AppManifest) error {
	appID := m.AppID
	if appID == DefaultAppID {
		return protocol.ForbiddenError{Message: fmt.Sprintf("App %s is already registered", appID)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.byApp[appID]; ok && b.conn != c {
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
	return nil
}

// moderator returns the TaskMaster connection of appID, if one is registered.
func (r *appRegistry) moderator(appID protocol.AppID) (appBinding, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.byApp[appID]
	return b, ok
}

// dropConn removes every registration bound to c.
func (r *appRegistry) dropConn(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, b := range r.byApp {
		if b.conn == c {
			delete(r.byApp, id)
		}
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
