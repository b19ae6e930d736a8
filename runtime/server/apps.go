package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// appBinding ties an app id to its TaskMaster connection and manifest.
type appBinding struct {
	conn     *Conn
	manifest protocol.AppManifest
}

// appRegistry maps app ids to the live connection that moderates them (in memory: a
// TaskMaster re-registers after it reconnects).
type appRegistry struct {
	mu    sync.RWMutex
	byApp map[string]appBinding
}

func newAppRegistry() *appRegistry { return &appRegistry{byApp: map[string]appBinding{}} }

// register binds appID to c; re-registering on the same connection is idempotent.
func (r *appRegistry) register(c *Conn, m protocol.AppManifest) error {
	appID := string(m.AppID)
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
		c.apps = map[string]struct{}{}
	}
	c.apps[appID] = struct{}{}
	c.mu.Unlock()
	r.byApp[appID] = appBinding{conn: c, manifest: m}
	return nil
}

// moderator returns the TaskMaster connection of appID, if one is registered.
func (r *appRegistry) moderator(appID string) (appBinding, bool) {
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

// callTaskMaster sends a callback to the TaskMaster of appID and decodes its result into
// out. errNoTaskMaster means no connection is registered; a timeout is
// context.DeadlineExceeded; everything else is a transport, wire or schema error.
func (s *Server) callTaskMaster(ctx context.Context, appID, method, hook string, params any, decode func(json.RawMessage) error) error {
	b, ok := s.apps.moderator(appID)
	if !ok {
		return errNoTaskMaster
	}
	ctx, cancel := context.WithTimeout(ctx, s.hookTimeout(b.manifest, hook))
	defer cancel()
	s.metrics.frameOut()
	raw, err := b.conn.call(ctx, method, params)
	if err != nil {
		return err
	}
	return decode(raw)
}

type sentinel string

func (e sentinel) Error() string { return string(e) }

const errNoTaskMaster = sentinel("no TaskMaster registered for the app")

// AppsRegister binds the manifest's app id to the calling connection.
func (h handlers) AppsRegister(_ context.Context, c *Conn, p protocol.AppsRegisterParams) (protocol.AppsRegisterResult, error) {
	if err := h.s.apps.register(c, p.Manifest); err != nil {
		return protocol.AppsRegisterResult{}, err
	}
	return protocol.AppsRegisterResult{AppID: p.Manifest.AppID}, nil
}
