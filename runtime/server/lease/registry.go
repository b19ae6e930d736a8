package lease

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Registry owns every dispatch lease of one server process, in memory. All
// methods are safe for concurrent use.
type Registry struct {
	cfg config

	mu         sync.Mutex
	byLease    map[protocol.LeaseID]*entry
	byDispatch map[protocol.DispatchID]*entry
	byConn     map[string]map[*entry]struct{} // non-terminal leases per recipient connection
	active     map[string]int                 // GRANTED+CLAIMED leases per recipient connection
	due        deadlines
	closed     bool
	queue      []event // events waiting for delivery, in transition order
	spare      []event // recycled queue buffer
	delivering bool    // a goroutine is draining queue

	wake      chan struct{} // the earliest deadline moved earlier
	stop      chan struct{} // closed by Close
	exited    chan struct{} // closed when the scheduler goroutine returns
	closeOnce sync.Once
}

// entry is the registry's record of one lease.
type entry struct {
	lease         Lease
	ttl           time.Duration // grant TTL, restarted by Unclaim
	recipientGone bool          // recipient connection closed while CLAIMED
	removeAt      time.Time     // end of retention once terminal (monotonic)

	deadline time.Time // scheduled deadline while index >= 0
	kind     dueKind
	index    int // position in Registry.due, -1 when not scheduled
}

// New returns a Registry and starts its scheduler goroutine; Close stops it.
func New(opts Options) *Registry {
	r := &Registry{
		cfg:        opts.resolve(),
		byLease:    make(map[protocol.LeaseID]*entry),
		byDispatch: make(map[protocol.DispatchID]*entry),
		byConn:     make(map[string]map[*entry]struct{}),
		active:     make(map[string]int),
		wake:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		exited:     make(chan struct{}),
	}
	go r.run()
	return r
}

// Close stops the scheduler goroutine and every pending TTL and retention
// deadline, and waits for the goroutine to return. The registry stays usable
// afterwards, but no lease expires and no record is swept any more. Close is
// idempotent; it must not be called from an Events handler.
func (r *Registry) Close() {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		for _, e := range r.due {
			e.index = -1
			e.kind = dueNone
		}
		r.due = nil
		r.mu.Unlock()
		close(r.stop)
	})
	<-r.exited
}

// Mint creates a PENDING lease with fresh UUIDv7 lease and dispatch ids bound
// to b (dispatch/request, REFERENCE 12.2 step 3).
func (r *Registry) Mint(b Binding) Lease {
	e := &entry{
		index: -1,
		lease: Lease{
			Binding:    b,
			LeaseID:    newID[protocol.LeaseID](),
			DispatchID: newID[protocol.DispatchID](),
			State:      protocol.LeaseStatePENDING,
			MintedAt:   r.cfg.clock(),
		},
	}
	r.mu.Lock()
	r.byLease[e.lease.LeaseID] = e
	r.byDispatch[e.lease.DispatchID] = e
	conns := r.byConn[b.RecipientConnID]
	if conns == nil {
		conns = make(map[*entry]struct{})
		r.byConn[b.RecipientConnID] = conns
	}
	conns[e] = struct{}{}
	snap := e.lease
	r.queue = append(r.queue, event{kind: evChanged, lease: snap})
	r.unlockAndFlush()
	return snap
}

// ForConversation returns the leases bound to a conversation that the
// registry still holds (live ones, and finished ones within Retention),
// oldest first.
func (r *Registry) ForConversation(convID protocol.ConversationID) []Lease {
	convID = normID(convID)
	r.mu.Lock()
	var out []Lease
	for _, e := range r.byLease {
		if normID(e.lease.ConversationID) == convID {
			out = append(out, e.lease)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b Lease) int {
		if c := a.MintedAt.Compare(b.MintedAt); c != 0 {
			return c
		}
		return strings.Compare(string(a.LeaseID), string(b.LeaseID)) // UUIDv7: mint order
	})
	return out
}

// Get returns the lease of a dispatch id (dispatches/get). A lease is
// readable from mint until Retention after it reached a terminal state.
func (r *Registry) Get(dispatchID protocol.DispatchID) (Lease, bool) {
	return get(r, r.byDispatch, dispatchID)
}

// GetLease is Get by lease id.
func (r *Registry) GetLease(leaseID protocol.LeaseID) (Lease, bool) {
	return get(r, r.byLease, leaseID)
}

// get looks id up in index, sweeping a record whose retention has passed.
func get[K ~string](r *Registry, index map[K]*entry, id K) (Lease, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := index[normID(id)]
	if !ok || r.sweepIfDueLocked(e) {
		return Lease{}, false
	}
	return e.lease, true
}

// ActiveForConn returns how many leases bound to recipient connection
// connID are GRANTED or CLAIMED (presence "working", REFERENCE 14).
func (r *Registry) ActiveForConn(connID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active[connID]
}

// Len returns how many lease records the registry holds (live and retained).
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byLease)
}

// lookupLocked finds a lease by id (case-insensitive), treating a record
// past its retention as gone.
func (r *Registry) lookupLocked(leaseID protocol.LeaseID) (*entry, bool) {
	e, ok := r.byLease[normID(leaseID)]
	if !ok || r.sweepIfDueLocked(e) {
		return nil, false
	}
	return e, true
}

// sweepIfDueLocked removes e if its retention window has passed and reports
// whether it did.
func (r *Registry) sweepIfDueLocked(e *entry) bool {
	if e.removeAt.IsZero() || time.Now().Before(e.removeAt) {
		return false
	}
	r.unscheduleLocked(e)
	r.removeLocked(e)
	return true
}

// removeLocked forgets e.
func (r *Registry) removeLocked(e *entry) {
	delete(r.byLease, e.lease.LeaseID)
	delete(r.byDispatch, e.lease.DispatchID)
}

// normID canonicalises a UUID-shaped id for lookup (ids compare
// case-insensitively; the registry stores them lowercase).
func normID[T ~string](id T) T { return T(strings.ToLower(string(id))) }
