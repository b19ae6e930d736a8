package lease

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestFallbackV7(t *testing.T) {
	now := time.Date(2026, 5, 25, 10, 0, 0, 0, time.UTC)
	id := fallbackV7(now)
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 || id != strings.ToLower(id) {
		t.Fatalf("fallbackV7 = %q (version %v, variant %v, err %v)", id, u.Version(), u.Variant(), err)
	}
	if sec, nsec := u.Time().UnixTime(); time.Unix(sec, nsec).UnixMilli() != now.UnixMilli() {
		t.Fatalf("fallbackV7 timestamp = %v, want %v", time.Unix(sec, nsec), now)
	}
}

func TestInvalidStateErrorMessage(t *testing.T) {
	err := &InvalidStateError{LeaseID: "L", State: protocol.LeaseStateHOLD, Expected: []protocol.LeaseState{protocol.LeaseStateGRANTED}}
	if got, want := err.Error(), "lease L is HOLD, expected GRANTED"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestDefaultEventsDiscard(t *testing.T) {
	r := New(Options{DefaultTTL: 20 * time.Millisecond})
	defer r.Close()
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, protocol.DispatchGrant{})
	waitFor(t, "expiry", func() bool { return stateOf(t, r, l.LeaseID) == protocol.LeaseStateEXPIRED })
	m := r.Mint(binding("c1"))
	mustResolve(t, r, m.LeaseID, grant(60000))
	mustClaim(t, r, m)
	if _, err := r.Consume(m.LeaseID, "x"); err != nil {
		t.Fatal(err)
	}
}

// TestManyDeadlinesAtOnce fires more deadlines than one critical section
// handles.
func TestManyDeadlinesAtOnce(t *testing.T) {
	r, rec := newTest(t, Options{})
	const n = 3*maxFirePerLock + 7
	for range n {
		l := r.Mint(binding("c1"))
		mustResolve(t, r, l.LeaseID, grant(20))
	}
	waitFor(t, "all expired", func() bool { return r.ActiveForConn("c1") == 0 })
	barrier(t, r, rec)
	count := 0
	for _, ev := range rec.all() {
		if ev.kind == "expired" {
			count++
		}
	}
	if count != n {
		t.Fatalf("%d Expired, want %d", count, n)
	}
}

// TestPanickingHandlerDoesNotWedgeDelivery checks later events still go out
// after a handler panicked.
func TestPanickingHandlerDoesNotWedgeDelivery(t *testing.T) {
	rec := &recorder{}
	r := New(Options{DefaultTTL: time.Minute, Events: rec})
	defer r.Close()
	bad := r.Mint(binding("bad"))
	rec.hook = func(ev recEvent) {
		if ev.kind == "released" && ev.lease.LeaseID == bad.LeaseID {
			panic("handler bug")
		}
	}
	func() {
		defer func() { _ = recover() }()
		// Released panics; the ActivityChanged queued behind it survives.
		_, _ = r.Resolve(bad.LeaseID, grant(60000))
	}()
	good := r.Mint(binding("good"))
	mustResolve(t, r, good.LeaseID, deny(""))
	waitFor(t, "release after panic", func() bool { return len(rec.of("released", good.LeaseID)) == 1 })
	if n := len(rec.activity("bad")); n != 1 {
		t.Fatalf("%d ActivityChanged for the panicking lease's connection, want 1", n)
	}
}
