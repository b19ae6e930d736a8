package channel

import (
	"container/list"
	"log/slog"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// releaseRing keeps dispatch/release frames that arrived before their ack, keyed by lease
// id: at most size entries (the oldest is evicted when full) and each for at most ttl
// (expired entries are evicted lazily). Both evictions log a warning. Not safe for
// concurrent use; the core guards it.
type releaseRing struct {
	size  int
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger
	order *list.List // of *ringEntry, oldest first
	byID  map[string]*list.Element
}

type ringEntry struct {
	rel protocol.DispatchReleaseNotification
	at  time.Time
}

func newReleaseRing(size int, ttl time.Duration, now func() time.Time, log *slog.Logger) *releaseRing {
	return &releaseRing{size: size, ttl: ttl, now: now, log: log, order: list.New(), byID: map[string]*list.Element{}}
}

// put buffers rel; a second release for the same lease replaces the first.
func (r *releaseRing) put(rel protocol.DispatchReleaseNotification) {
	r.expire()
	id := string(rel.LeaseID)
	if el, ok := r.byID[id]; ok {
		r.order.Remove(el)
		delete(r.byID, id)
	}
	for r.order.Len() >= r.size {
		oldest := r.order.Front()
		e := oldest.Value.(*ringEntry)
		r.remove(oldest)
		r.log.Warn("moltzap channel: release ring full; evicting the oldest early release",
			"leaseId", e.rel.LeaseID, "dispatchId", e.rel.DispatchID, "capacity", r.size)
	}
	r.byID[id] = r.order.PushBack(&ringEntry{rel: rel, at: r.now()})
}

// take removes and returns the buffered release of leaseID.
func (r *releaseRing) take(leaseID string) (protocol.DispatchReleaseNotification, bool) {
	r.expire()
	el, ok := r.byID[leaseID]
	if !ok {
		return protocol.DispatchReleaseNotification{}, false
	}
	r.remove(el)
	return el.Value.(*ringEntry).rel, true
}

// len returns the number of buffered releases.
func (r *releaseRing) len() int { return r.order.Len() }

// expire evicts the entries older than ttl.
func (r *releaseRing) expire() {
	now := r.now()
	for el := r.order.Front(); el != nil; el = r.order.Front() {
		e := el.Value.(*ringEntry)
		if now.Sub(e.at) < r.ttl {
			return
		}
		r.remove(el)
		r.log.Warn("moltzap channel: early release expired without an ack",
			"leaseId", e.rel.LeaseID, "dispatchId", e.rel.DispatchID, "age", now.Sub(e.at))
	}
}

func (r *releaseRing) remove(el *list.Element) {
	delete(r.byID, string(el.Value.(*ringEntry).rel.LeaseID))
	r.order.Remove(el)
}
