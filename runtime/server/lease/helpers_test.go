package lease

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// waitTimeout bounds every wait in the tests.
const waitTimeout = 5 * time.Second

// recEvent is one recorded Events call.
type recEvent struct {
	kind      string // released, expired, consumed, activity
	lease     Lease
	verdict   protocol.DispatchAdmissionDecision
	timeoutMs *int64
	connID    string
}

// recorder is an Events that records every call.
type recorder struct {
	mu      sync.Mutex
	events  []recEvent
	changes []Lease        // Changed calls, in order
	hook    func(recEvent) // called outside the recorder lock, if set
}

func (r *recorder) add(ev recEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(ev)
	}
}

func (r *recorder) Released(l Lease, v protocol.DispatchAdmissionDecision, ms *int64) {
	r.add(recEvent{kind: "released", lease: l, verdict: v, timeoutMs: ms})
}
func (r *recorder) Expired(l Lease)          { r.add(recEvent{kind: "expired", lease: l}) }
func (r *recorder) Consumed(l Lease)         { r.add(recEvent{kind: "consumed", lease: l}) }
func (r *recorder) ActivityChanged(c string) { r.add(recEvent{kind: "activity", connID: c}) }

// Changed records the state reached in changes, apart from the other events.
func (r *recorder) Changed(l Lease) {
	r.mu.Lock()
	r.changes = append(r.changes, l)
	r.mu.Unlock()
}

// states returns the states one lease went through, as Changed reported them.
func (r *recorder) states(id protocol.LeaseID) []protocol.LeaseState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []protocol.LeaseState
	for _, l := range r.changes {
		if l.LeaseID == id {
			out = append(out, l.State)
		}
	}
	return out
}
func (r *recorder) all() []recEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recEvent(nil), r.events...)
}

// of returns the recorded events of one kind for one lease.
func (r *recorder) of(kind string, id protocol.LeaseID) []recEvent {
	var out []recEvent
	for _, ev := range r.all() {
		if ev.kind == kind && kind != "activity" && ev.lease.LeaseID == id {
			out = append(out, ev)
		}
	}
	return out
}

// activity returns the recorded ActivityChanged calls for one connection.
func (r *recorder) activity(connID string) []recEvent {
	var out []recEvent
	for _, ev := range r.all() {
		if ev.kind == "activity" && ev.connID == connID {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// newTest returns a registry recording into a fresh recorder, closed at the
// end of the test. Zero TTLs default to one minute so they never interfere.
func newTest(t *testing.T, opts Options) (*Registry, *recorder) {
	t.Helper()
	rec := &recorder{}
	if opts.DefaultTTL == 0 {
		opts.DefaultTTL = time.Minute
	}
	if opts.HoldTTL == 0 {
		opts.HoldTTL = time.Minute
	}
	opts.Events = rec
	r := New(opts)
	t.Cleanup(r.Close)
	return r, rec
}

// barrier makes sure every event queued before it has been delivered: events
// are totally ordered, so once a later Released is seen the earlier ones are
// too.
func barrier(t *testing.T, r *Registry, rec *recorder) {
	t.Helper()
	l := r.Mint(Binding{RecipientConnID: "barrier-conn"})
	mustResolve(t, r, l.LeaseID, protocol.DispatchDeny{})
	waitFor(t, "barrier release", func() bool { return len(rec.of("released", l.LeaseID)) == 1 })
}

// binding returns a binding for recipient connection conn.
func binding(conn string) Binding {
	return Binding{
		RecipientAgentID: "0197a000-0000-7000-8000-00000000a9e1",
		RecipientConnID:  conn,
		ModeratorConnID:  "mod-conn",
		TaskID:           "0197a000-0000-7000-8000-0000000074a5",
		ConversationID:   "0197a000-0000-7000-8000-00000000c0c0",
		AppID:            "app-1",
	}
}

func grant(ms int64) protocol.DispatchGrant { return protocol.DispatchGrant{LeaseTimeoutMs: &ms} }

func deny(reason string) protocol.DispatchDeny { return protocol.DispatchDeny{Reason: &reason} }

func hold(reason string) protocol.DispatchHold { return protocol.DispatchHold{Reason: &reason} }

func mustResolve(t *testing.T, r *Registry, id protocol.LeaseID, v protocol.DispatchAdmissionDecision) Resolution {
	t.Helper()
	res, err := r.Resolve(id, v)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", id, err)
	}
	return res
}

func mustClaim(t *testing.T, r *Registry, l Lease) Lease {
	t.Helper()
	got, err := r.Claim(l.LeaseID, l.RecipientAgentID, l.ConversationID)
	if err != nil {
		t.Fatalf("Claim(%s): %v", l.LeaseID, err)
	}
	return got
}

// upper returns id in upper case (ids compare case-insensitively).
func upper[T ~string](id T) T { return T(strings.ToUpper(string(id))) }

// stateOf returns the current state of a lease, failing if it is gone.
func stateOf(t *testing.T, r *Registry, id protocol.LeaseID) protocol.LeaseState {
	t.Helper()
	l, ok := r.GetLease(id)
	if !ok {
		t.Fatalf("lease %s not found", id)
	}
	return l.State
}

func wantState(t *testing.T, r *Registry, id protocol.LeaseID, want protocol.LeaseState) {
	t.Helper()
	if got := stateOf(t, r, id); got != want {
		t.Fatalf("lease state = %s, want %s", got, want)
	}
}

// wantInvalidState checks err is an *InvalidStateError with state and expected.
func wantInvalidState(t *testing.T, err error, state, expected protocol.LeaseState) {
	t.Helper()
	var ise *InvalidStateError
	if !errors.As(err, &ise) {
		t.Fatalf("err = %v, want *InvalidStateError", err)
	}
	if ise.State != state || len(ise.Expected) != 1 || ise.Expected[0] != expected {
		t.Fatalf("InvalidStateError = %+v, want state %s expected [%s]", ise, state, expected)
	}
	if !errors.Is(err, ErrInvalidState) {
		t.Fatalf("errors.Is(%v, ErrInvalidState) = false", err)
	}
}
