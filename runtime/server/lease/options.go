package lease

import "time"

// Defaults applied by New to zero (or negative) Options fields.
const (
	// DefaultLeaseTTL is the lease TTL applied to a grant without
	// leaseTimeoutMs (REFERENCE Q2, Appendix A: 90 000 ms).
	DefaultLeaseTTL = 90 * time.Second
	// DefaultHoldTTL is how long a HOLD lease lives before it expires (Q3).
	DefaultHoldTTL = 90 * time.Second
	// DefaultRetention is how long a terminal lease stays readable (Q29).
	DefaultRetention = 5 * time.Minute
)

// Options configures a Registry. The zero value is usable.
type Options struct {
	// DefaultTTL is the TTL of a grant that carries no leaseTimeoutMs; it is
	// reported back in the verdict and in dispatch/release. Default 90 s.
	DefaultTTL time.Duration
	// HoldTTL is the TTL of a HOLD lease. Default 90 s.
	HoldTTL time.Duration
	// Retention is how long a terminal lease stays readable by Get after it
	// reached its terminal state. Default 5 min.
	Retention time.Duration
	// Clock stamps the wire times of a lease (mintedAt, resolvedAt, ...).
	// Default time.Now. TTL and retention deadlines always run on the
	// monotonic real-time clock, whatever Clock returns.
	Clock func() time.Time
	// Events receives the lease notifications. Default: discard them.
	Events Events
}

// config is Options with every default applied.
type config struct {
	defaultTTL time.Duration
	holdTTL    time.Duration
	retention  time.Duration
	clock      func() time.Time
	events     Events
}

// resolve applies the defaults of Options.
func (o Options) resolve() config {
	c := config{
		defaultTTL: o.DefaultTTL,
		holdTTL:    o.HoldTTL,
		retention:  o.Retention,
		clock:      o.Clock,
		events:     o.Events,
	}
	if c.defaultTTL <= 0 {
		c.defaultTTL = DefaultLeaseTTL
	}
	if c.holdTTL <= 0 {
		c.holdTTL = DefaultHoldTTL
	}
	if c.retention <= 0 {
		c.retention = DefaultRetention
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.events == nil {
		c.events = nopEvents{}
	}
	return c
}
