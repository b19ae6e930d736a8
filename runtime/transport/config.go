package transport

import "time"

// Defaults applied by Config to its zero fields.
const (
	// DefaultReadLimit is the largest inbound message, in bytes.
	DefaultReadLimit int64 = 1 << 20
	// DefaultPingInterval is the time between two heartbeat pings.
	DefaultPingInterval = 30 * time.Second
	// DefaultMaxMissedPings is the number of consecutive ping intervals
	// without any inbound frame after which the connection is closed.
	DefaultMaxMissedPings = 3
	// DefaultWriteQueueLen is the largest number of outbound messages queued
	// on one connection.
	DefaultWriteQueueLen = 256
	// DefaultWriteQueueBytes is the largest number of outbound payload bytes
	// queued on one connection.
	DefaultWriteQueueBytes = 4 << 20
	// DefaultWriteTimeout bounds one batched write.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the receipt of one inbound frame.
	DefaultReadTimeout = 30 * time.Second
)

// Config holds the tunables of a Conn. Zero (or negative) fields mean the
// corresponding default, except PingInterval where a negative value disables
// the heartbeat.
type Config struct {
	// ReadLimit is the largest inbound message payload in bytes, all
	// fragments together. A larger message closes the connection with
	// CloseMessageTooBig. Default DefaultReadLimit (1 MiB).
	ReadLimit int64

	// PingInterval is the time between two WebSocket pings sent by the
	// heartbeat. Default DefaultPingInterval (30 s); negative disables the
	// heartbeat.
	PingInterval time.Duration

	// MaxMissedPings is the number of consecutive ping intervals without any
	// inbound frame (pong or other) after which the connection is closed with
	// CloseGoingAway "heartbeat timeout". Default DefaultMaxMissedPings (3).
	MaxMissedPings int

	// WriteQueueLen bounds the number of outbound messages that are queued or
	// being written. Default DefaultWriteQueueLen (256).
	WriteQueueLen int

	// WriteQueueBytes bounds the total payload of the outbound messages that
	// are queued or being written. Default DefaultWriteQueueBytes (4 MiB).
	WriteQueueBytes int

	// WriteTimeout bounds one batched write (everything queued when the
	// writer ran, at most WriteQueueLen messages and WriteQueueBytes bytes,
	// in one writev); during a graceful close it bounds the flush of the
	// whole queue plus the close frame. It also bounds the server handshake
	// response. Default DefaultWriteTimeout (10 s).
	WriteTimeout time.Duration

	// ReadTimeout bounds the receipt of one inbound frame, from its first
	// byte to its last. A peer that stops mid-frame for longer is closed
	// with ClosePolicyViolation "read timeout: incomplete frame"; between
	// frames only the heartbeat applies. Default DefaultReadTimeout (30 s).
	ReadTimeout time.Duration
}

// withDefaults returns c with every unset field replaced by its default.
func (c Config) withDefaults() Config {
	if c.ReadLimit <= 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.MaxMissedPings <= 0 {
		c.MaxMissedPings = DefaultMaxMissedPings
	}
	if c.WriteQueueLen <= 0 {
		c.WriteQueueLen = DefaultWriteQueueLen
	}
	if c.WriteQueueBytes <= 0 {
		c.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}
