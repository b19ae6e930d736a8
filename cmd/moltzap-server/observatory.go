package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/moltzap/moltzap-go/runtime/observatory"
	"github.com/moltzap/moltzap-go/runtime/observatory/netview"
	"github.com/moltzap/moltzap-go/runtime/observatory/web"
	"github.com/moltzap/moltzap-go/runtime/server"
)

// Paths of the Observatory.
const (
	observatorySocketPath = "/observatory"  // the topic-channel WebSocket
	observatoryPagePath   = "/observatory/" // the web page
)

// viewToken is the token of the network view: --observatory-token, else
// --admin-secret; "" leaves the view off.
func (o options) viewToken() string {
	if o.observatoryToken != "" {
		return o.observatoryToken
	}
	return o.adminSecret
}

// newObservatory returns the network view of --observatory-token, or nil when it is off.
func newObservatory(o options, log *slog.Logger) (*netview.View, error) {
	token := o.viewToken()
	if token == "" {
		return nil, nil
	}
	return netview.New(netview.Options{Token: token, MaxConnections: o.observatoryMaxConns,
		Observatory: observatory.Options{Logger: log}})
}

// withObservatory serves the view's WebSocket and page beside the server's routes; without a
// view the server's routes are served alone (and /observatory is a 404).
func withObservatory(h http.Handler, view *netview.View) http.Handler {
	if view == nil {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle(observatorySocketPath, view)
	mux.Handle(observatoryPagePath, http.StripPrefix(observatoryPagePath, web.Handler()))
	mux.Handle("/", h)
	return mux
}

// attachObservatory gives the view its snapshot source.
func attachObservatory(view *netview.View, srv *server.Server) {
	if view != nil {
		view.SetSource(srv.FeedSource())
	}
}

// shutdownObservatory closes the observer sockets (1000).
func shutdownObservatory(ctx context.Context, view *netview.View, log *slog.Logger) {
	if view == nil {
		return
	}
	if err := view.Shutdown(ctx); err != nil {
		log.Warn("observatory shutdown", "err", err)
	}
}
