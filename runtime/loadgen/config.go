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
	// BaseURL is the server's HTTP base, e.g. "http://127.0.0.1:8080". Its host must be a
	// loopback address (127.0.0.0/8, ::1 or localhost); /ws is derived from it.
	BaseURL string
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
	// ServerPID, when > 0, is the process id of the server under load, on this machine.
	// Its CPU time (utime + stime of /proc/<pid>/stat, Linux) is sampled at the start and
	// the end of the measured phase and reported per operation as
	// Extra[ExtraServerCPUPerOp]; Connect also reads its resident memory before and after
	// (Extra["rss_bytes_per_conn"]). When 0 those figures are absent and
	// Result.Unmeasured says why.
	ServerPID int
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
	httpBase string   // BaseURL without a trailing slash
	wsURL    string   // ws://host:port/ws
	sources  []net.IP // parsed SourceAddrs
}

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
	if cfg.ServerPID < 0 {
		return checked{}, fmt.Errorf("%w: ServerPID must not be negative (got %d)", ErrInvalidConfig, cfg.ServerPID)
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
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return checked{}, fmt.Errorf("%w: BaseURL %q: %w", ErrInvalidConfig, cfg.BaseURL, err)
	}
	var wsScheme string
	switch u.Scheme {
	case "http":
		wsScheme = "ws"
	case "https":
		wsScheme = "wss"
	default:
		return checked{}, fmt.Errorf("%w: BaseURL %q: scheme must be http or https", ErrInvalidConfig, cfg.BaseURL)
	}
	if !IsLoopbackHost(u.Hostname()) {
		return checked{}, fmt.Errorf("%w: BaseURL %q: host %q is not a loopback address; loadgen only targets servers on this machine (127.0.0.0/8, ::1, localhost)",
			ErrInvalidConfig, cfg.BaseURL, u.Hostname())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return checked{}, fmt.Errorf("%w: BaseURL %q: want scheme://host:port[/path] only", ErrInvalidConfig, cfg.BaseURL)
	}
	c := checked{Config: cfg}
	base := strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
	c.httpBase = base
	c.wsURL = wsScheme + strings.TrimPrefix(base, u.Scheme) + "/ws"
	for _, s := range cfg.SourceAddrs {
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsLoopback() {
			return checked{}, fmt.Errorf("%w: source address %q is not a loopback IP", ErrInvalidConfig, s)
		}
		c.sources = append(c.sources, ip)
	}
	return c, nil
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
