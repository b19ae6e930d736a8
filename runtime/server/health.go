package server

import (
	"context"
	"time"

	"github.com/moltzap/moltzap-go/runtime/store"
)

// healthTimeout bounds one store ping of the health loop.
const healthTimeout = 2 * time.Second

// healthLoop checks the bus and the store every Config.HealthInterval; while either is
// unavailable the node refuses new WebSockets (503 with the reason, see refusalReason) and
// logs the change once each way. Live sockets are not closed. It runs on nodes with a
// Config.Bus or a Config.SharedStore (a network store); a lone node on its embedded store
// has nothing to lose.
func (s *Server) healthLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.setRefusal(s.checkHealth(s.ctx))
		}
	}
}

// checkHealth returns why the node cannot serve sockets now ("" when it can).
func (s *Server) checkHealth(ctx context.Context) string {
	if err := s.cluster.bus.Health(); err != nil {
		return "bus unavailable: " + err.Error()
	}
	if p, ok := s.store.(store.Pinger); ok {
		ctx, cancel := context.WithTimeout(ctx, healthTimeout)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			if s.ctx.Err() != nil {
				return "" // shutting down: not a store failure
			}
			return "store unavailable: " + err.Error()
		}
	}
	return ""
}

// setRefusal records the node's state and logs a change.
func (s *Server) setRefusal(reason string) {
	prev := s.refusal.Swap(&reason)
	old := ""
	if prev != nil {
		old = *prev
	}
	if old == reason {
		return
	}
	if reason != "" {
		s.metrics.accepting.Set(0)
		s.log.Error("refusing new sockets", "node", s.cfg.NodeID, "reason", reason)
		return
	}
	s.metrics.accepting.Set(1)
	s.log.Info("accepting sockets again", "node", s.cfg.NodeID, "was", old)
}

// refusalReason returns why new sockets are refused now ("" when they are accepted).
func (s *Server) refusalReason() string {
	if r := s.refusal.Load(); r != nil {
		return *r
	}
	return ""
}
