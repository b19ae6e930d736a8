package server

import (
	"net/http"
	"slices"
	"strings"
)

// originAllowed applies Config.AllowedOrigins to the Origin header of a WebSocket upgrade
// request ("" when absent).
func (s *Server) originAllowed(origin string) bool {
	if origin == "" || len(s.cfg.AllowedOrigins) == 0 {
		return true
	}
	return slices.ContainsFunc(s.cfg.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
}

// MetricsHandler serves the Prometheus metrics; with Config.SeparateMetrics it is the only
// way to reach them.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }
