package server

import (
	"github.com/moltzap/moltzap-go/internal/buildinfo"
	"net/http"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/wire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, in a registry of its own.
type metrics struct {
	reg         *prometheus.Registry
	connections prometheus.Gauge
	framesIn    prometheus.Counter
	framesOut   prometheus.Counter
	malformed   prometheus.Counter
	dropped     prometheus.Counter
	rpcLatency  *prometheus.HistogramVec
	rpcErrors   *prometheus.CounterVec
	known       map[string]struct{} // catalog method names: the only latency labels

	// Cluster bus (cluster.go): envelopes by kind, publish-to-receive lag, nodes, sockets.
	busPub       *prometheus.CounterVec
	busRecv      *prometheus.CounterVec
	busErrs      *prometheus.CounterVec
	busLag       *prometheus.HistogramVec
	clusterNodes prometheus.Gauge
	accepting    prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg:         prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "moltzap_connections", Help: "Open WebSocket connections, authenticated or not."}),
		framesIn:    prometheus.NewCounter(prometheus.CounterOpts{Name: "moltzap_frames_in_total", Help: "WebSocket messages received."}),
		framesOut:   prometheus.NewCounter(prometheus.CounterOpts{Name: "moltzap_frames_out_total", Help: "Notification and callback frames queued for sending."}),
		malformed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "moltzap_malformed_frames_total", Help: "Inbound frames that were not valid JSON-RPC."}),
		dropped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "moltzap_fanout_dropped_total", Help: "Frames dropped because a connection's write queue was full or closed."}),
		rpcLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moltzap_rpc_duration_seconds", Help: "Time to handle a request, by method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method"}),
		rpcErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moltzap_rpc_errors_total", Help: "Error responses, by JSON-RPC error code."}, []string{"code"}),
	}
	m.busPub = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moltzap_bus_published_total", Help: "Cluster envelopes published on the bus, by kind."}, []string{"kind"})
	m.busRecv = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moltzap_bus_received_total", Help: "Cluster envelopes received from other nodes, by kind."}, []string{"kind"})
	m.busErrs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moltzap_bus_publish_errors_total", Help: "Cluster envelopes the bus refused, by kind."}, []string{"kind"})
	m.busLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "moltzap_bus_lag_seconds", Help: "Time from publish on another node to receipt here (the nodes' clocks must agree), by kind.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"kind"})
	m.clusterNodes = prometheus.NewGauge(prometheus.GaugeOpts{Name: "moltzap_cluster_remote_nodes", Help: "Other server nodes this node hears from."})
	m.accepting = prometheus.NewGauge(prometheus.GaugeOpts{Name: "moltzap_accepting_sockets", Help: "1 while the node accepts WebSockets, 0 while its store or bus is unavailable."})
	m.accepting.Set(1)
	m.reg.MustRegister(m.busPub, m.busRecv, m.busErrs, m.busLag, m.clusterNodes, m.accepting)
	m.known = map[string]struct{}{}
	for _, mi := range protocol.Catalog().Methods {
		m.known[mi.Name] = struct{}{}
	}
	b := buildinfo.Read()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "moltzap_build_info", Help: "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": b.GoVersion}})
	build.Set(1)
	m.reg.MustRegister(m.connections, m.framesIn, m.framesOut, m.malformed, m.dropped, m.rpcLatency, m.rpcErrors, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) frameOut() { m.framesOut.Inc() }
func (m *metrics) busPublished(kind string) {
	m.busPub.WithLabelValues(kind).Inc()
}
func (m *metrics) busError(kind string) { m.busErrs.WithLabelValues(kind).Inc() }

// busReceived counts one envelope from another node and its lag (negative lags, from
// clock skew, count as zero).
func (m *metrics) busReceived(kind string, lag time.Duration) {
	m.busRecv.WithLabelValues(kind).Inc()
	m.busLag.WithLabelValues(kind).Observe(max(lag, 0).Seconds())
}
func (m *metrics) fanoutDropped() { m.dropped.Inc() }

// observe records one handled request. Unknown method names are folded into one label so a
// peer cannot grow the label set.
func (m *metrics) observe(method string, d time.Duration, err error) {
	if _, known := m.known[method]; !known {
		method = "unknown"
	}
	m.rpcLatency.WithLabelValues(method).Observe(d.Seconds())
	if err != nil {
		m.rpcErrors.WithLabelValues(strconv.FormatInt(wire.ToError(err).Code, 10)).Inc()
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
