package server

import (
	"context"
	"github.com/moltzap/moltzap-go/runtime/feed"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/transport"
)

// DefaultAppID is the boot-installed app served in-process (protocol.DefaultAppID): it
// grants every dispatch, forwards every message to all other participants and accepts
// every task.
const DefaultAppID = protocol.DefaultAppID

// Limits are the policy values the server enforces and advertises in HelloOk.
type Limits struct {
	MaxMessageBytes      int           // advertised message payload limit (65536)
	MaxPartsPerMessage   int           // 10
	MaxTextLength        int           // 32768
	MaxGroupParticipants int           // members of a conversation including its creator (256)
	HeartbeatInterval    time.Duration // WebSocket ping interval (30 s)
	MessagesPerMinute    int           // messages/send per agent (60)
	RequestsPerMinute    int           // requests per agent (120)
}

// Config configures a Server. The zero value is a working default.
type Config struct {
	// ProtocolVersion is the one version the server speaks (default protocol.ProtocolVersion).
	ProtocolVersion string
	// AdminSecret, when set, gates registration with an invite code and mounts
	// /api/v1/admin/register-agent.
	AdminSecret string
	// SessionValidator, when set, accepts network/connect with a sessionToken (REFERENCE 6.3;
	// WebhookValidator is the reference one). Without it such a connect is -32000 "Session
	// tokens not supported by this server".
	SessionValidator SessionValidator
	// SeparateMetrics leaves /metrics off Handler(); serve MetricsHandler() on a listener of
	// its own (off the public port).
	SeparateMetrics bool
	// AllowedOrigins, when set, limits WebSocket upgrades that carry an Origin header (those
	// of browsers) to these origins ("https://app.example.com"); others get 403. Requests
	// without an Origin (programs) are not affected.
	AllowedOrigins []string
	// ContactPolicy turns on the in-process contact policy (REFERENCE 15.6): task invitations
	// then require both agents' owners to be the same user or accepted contacts (-32005
	// otherwise). Off by default: every agent may invite every other agent. Presence
	// subscriptions are limited to the caller's visibility set either way.
	ContactPolicy bool
	// Limits are enforced and advertised.
	Limits Limits
	// AuthTimeout is how long a socket may stay open without completing network/connect
	// (10 s); it is then closed with 1008 "authentication timeout", whatever else it sends
	// (answering pings does not extend it).
	AuthTimeout time.Duration
	// MaxAuthAttempts is how many network/connect attempts a socket may make before it
	// authenticates (10); the next attempt closes it with 1008 "too many failed
	// authentication attempts".
	MaxAuthAttempts int
	// MaxUnauthRequests is how many requests of any method a socket may send before it
	// authenticates (32); the next one closes it with 1008 "too many unauthenticated
	// requests".
	MaxUnauthRequests int
	// AuthFailuresPerMinute is the token bucket of failed network/connect attempts per remote
	// IP address (60 a minute, bursts of as many). While it is empty every network/connect
	// from that address is answered -32004 RateLimited with data.retryAfterMs, before any
	// credential is looked up.
	AuthFailuresPerMinute int
	// ReadLimit is the largest accepted WebSocket message (1 MiB); bigger closes with 1009.
	ReadLimit int64
	// WriteQueueLen bounds each connection's outbound queue (messages).
	WriteQueueLen int
	// HookTimeout bounds a TaskMaster callback unless the app's manifest says otherwise (5 s).
	HookTimeout time.Duration
	// LeaseTTL is the default dispatch lease timeout (90 s); HOLD leases expire after it too.
	LeaseTTL time.Duration
	// LeaseRetention keeps terminal leases readable by dispatches/get (5 min).
	LeaseRetention time.Duration
	// SweepInterval is how often waiting tasks older than 2 x HookTimeout are failed (10 s).
	SweepInterval time.Duration
	// ShutdownDrain is how long Shutdown waits for in-flight writes (500 ms).
	ShutdownDrain time.Duration

	// Webhooks (delivery, contact policy)
	//
	// DeliveryWebhook, when set, receives a POST of {conversationId, messageId,
	// offlineRecipientAgentIds} for the Forward recipients of a sent message that have no
	// live connection (REFERENCE 15.2 step 10), signed with X-MoltZap-Signature
	// "sha256=<hex HMAC-SHA256 of the body with DeliveryWebhookSecret>". It runs in the
	// background through a bounded queue (full: dropped with a warning) and never delays
	// messages/send; Shutdown stops it.
	DeliveryWebhook       string
	DeliveryWebhookSecret string
	// DeliveryWebhookTimeout bounds one attempt (5 s); there are 3 attempts.
	DeliveryWebhookTimeout time.Duration
	// DeliveryWebhookBackoff is the base of the jittered exponential backoff between
	// attempts (1 s: about 1 s, then about 2 s).
	DeliveryWebhookBackoff time.Duration
	// DeliveryWebhookQueue bounds the events waiting to be posted (1024).
	DeliveryWebhookQueue int
	// ContactWebhook, when set with ContactPolicy on, replaces the contacts table as the
	// predicate areInContact(userA, userB) of the contact policy and presence visibility:
	// POST {"userA","userB"} -> {"inContact": bool}, failing closed (any failure = not in
	// contact). The same user is in contact with itself without a call.
	ContactWebhook string
	// ContactWebhookTimeout bounds one contact query (2 s).
	ContactWebhookTimeout time.Duration
	// ContactWebhookCacheTTL caches answers for this long (0: no cache; failures are never
	// cached).
	ContactWebhookCacheTTL time.Duration
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger

	// Feed, when set, is told what happens on the network (connections, presence, tasks,
	// conversations, messages, leases) for a read-only live view such as the Observatory;
	// FeedSource answers the view's snapshot questions. Nil means feed.Nop: nobody
	// watches and no event is built.
	Feed feed.Observer

	// SharedStore tells that other processes write the same store (several nodes on one
	// PostgreSQL): the facts messages/send checks (task state, conversation archive state
	// and members) are then read from the store every time instead of being cached.
	SharedStore bool

	// Cluster (docs/cluster.md)
	//
	// Bus, when set, is the fan-out seam this node shares with the other server nodes of a
	// cluster (runtime/bus: natsbus for NATS, or an in-process bus.Hub in tests): every node
	// must use the same store and the same bus. It implies SharedStore. The caller closes
	// it after Shutdown. Nil: a private in-process bus, a single node (nothing is published).
	Bus bus.Bus
	// NodeID names this node in the cluster and prefixes its connection ids (1-64 letters,
	// digits, '_' or '-'; default: random). Two live nodes must not share one.
	NodeID string
	// ClusterHeartbeat is how often a node tells the others it is alive (1 s); a node
	// silent for 3 heartbeats is dead: its agents go offline and its apps unbound.
	ClusterHeartbeat time.Duration
	// HealthInterval is how often the bus and the store are checked (1 s); while either is
	// unavailable new WebSockets are refused with 503 and the reason.
	HealthInterval time.Duration

	// ReadinessChecks are run by /readyz beside the store's Ping (when the store has one):
	// name -> check, each bounded by 2 s. A failing check answers 503 naming it.
	ReadinessChecks map[string]func(context.Context) error

	// App allowlist and embedder hooks
	//
	// AppAllowlist (REFERENCE Q14), when non-nil, limits apps/register: an app id listed in
	// it may be registered only by an agent whose owner user is in its list (-32001 "App <id>
	// is not allowed for this owner" otherwise, unclaimed agents included). App ids not
	// listed keep the first-come behaviour, unless the map has the key "*": its list is then
	// the owners allowed for every app not listed by itself, so {"*": []} means "only listed
	// apps may register". Nil or empty: no restriction.
	AppAllowlist map[protocol.AppID][]protocol.UserID
	// OnConnect, when set, runs after network/connect has verified the credentials and
	// before anything is registered, with a context that ends after 2 s (the server stops
	// waiting then even if the hook does not return). A non-nil error refuses the connection:
	// the connect answers the hook's own -32000 or -32001 error as it is, any other error as
	// -32001 Forbidden with its text as message; a timeout refuses too, with -32001
	// "Connection refused: connect hook timed out". The socket stays open (it may retry).
	OnConnect ConnectHook
	// OnDisconnect, when set, runs once for every connection OnConnect admitted (or every
	// authenticated connection without OnConnect) after it has ended and been cleaned up.
	// It runs in its own goroutine: the server never waits for it (Shutdown included) and
	// logs a warning when it is still running after 2 s.
	OnDisconnect DisconnectHook
}

func (c Config) withDefaults() Config {
	if c.Feed == nil {
		c.Feed = feed.Nop{}
	}
	if c.ProtocolVersion == "" {
		c.ProtocolVersion = protocol.ProtocolVersion
	}
	l := &c.Limits
	setInt(&l.MaxMessageBytes, 65536)
	setInt(&l.MaxPartsPerMessage, 10)
	setInt(&l.MaxTextLength, 32768)
	setInt(&l.MaxGroupParticipants, 256)
	setDur(&l.HeartbeatInterval, 30*time.Second)
	setInt(&l.MessagesPerMinute, 60)
	setInt(&l.RequestsPerMinute, 120)
	setDur(&c.AuthTimeout, 10*time.Second)
	setInt(&c.MaxAuthAttempts, 10)
	setInt(&c.MaxUnauthRequests, 32)
	setInt(&c.AuthFailuresPerMinute, 60)
	if c.ReadLimit <= 0 {
		c.ReadLimit = 1 << 20
	}
	setDur(&c.HookTimeout, 5*time.Second)
	setDur(&c.LeaseTTL, 90*time.Second)
	setDur(&c.LeaseRetention, 5*time.Minute)
	setDur(&c.SweepInterval, 10*time.Second)
	setDur(&c.ShutdownDrain, 500*time.Millisecond)
	setDur(&c.ClusterHeartbeat, time.Second)
	setDur(&c.HealthInterval, time.Second)
	if c.NodeID == "" {
		c.NodeID = uuid.NewString()[:8]
	}
	if c.Bus != nil {
		c.SharedStore = true // other nodes write the store too
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func setInt(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

func setDur(v *time.Duration, def time.Duration) {
	if *v <= 0 {
		*v = def
	}
}

func (c Config) transport() transport.Config {
	return transport.Config{ReadLimit: c.ReadLimit, PingInterval: c.Limits.HeartbeatInterval, WriteQueueLen: c.WriteQueueLen}
}

// policy is the HelloOk.policy advertised to every agent.
func (c Config) policy() protocol.Policy {
	l := c.Limits
	return protocol.Policy{
		MaxMessageBytes:      int64(l.MaxMessageBytes),
		MaxPartsPerMessage:   int64(l.MaxPartsPerMessage),
		MaxTextLength:        int64(l.MaxTextLength),
		MaxGroupParticipants: int64(l.MaxGroupParticipants),
		HeartbeatIntervalMs:  l.HeartbeatInterval.Milliseconds(),
		RateLimits: protocol.RateLimits{
			MessagesPerMinute: int64(l.MessagesPerMinute),
			RequestsPerMinute: int64(l.RequestsPerMinute),
		},
	}
}
