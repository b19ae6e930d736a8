package lease

import (
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestConnectionClosedPerState(t *testing.T) {
	r, rec := newTest(t, Options{})
	pending := r.Mint(binding("c1"))
	granted := r.Mint(binding("c1"))
	mustResolve(t, r, granted.LeaseID, grant(60000))
	held := r.Mint(binding("c1"))
	mustResolve(t, r, held.LeaseID, hold(""))
	claimed := r.Mint(binding("c1"))
	mustResolve(t, r, claimed.LeaseID, grant(60000))
	mustClaim(t, r, claimed)
	denied := r.Mint(binding("c1"))
	mustResolve(t, r, denied.LeaseID, deny(""))
	other := r.Mint(binding("c2"))
	mustResolve(t, r, other.LeaseID, grant(60000))

	r.ConnectionClosed("c1")

	want := map[protocol.LeaseID]protocol.LeaseState{
		pending.LeaseID: protocol.LeaseStateABANDONED,
		granted.LeaseID: protocol.LeaseStateEXPIRED,
		held.LeaseID:    protocol.LeaseStateEXPIRED,
		claimed.LeaseID: protocol.LeaseStateCLAIMED,
		denied.LeaseID:  protocol.LeaseStateDENIED,
		other.LeaseID:   protocol.LeaseStateGRANTED,
	}
	for id, st := range want {
		wantState(t, r, id, st)
	}
	barrier(t, r, rec)
	for id := range want {
		n := len(rec.of("expired", id))
		if wantN := map[bool]int{true: 1}[id == granted.LeaseID || id == held.LeaseID]; n != wantN {
			t.Fatalf("lease %s (%s): %d Expired, want %d", id, want[id], n, wantN)
		}
	}
	if got := r.ActiveForConn("c1"); got != 1 { // the CLAIMED lease
		t.Fatalf("ActiveForConn(c1) = %d, want 1", got)
	}
	r.ConnectionClosed("c1") // idempotent
	wantState(t, r, claimed.LeaseID, protocol.LeaseStateCLAIMED)
}

func TestModeratorConnectionClosedLeavesLeasesAlone(t *testing.T) {
	r, rec := newTest(t, Options{})
	pending := r.Mint(binding("c1"))
	granted := r.Mint(binding("c1"))
	mustResolve(t, r, granted.LeaseID, grant(60000))
	r.ConnectionClosed("mod-conn")
	wantState(t, r, pending.LeaseID, protocol.LeaseStatePENDING)
	wantState(t, r, granted.LeaseID, protocol.LeaseStateGRANTED)
	// The server's fail-closed path resolves the pending lease.
	mustResolve(t, r, pending.LeaseID, deny("dispatch/authorize error"))
	waitFor(t, "release", func() bool { return len(rec.of("released", pending.LeaseID)) == 1 })
}
