package server

import (
	"net/http"
	"slices"
	"strings"
)

// originAllowed applies Config.AllowedOrigins to a WebSocket upgrade request.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || len(s.cfg.AllowedOrigins) == 0 {
		return true
	}
	return slices.ContainsFunc(s.cfg.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
}

// MetricsHandler serves the Prometheus metrics; with Config.SeparateMetrics it is the only
// way to reach them.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }
