package lease

import (
	"slices"
	"testing"
	"time"
)

func TestActiveForConnAndActivityChanged(t *testing.T) {
	r, rec := newTest(t, Options{})
	activity := func() int { return len(rec.activity("c1")) }
	step := func(name string, wantActive, wantEvents int) {
		t.Helper()
		barrier(t, r, rec)
		if got := r.ActiveForConn("c1"); got != wantActive {
			t.Fatalf("%s: ActiveForConn = %d, want %d", name, got, wantActive)
		}
		if got := activity(); got != wantEvents {
			t.Fatalf("%s: %d ActivityChanged, want %d", name, got, wantEvents)
		}
	}

	a := r.Mint(binding("c1"))
	b := r.Mint(binding("c1"))
	step("mint", 0, 0)
	mustResolve(t, r, a.LeaseID, grant(60000))
	step("grant a", 1, 1)
	mustResolve(t, r, b.LeaseID, hold(""))
	step("hold b", 1, 1)
	mustClaim(t, r, a)
	step("claim a", 1, 1)
	if _, err := r.Unclaim(a.LeaseID); err != nil {
		t.Fatal(err)
	}
	step("unclaim a", 1, 1)
	mustClaim(t, r, a)
	if _, err := r.Consume(a.LeaseID, "m"); err != nil {
		t.Fatal(err)
	}
	step("consume a", 0, 2)

	c := r.Mint(binding("c1"))
	mustResolve(t, r, c.LeaseID, grant(60000))
	step("grant c", 1, 3)
	r.ConnectionClosed("c1")
	step("close", 0, 4)
	if got := r.ActiveForConn("other"); got != 0 {
		t.Fatalf("ActiveForConn(other) = %d", got)
	}
}

func TestActivityChangedOnTTLExpiry(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(30))
	waitFor(t, "expiry", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
	waitFor(t, "activity", func() bool { return len(rec.activity("c1")) == 2 })
	if got := r.ActiveForConn("c1"); got != 0 {
		t.Fatalf("ActiveForConn = %d after expiry", got)
	}
}

// TestEventOrderPerLease checks the events of one lease come in transition
// order, each made outside the lock (the handler calls back in).
func TestEventOrderPerLease(t *testing.T) {
	rec := &recorder{}
	r := New(Options{DefaultTTL: time.Minute, Events: rec})
	defer r.Close()
	rec.hook = func(ev recEvent) { _ = r.ActiveForConn("c1") } // would deadlock under the lock

	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(40))
	mustClaim(t, r, l)
	if _, err := r.Unclaim(l.LeaseID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "expiry", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
	waitFor(t, "activity", func() bool { return len(rec.activity("c1")) == 2 })

	var kinds []string
	for _, ev := range rec.all() {
		kinds = append(kinds, ev.kind)
	}
	want := []string{"released", "activity", "expired", "activity"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("events = %v, want %v", kinds, want)
	}
}

// TestHandlersMayResolve checks a handler can drive further transitions
// without deadlocking and that those events are delivered too.
func TestHandlersMayResolve(t *testing.T) {
	rec := &recorder{}
	r := New(Options{DefaultTTL: time.Minute, Events: rec})
	defer r.Close()
	next := r.Mint(binding("c2"))
	rec.hook = func(ev recEvent) {
		if ev.kind == "released" && ev.lease.RecipientConnID == "c1" {
			_, _ = r.Resolve(next.LeaseID, grant(60000))
		}
	}
	first := r.Mint(binding("c1"))
	mustResolve(t, r, first.LeaseID, deny(""))
	waitFor(t, "chained release", func() bool { return len(rec.of("released", next.LeaseID)) == 1 })
}
