package rpc

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"
)

// Role selects how a Peer treats bad input.
type Role int

const (
	// RoleClient drops bad frames, counts them and logs the 1st and every
	// 50th (REFERENCE 2.5); inbound notifications are delivered. It is the
	// zero value.
	RoleClient Role = iota
	// RoleServer answers bad frames with JSON-RPC errors (REFERENCE 2.4) and
	// rejects inbound notifications with -32600.
	RoleServer
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// Defaults applied by NewPeer to zero Options fields.
const (
	// DefaultCallTimeout bounds a Call whose context has no earlier deadline.
	DefaultCallTimeout = 30 * time.Second
	// DefaultMaxConcurrentInbound is the number of inbound requests handled
	// at once.
	DefaultMaxConcurrentInbound = 64
	// DefaultMaxQueuedInbound is the number of inbound requests that may
	// wait for a free handler slot (REFERENCE 11.1: bounded queue of 8192).
	DefaultMaxQueuedInbound = 8192
)

// Options configures a Peer. The zero value is usable.
type Options struct {
	// IDPrefix prefixes outbound request ids ("<prefix>-<n>"). Default: 8
	// random hex digits.
	IDPrefix string
	// CallTimeout bounds each Call unless the call's context has an earlier
	// deadline. Zero means DefaultCallTimeout; negative disables the per-call
	// timeout (the context alone bounds the call).
	CallTimeout time.Duration
	// Logger receives diagnostics. Default: discard.
	Logger *slog.Logger
	// LogAttrs are key-value pairs added to every diagnostic, as by
	// Logger.With, but applied only when something is logged: a Peer
	// that logs nothing keeps no logger of its own.
	LogAttrs []any
	// MaxConcurrentInbound bounds how many inbound requests run their
	// handler at the same time. Further requests wait in arrival order.
	// Zero or negative means DefaultMaxConcurrentInbound.
	MaxConcurrentInbound int
	// MaxQueuedInbound bounds how many inbound requests may wait for a
	// handler slot. When the queue is full HandleFrame blocks (back-pressure
	// on the transport read loop) until a slot frees, its context ends or the
	// Peer closes. Zero or negative means DefaultMaxQueuedInbound.
	MaxQueuedInbound int
	// Role selects the bad-input policy; the zero value is RoleClient.
	Role Role
	// OnMalformed, if set, is called synchronously with the running count
	// every time a bad inbound frame is seen (e.g. to feed a metric).
	OnMalformed func(count int)
	// Workers, when set, runs the inbound handlers on goroutines shared with
	// the other Peers given the same set; a Peer's worker then returns its
	// goroutine to the set as soon as the Peer's queue is empty. Nil: each
	// Peer starts goroutines of its own, which linger for the next request.
	Workers *Workers
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.IDPrefix == "" {
		o.IDPrefix = randomPrefix()
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxConcurrentInbound <= 0 {
		o.MaxConcurrentInbound = DefaultMaxConcurrentInbound
	}
	if o.MaxQueuedInbound <= 0 {
		o.MaxQueuedInbound = DefaultMaxQueuedInbound
	}
	return o
}

// randomPrefix returns 8 random hex digits.
func randomPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}
