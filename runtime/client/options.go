package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// Defaults applied by Dial to zero Options fields (REFERENCE 17.2).
const (
	// DefaultCallTimeout bounds a call whose context has no earlier deadline.
	DefaultCallTimeout = 30 * time.Second
	// DefaultBackoffBase is the first reconnect delay.
	DefaultBackoffBase = time.Second
	// DefaultBackoffMax caps the reconnect delay.
	DefaultBackoffMax = 30 * time.Second
	// DefaultBackoffJitter is the relative jitter of each reconnect delay.
	DefaultBackoffJitter = 0.2
)

// Options configure a connection. URL (and each of URLs) accepts http(s)://host:port (then
// /ws is used), or ws(s)://host:port/ws.
type Options struct {
	// URL of the server: http(s)://host:port[/prefix] (the WebSocket endpoint is then
	// <prefix>/ws on the matching ws(s) scheme) or the ws(s):// URL of the endpoint itself
	// (/ws is used when it has no path).
	URL string
	// URLs are the nodes of a cluster, in the same forms as URL: Dial tries them in order
	// (after URL, when both are set; a repeated URL is tried once) until one connects, and
	// a client that loses its connection reconnects to the next one, round-robin with the
	// Reconnect backoff. At least one of URL and URLs must be given.
	URLs []string
	// AgentKey is the agent API key; exactly one of AgentKey and SessionToken must be set.
	AgentKey string
	// SessionToken is a session token checked by the server's session validator.
	SessionToken string
	// MinProtocol is the lowest protocol version accepted; default protocol.ProtocolVersion.
	MinProtocol string
	// MaxProtocol is the highest protocol version accepted; default the release line of
	// protocol.ProtocolVersion with patch 999999 (YYYY.MDD.999999).
	MaxProtocol string
	// CallTimeout bounds each call (default 30 s); a context deadline wins when earlier.
	// A negative value leaves calls bounded by their context only.
	CallTimeout time.Duration
	// Reconnect is the reconnect policy; default {Base: 1s, Max: 30s, Jitter: 0.2}.
	Reconnect Backoff
	// Logger receives diagnostics; default: discard.
	Logger *slog.Logger
	// OnDisconnect is called once per unexpected disconnect with the close code and reason
	// (the peer's close frame when there was one, else 1000 "normal" for a clean end and
	// 1006 "abnormal" otherwise). It is not called for Close. It runs on the client's
	// connection goroutine, before reconnecting starts.
	OnDisconnect func(CloseInfo)
	// OnReconnect is called once per successful reconnect, after the TaskMaster apps and
	// the presence watch set have been restored, on the client's connection goroutine.
	// Calls made from it go through the new connection.
	OnReconnect func(protocol.HelloOk)
	// Transport tunes the WebSocket connection.
	Transport transport.Config
}

// Backoff is the reconnect policy: the n-th attempt (from 0) waits min(Base*2^n, Max)
// multiplied by a uniform factor in [1-Jitter, 1+Jitter]. Attempts are unlimited until
// Close. Zero fields take their defaults (Base 1 s, Max 30 s, Jitter 0.2); a negative
// Jitter means no jitter. Disabled turns reconnecting off: an unexpected disconnect then
// fires OnDisconnect and closes the client.
type Backoff struct {
	Base, Max time.Duration
	Jitter    float64
	Disabled  bool
}

// withDefaults fills the zero fields of b.
func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultBackoffBase
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultBackoffJitter
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		b.Jitter = 1
	}
	return b
}

// errBadOptions is wrapped by every option validation error.
var errBadOptions = errors.New("moltzap: invalid client options")

// endpoint is one server URL as given and the WebSocket URL dialled for it.
type endpoint struct {
	url, ws string
}

// normalize validates o, fills its defaults and returns the endpoints to dial, in order.
func (o *Options) normalize() ([]endpoint, error) {
	if (o.AgentKey == "") == (o.SessionToken == "") {
		return nil, fmt.Errorf("%w: exactly one of AgentKey and SessionToken must be set", errBadOptions)
	}
	eps, err := endpoints(o.URL, o.URLs)
	if err != nil {
		return nil, err
	}
	if o.MinProtocol == "" {
		o.MinProtocol = protocol.ProtocolVersion
	}
	if o.MaxProtocol == "" {
		o.MaxProtocol = releaseLineMax(protocol.ProtocolVersion)
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	o.Reconnect = o.Reconnect.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return eps, nil
}

// endpoints resolves URL and URLs into the distinct endpoints to dial, URL first.
func endpoints(first string, rest []string) ([]endpoint, error) {
	all := rest
	if first != "" {
		all = append([]string{first}, rest...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: URL is empty", errBadOptions)
	}
	out := make([]endpoint, 0, len(all))
	seen := make(map[string]bool, len(all))
	for _, u := range all {
		ws, err := websocketURL(u)
		if err != nil {
			return nil, err
		}
		if !seen[ws] {
			seen[ws] = true
			out = append(out, endpoint{url: u, ws: ws})
		}
	}
	return out, nil
}

// credentials returns the network/connect params.
func (o *Options) credentials() protocol.NetworkConnectParams {
	lo, hi := protocol.ProtocolVersionString(o.MinProtocol), protocol.ProtocolVersionString(o.MaxProtocol)
	if o.AgentKey != "" {
		return protocol.AgentKeyCredentials{AgentKey: o.AgentKey, MinProtocol: lo, MaxProtocol: hi}
	}
	return protocol.SessionTokenCredentials{SessionToken: o.SessionToken, MinProtocol: lo, MaxProtocol: hi}
}

// releaseLineMax returns "YYYY.MDD.999999" for the version "YYYY.MDD.PATCH".
func releaseLineMax(v string) string {
	seg := strings.Split(v, ".")
	if len(seg) < 2 {
		return v + ".999999"
	}
	return seg[0] + "." + seg[1] + ".999999"
}

// websocketURL turns Options.URL into the ws(s):// URL of the WebSocket endpoint.
func websocketURL(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: URL is empty", errBadOptions)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: URL: %w", errBadOptions, err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: URL %q has no host", errBadOptions, raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		u.Scheme = "ws"
		u.Path = endpointPath(u.Path)
	case "https":
		u.Scheme = "wss"
		u.Path = endpointPath(u.Path)
	case "ws", "wss":
		u.Scheme = strings.ToLower(u.Scheme)
		if u.Path == "" || u.Path == "/" {
			u.Path = "/ws"
		}
	default:
		return "", fmt.Errorf("%w: URL scheme %q is not http, https, ws or wss", errBadOptions, u.Scheme)
	}
	u.RawPath = ""
	return u.String(), nil
}

// endpointPath appends /ws to an HTTP base path unless it already ends with it.
func endpointPath(p string) string {
	p = strings.TrimSuffix(p, "/")
	if strings.HasSuffix(p, "/ws") {
		return p
	}
	return p + "/ws"
}
