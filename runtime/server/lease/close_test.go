package lease

import (
	"runtime"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestCloseStopsTimersAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	var regs []*Registry
	for range 10 {
		r := New(Options{Retention: time.Minute})
		for i := range 100 {
			l := r.Mint(binding("c1"))
			switch i % 3 {
			case 0:
				mustResolve(t, r, l.LeaseID, grant(60000))
			case 1:
				mustResolve(t, r, l.LeaseID, hold(""))
			default:
				mustResolve(t, r, l.LeaseID, deny(""))
			}
		}
		regs = append(regs, r)
	}
	for _, r := range regs {
		r.Close()
		r.Close() // idempotent
		select {
		case <-r.exited:
		default:
			t.Fatal("Close returned before the scheduler goroutine")
		}
		if n := r.due.Len(); n != 0 {
			t.Fatalf("%d deadlines left after Close", n)
		}
	}
	waitFor(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= before })
}

func TestNoExpiryAfterClose(t *testing.T) {
	rec := &recorder{}
	r := New(Options{HoldTTL: 30 * time.Millisecond, Events: rec})
	g := r.Mint(binding("c1"))
	mustResolve(t, r, g.LeaseID, grant(30))
	h := r.Mint(binding("c1"))
	mustResolve(t, r, h.LeaseID, hold(""))
	r.Close()
	time.Sleep(90 * time.Millisecond)
	wantState(t, r, g.LeaseID, protocol.LeaseStateGRANTED)
	wantState(t, r, h.LeaseID, protocol.LeaseStateHOLD)
	if evs := rec.of("expired", g.LeaseID); len(evs) != 0 {
		t.Fatalf("expired after Close: %+v", evs)
	}
	// The registry still answers transitions after Close.
	r.ConnectionClosed("c1")
	wantState(t, r, g.LeaseID, protocol.LeaseStateEXPIRED)
}
