package lease

import (
	"slices"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestChangedReportsEveryState(t *testing.T) {
	r, rec := newTest(t, Options{})
	a := r.Mint(binding("c1"))
	mustResolve(t, r, a.LeaseID, grant(60000))
	mustClaim(t, r, a)
	if _, err := r.Consume(a.LeaseID, "m"); err != nil {
		t.Fatal(err)
	}
	b := r.Mint(binding("c1"))
	mustResolve(t, r, b.LeaseID, deny("no"))
	c := r.Mint(binding("c1"))
	r.ConnectionClosed("c1") // c: PENDING -> ABANDONED
	barrier(t, r, rec)

	for _, tc := range []struct {
		id   protocol.LeaseID
		want []protocol.LeaseState
	}{
		{a.LeaseID, []protocol.LeaseState{protocol.LeaseStatePENDING, protocol.LeaseStateGRANTED, protocol.LeaseStateCLAIMED, protocol.LeaseStateCONSUMED}},
		{b.LeaseID, []protocol.LeaseState{protocol.LeaseStatePENDING, protocol.LeaseStateDENIED}},
		{c.LeaseID, []protocol.LeaseState{protocol.LeaseStatePENDING, protocol.LeaseStateABANDONED}},
	} {
		if got := rec.states(tc.id); !slices.Equal(got, tc.want) {
			t.Errorf("lease %s went through %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestForConversationListsItsLeasesOldestFirst(t *testing.T) {
	r, _ := newTest(t, Options{})
	first := r.Mint(binding("c1"))
	other := binding("c2")
	other.ConversationID = "11111111-1111-7111-8111-111111111111"
	r.Mint(other)
	second := r.Mint(binding("c3"))
	mustResolve(t, r, second.LeaseID, deny("x")) // finished leases are still listed

	got := r.ForConversation(upper(first.ConversationID))
	if len(got) != 2 || got[0].LeaseID != first.LeaseID || got[1].LeaseID != second.LeaseID {
		t.Fatalf("ForConversation = %v, want [%s %s]", got, first.LeaseID, second.LeaseID)
	}
	if got[1].State != protocol.LeaseStateDENIED {
		t.Fatalf("second lease state = %s, want DENIED", got[1].State)
	}
}
