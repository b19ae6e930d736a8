package channel

import (
	"log/slog"
	"time"

	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// Defaults applied by New to zero Options fields (REFERENCE 17.2).
const (
	// DefaultAdmissionTimeout bounds the dispatch/request ack plus the release wait.
	DefaultAdmissionTimeout = 30 * time.Second
	// DefaultLeaseTimeout bounds a handler when the grant carries no lease timeout.
	DefaultLeaseTimeout = 90 * time.Second
	// DefaultReleaseRingSize is the capacity of the early-release ring.
	DefaultReleaseRingSize = 256
	// DefaultReleaseRingTTL is the soft TTL of an early release.
	DefaultReleaseRingTTL = 30 * time.Second
	// MaxPending is the schema limit of dispatch/request.pending.
	MaxPending = 100
)

// Options configure a Core. Zero durations and sizes take the defaults; note that the
// zero Admission is false (implicit grants): use DefaultOptions for the reference
// behaviour.
type Options struct {
	// AdmissionTimeout bounds one admission: the ack and the release wait (30 s).
	AdmissionTimeout time.Duration
	// DefaultLeaseTimeout bounds the handler of a grant without leaseTimeoutMs (90 s).
	DefaultLeaseTimeout time.Duration
	// ReleaseRingSize is the number of early releases kept (256).
	ReleaseRingSize int
	// ReleaseRingTTL is how long an early release is kept (30 s).
	ReleaseRingTTL time.Duration
	// Admission turns dispatch admission on. When false every candidate is granted
	// implicitly, without a lease (for tests and servers without admission).
	Admission bool
	// Context bounds the cross-conversation context attached to each dispatch.
	Context service.ContextOptions
	// Logger receives diagnostics; default: discard.
	Logger *slog.Logger
}

// DefaultOptions returns the reference settings with admission on.
func DefaultOptions() Options {
	return Options{Admission: true}.withDefaults()
}

func (o Options) withDefaults() Options {
	if o.AdmissionTimeout <= 0 {
		o.AdmissionTimeout = DefaultAdmissionTimeout
	}
	if o.DefaultLeaseTimeout <= 0 {
		o.DefaultLeaseTimeout = DefaultLeaseTimeout
	}
	if o.ReleaseRingSize <= 0 {
		o.ReleaseRingSize = DefaultReleaseRingSize
	}
	if o.ReleaseRingTTL <= 0 {
		o.ReleaseRingTTL = DefaultReleaseRingTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
