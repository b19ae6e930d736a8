package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults applied to zero Config fields.
const (
	// DefaultGroupSize is the number of members of the Fanout conversation, sender included.
	DefaultGroupSize = 50
	// DefaultConnectConcurrency bounds the registrations and handshakes in flight in Connect.
	DefaultConnectConcurrency = 64
	// DefaultSetupConcurrency bounds registrations and handshakes during the setup of DM
	// and Fanout.
	DefaultSetupConcurrency = 32
)

// Config describes one run of a workload.
type Config struct {
	// BaseURL is the server's HTTP base, e.g. "http://127.0.0.1:8080", or that of the first
	// node of a cluster. Its host must be a loopback address (127.0.0.0/8, ::1 or
	// localhost); /ws is derived from it. DM and Fanout register and claim their agents
	// here.
	BaseURL string
	// NodeURLs are the other nodes of the cluster BaseURL belongs to (several
	// moltzap-server processes on one store and one bus), each in the form and under the
	// rules of BaseURL. The nodes are BaseURL followed by NodeURLs, and agent i of a
	// workload opens its WebSocket on node i mod len(nodes): in DM the two agents of a pair
	// are on different nodes, in Fanout the sender (node 0) and the members are spread
	// evenly, in Connect the connections are. Connect registers each agent on the node of
	// its socket, so its nodes need not share a store; DM and Fanout need a real cluster.
	// /metrics is read from every node and summed. Extra[ExtraNodes] is the number of
	// nodes. Empty: BaseURL alone. A node given twice is an invalid configuration.
	NodeURLs []string
	// Count is the size of the run: connections (Connect) or messages (DM, Fanout).
	// Required, > 0.
	Count int
	// Duration bounds the whole run, setup included; the measured phase stops early when
	// it elapses (Result.StoppedBy says which bound ended the run). Required, > 0.
	Duration time.Duration
	// Concurrency is, for Connect, the number of registrations and handshakes in flight
	// (default DefaultConnectConcurrency); for DM, the number of pairs sending in
	// parallel (default 1); for Fanout, the number of messages in flight from the one
	// sender (default 1: the next send starts once every recipient got the previous one).
	Concurrency int
	// GroupSize is the number of members of the Fanout conversation, sender included
	// (default DefaultGroupSize, at least 2).
	GroupSize int
	// SourceAddrs are local loopback IPs ("127.0.0.2", ...) that outgoing sockets bind to,
	// in rotation. One source address allows about 28,000 connections to one server port
	// (the ephemeral port range); several are needed beyond that. Empty: the kernel picks.
	SourceAddrs []string
	// ServerPIDs are the process ids of the server under load on this machine: one per
	// node of a cluster, in any order. Their CPU time (utime + stime of /proc/<pid>/stat,
	// Linux) is sampled at the start and the end of the measured phase and the sum is
	// reported per operation as Extra[ExtraServerCPUPerOp]; Connect also reads their
	// resident memory before and after and reports the sum's growth per connection
	// (Extra["rss_bytes_per_conn"]). Empty: those figures are absent and
	// Result.Unmeasured says why. Each must be > 0, none given twice.
	ServerPIDs []int
	// Progress, if set, is called as the measured phase advances (about every 1%, and at
	// the end) with the operations done and the total planned. Calls never overlap.
	Progress func(done, total int)
}

// ErrInvalidConfig is wrapped by every error about the Config itself (a non-loopback
// BaseURL, a missing Count or Duration, ...): nothing was sent to the server.
var ErrInvalidConfig = errors.New("loadgen: invalid configuration")

// checked is a validated Config with derived values.
type checked struct {
	Config
	nodes   []node   // BaseURL, then NodeURLs
	sources []net.IP // parsed SourceAddrs
}

// node is one server node's endpoints.
type node struct {
	http string // HTTP base without a trailing slash
	ws   string // ws://host:port/ws
}

// httpBase is BaseURL without a trailing slash.
func (c checked) httpBase() string { return c.nodes[0].http }

// check validates cfg; defConcurrency is the workload's default Concurrency.
func (cfg Config) check(defConcurrency int) (checked, error) {
	if cfg.Count <= 0 {
		return checked{}, fmt.Errorf("%w: Count must be > 0 (got %d)", ErrInvalidConfig, cfg.Count)
	}
	if cfg.Duration <= 0 {
		return checked{}, fmt.Errorf("%w: Duration must be > 0 (got %s)", ErrInvalidConfig, cfg.Duration)
	}
	if cfg.Concurrency < 0 {
		return checked{}, fmt.Errorf("%w: Concurrency must not be negative (got %d)", ErrInvalidConfig, cfg.Concurrency)
	}
	if err := checkPIDs(cfg.ServerPIDs); err != nil {
		return checked{}, err
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = defConcurrency
	}
	if cfg.GroupSize == 0 {
		cfg.GroupSize = DefaultGroupSize
	}
	if cfg.GroupSize < 2 {
		return checked{}, fmt.Errorf("%w: GroupSize must be at least 2 (got %d)", ErrInvalidConfig, cfg.GroupSize)
	}
	c := checked{Config: cfg}
	seen := map[string]bool{}
	for i, raw := range append([]string{cfg.BaseURL}, cfg.NodeURLs...) {
		field := "BaseURL"
		if i > 0 {
			field = fmt.Sprintf("NodeURLs[%d]", i-1)
		}
		n, err := parseNode(raw)
		if err != nil {
			return checked{}, fmt.Errorf("%w: %s %q: %w", ErrInvalidConfig, field, raw, err)
		}
		if seen[n.http] {
			return checked{}, fmt.Errorf("%w: %s %q: the node is given twice (the nodes are BaseURL followed by NodeURLs)", ErrInvalidConfig, field, raw)
		}
		seen[n.http] = true
		c.nodes = append(c.nodes, n)
	}
	for _, s := range cfg.SourceAddrs {
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsLoopback() {
			return checked{}, fmt.Errorf("%w: source address %q is not a loopback IP", ErrInvalidConfig, s)
		}
		c.sources = append(c.sources, ip)
	}
	return c, nil
}

// parseNode checks a node's HTTP base and derives its endpoints.
func parseNode(raw string) (node, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return node{}, err
	}
	var wsScheme string
	switch u.Scheme {
	case "http":
		wsScheme = "ws"
	case "https":
		wsScheme = "wss"
	default:
		return node{}, errors.New("scheme must be http or https")
	}
	if !IsLoopbackHost(u.Hostname()) {
		return node{}, fmt.Errorf("host %q is not a loopback address; loadgen only targets servers on this machine (127.0.0.0/8, ::1, localhost)", u.Hostname())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return node{}, errors.New("want scheme://host:port[/path] only")
	}
	base := strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
	return node{http: base, ws: wsScheme + strings.TrimPrefix(base, u.Scheme) + "/ws"}, nil
}

// checkPIDs refuses process ids that are not positive or are given twice.
func checkPIDs(pids []int) error {
	seen := map[int]bool{}
	for _, pid := range pids {
		if pid <= 0 {
			return fmt.Errorf("%w: ServerPIDs: %d is not a process id", ErrInvalidConfig, pid)
		}
		if seen[pid] {
			return fmt.Errorf("%w: ServerPIDs: process %d is given twice", ErrInvalidConfig, pid)
		}
		seen[pid] = true
	}
	return nil
}

// IsLoopbackHost reports whether host (a URL host name without port) names this machine's
// loopback interface: "localhost" or an IP in 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
