package lease

import (
	"errors"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestRetentionRemovesTerminalLeases(t *testing.T) {
	r, _ := newTest(t, Options{Retention: 30 * time.Millisecond})
	live := r.Mint(binding("c1"))
	granted := r.Mint(binding("c1"))
	mustResolve(t, r, granted.LeaseID, grant(60000))
	done := r.Mint(binding("c1"))
	mustResolve(t, r, done.LeaseID, deny("no"))

	if _, ok := r.Get(done.DispatchID); !ok {
		t.Fatal("terminal lease not readable right after resolution")
	}
	waitFor(t, "retention sweep", func() bool { return r.Len() == 2 })
	if _, ok := r.Get(done.DispatchID); ok {
		t.Fatal("Get found a lease past its retention window")
	}
	if _, ok := r.GetLease(done.LeaseID); ok {
		t.Fatal("GetLease found a lease past its retention window")
	}
	if _, err := r.Resolve(done.LeaseID, grant(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve after removal err = %v, want ErrNotFound", err)
	}
	wantState(t, r, live.LeaseID, protocol.LeaseStatePENDING)
	wantState(t, r, granted.LeaseID, protocol.LeaseStateGRANTED)
}

func TestRetentionStartsAtTerminalState(t *testing.T) {
	r, _ := newTest(t, Options{Retention: 30 * time.Millisecond})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	mustClaim(t, r, l)
	time.Sleep(60 * time.Millisecond) // longer than the retention window
	if _, err := r.Consume(l.LeaseID, "m"); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Get(l.DispatchID); !ok || got.State != protocol.LeaseStateCONSUMED {
		t.Fatalf("Get right after Consume = %+v, %v", got, ok)
	}
	waitFor(t, "removal", func() bool { _, ok := r.Get(l.DispatchID); return !ok })
}

func TestRetentionLazyAfterClose(t *testing.T) {
	r := New(Options{Retention: 20 * time.Millisecond})
	r.Close()
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, deny(""))
	if _, ok := r.Get(l.DispatchID); !ok {
		t.Fatal("lease not readable")
	}
	waitFor(t, "lazy removal", func() bool { _, ok := r.Get(l.DispatchID); return !ok })
	if r.Len() != 0 {
		t.Fatalf("Len = %d after lazy removal", r.Len())
	}
}
