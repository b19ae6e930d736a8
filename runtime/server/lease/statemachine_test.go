package lease

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
)

// TestStateMachine covers every row of the REFERENCE 12.4 table.
func TestStateMachine(t *testing.T) {
	rows := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"dispatch/request mints PENDING", rowMint},
		{"PENDING grant -> GRANTED", rowGrant},
		{"PENDING deny -> DENIED", rowDeny},
		{"PENDING hold -> HOLD", rowHold},
		{"PENDING recipient closed -> ABANDONED", rowAbandon},
		{"GRANTED send -> CLAIMED", rowClaim},
		{"GRANTED TTL -> EXPIRED", rowGrantedTTL},
		{"GRANTED recipient closed -> EXPIRED", rowGrantedClosed},
		{"HOLD TTL -> EXPIRED", rowHoldTTL},
		{"CLAIMED commit -> CONSUMED", rowConsume},
		{"CLAIMED insert failed -> GRANTED with TTL restarted", rowUnclaim},
		{"CLAIMED recipient closed -> unchanged", rowClaimedClosed},
		{"CLAIMED TTL -> unchanged", rowClaimedTTL},
		{"second resolve rejected", rowSecondResolve},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			row.run(t)
		})
	}
}

func rowMint(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	if l.State != protocol.LeaseStatePENDING || l.Verdict != nil || l.MintedAt.IsZero() {
		t.Fatalf("minted lease = %+v", l)
	}
	for _, id := range []string{string(l.LeaseID), string(l.DispatchID)} {
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || id != strings.ToLower(id) {
			t.Fatalf("id %q: version %v err %v, want lowercase UUIDv7", id, u.Version(), err)
		}
	}
	if string(l.LeaseID) == string(l.DispatchID) {
		t.Fatal("lease and dispatch ids are equal")
	}
	if got, ok := r.Get(upper(l.DispatchID)); !ok || got.LeaseID != l.LeaseID {
		t.Fatalf("Get(dispatch id, upper case) = %+v, %v", got, ok)
	}
	if got, ok := r.GetLease(l.LeaseID); !ok || got.Binding != binding("c1") {
		t.Fatalf("GetLease = %+v, %v", got, ok)
	}
	if _, ok := r.Get(protocol.DispatchID(l.LeaseID)); ok {
		t.Fatal("Get found a dispatch by lease id")
	}
	barrier(t, r, rec)
	if n := len(rec.all()); n != 1 { // the barrier's own release
		t.Fatalf("mint emitted events: %+v", rec.all())
	}
}

func rowGrant(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	res := mustResolve(t, r, l.LeaseID, grant(60000))
	if res.Lease.State != protocol.LeaseStateGRANTED || res.Lease.ResolvedAt.IsZero() || res.Lease.LeaseTimeoutMs != 60000 {
		t.Fatalf("resolution lease = %+v", res.Lease)
	}
	if res.LeaseTimeoutMs == nil || *res.LeaseTimeoutMs != 60000 {
		t.Fatalf("resolution leaseTimeoutMs = %v", res.LeaseTimeoutMs)
	}
	waitFor(t, "release", func() bool { return len(rec.of("released", l.LeaseID)) == 1 })
	ev := rec.of("released", l.LeaseID)[0]
	g, ok := ev.verdict.(protocol.DispatchGrant)
	if !ok || g.LeaseTimeoutMs == nil || *g.LeaseTimeoutMs != 60000 || ev.timeoutMs == nil || *ev.timeoutMs != 60000 {
		t.Fatalf("released event = %+v", ev)
	}
	if ev.lease.State != protocol.LeaseStateGRANTED {
		t.Fatalf("released lease state = %s", ev.lease.State)
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateGRANTED)
}

func rowDeny(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	res := mustResolve(t, r, l.LeaseID, deny("timeout"))
	if res.LeaseTimeoutMs != nil || !res.Lease.Terminal() {
		t.Fatalf("deny resolution = %+v", res)
	}
	waitFor(t, "release", func() bool { return len(rec.of("released", l.LeaseID)) == 1 })
	ev := rec.of("released", l.LeaseID)[0]
	d, ok := ev.verdict.(protocol.DispatchDeny)
	if !ok || d.Reason == nil || *d.Reason != "timeout" || ev.timeoutMs != nil {
		t.Fatalf("released event = %+v", ev)
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateDENIED)
	_, err := r.Claim(l.LeaseID, l.RecipientAgentID, l.ConversationID)
	wantInvalidState(t, err, protocol.LeaseStateDENIED, protocol.LeaseStateGRANTED)
}

func rowHold(t *testing.T) {
	r, rec := newTest(t, Options{HoldTTL: time.Minute})
	l := r.Mint(binding("c1"))
	res := mustResolve(t, r, l.LeaseID, hold("moderator_unavailable"))
	if res.LeaseTimeoutMs != nil || res.Lease.LeaseTimeoutMs != 60000 {
		t.Fatalf("hold resolution = %+v", res)
	}
	waitFor(t, "release", func() bool { return len(rec.of("released", l.LeaseID)) == 1 })
	ev := rec.of("released", l.LeaseID)[0]
	if _, ok := ev.verdict.(protocol.DispatchHold); !ok || ev.timeoutMs != nil {
		t.Fatalf("released event = %+v", ev)
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateHOLD)
}

func rowAbandon(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	r.ConnectionClosed("c1")
	wantState(t, r, l.LeaseID, protocol.LeaseStateABANDONED)
	if _, err := r.Resolve(l.LeaseID, grant(1000)); !errors.Is(err, ErrNotPending) {
		t.Fatalf("late Resolve err = %v, want ErrNotPending", err)
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateABANDONED)
	barrier(t, r, rec)
	for _, ev := range rec.all() {
		if ev.lease.LeaseID == l.LeaseID || ev.connID == "c1" {
			t.Fatalf("abandoned lease emitted %+v", ev)
		}
	}
}

func rowClaim(t *testing.T) {
	r, _ := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	got := mustClaim(t, r, l)
	if got.State != protocol.LeaseStateCLAIMED {
		t.Fatalf("Claim state = %s", got.State)
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateCLAIMED)
}

func rowGrantedTTL(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(30))
	waitFor(t, "expired", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
	ev := rec.of("expired", l.LeaseID)[0]
	if ev.lease.State != protocol.LeaseStateEXPIRED || ev.lease.ExpiredAt.IsZero() {
		t.Fatalf("expired event lease = %+v", ev.lease)
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateEXPIRED)
}

func rowGrantedClosed(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	r.ConnectionClosed("c1")
	wantState(t, r, l.LeaseID, protocol.LeaseStateEXPIRED)
	waitFor(t, "expired", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
}

func rowHoldTTL(t *testing.T) {
	r, rec := newTest(t, Options{HoldTTL: 30 * time.Millisecond})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, hold(""))
	waitFor(t, "expired", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
	wantState(t, r, l.LeaseID, protocol.LeaseStateEXPIRED)
}

func rowConsume(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	mustClaim(t, r, l)
	got, err := r.Consume(l.LeaseID, "msg-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != protocol.LeaseStateCONSUMED || got.ConsumedMessageID != "msg-1" || got.ConsumedAt.IsZero() {
		t.Fatalf("consumed lease = %+v", got)
	}
	waitFor(t, "consumed", func() bool { return len(rec.of("consumed", l.LeaseID)) == 1 })
	if ev := rec.of("consumed", l.LeaseID)[0]; ev.lease.ModeratorConnID != "mod-conn" || ev.lease.ConsumedMessageID != "msg-1" {
		t.Fatalf("consumed event = %+v", ev)
	}
}

func rowUnclaim(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(40))
	mustClaim(t, r, l)
	time.Sleep(80 * time.Millisecond) // past the original deadline: CLAIMED ignores it
	got, err := r.Unclaim(l.LeaseID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != protocol.LeaseStateGRANTED || got.LeaseTimeoutMs != 40 {
		t.Fatalf("unclaimed lease = %+v", got)
	}
	waitFor(t, "expired after the restarted TTL", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
	wantState(t, r, l.LeaseID, protocol.LeaseStateEXPIRED)
}

func rowClaimedClosed(t *testing.T) {
	r, rec := newTest(t, Options{})
	a := r.Mint(binding("c1"))
	b := r.Mint(binding("c1"))
	for _, l := range []Lease{a, b} {
		mustResolve(t, r, l.LeaseID, grant(60000))
		mustClaim(t, r, l)
	}
	r.ConnectionClosed("c1")
	wantState(t, r, a.LeaseID, protocol.LeaseStateCLAIMED)
	wantState(t, r, b.LeaseID, protocol.LeaseStateCLAIMED)
	if _, err := r.Consume(a.LeaseID, "m"); err != nil {
		t.Fatalf("Consume after recipient close: %v", err)
	}
	// A failed insert hands the lease back to a recipient that is gone: it
	// expires right away (GRANTED + recipient closed -> EXPIRED).
	got, err := r.Unclaim(b.LeaseID)
	if err != nil || got.State != protocol.LeaseStateEXPIRED {
		t.Fatalf("Unclaim after recipient close = %+v, %v", got, err)
	}
	waitFor(t, "expired", func() bool { return len(rec.of("expired", b.LeaseID)) == 1 })
}

func rowClaimedTTL(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(30))
	mustClaim(t, r, l)
	time.Sleep(100 * time.Millisecond)
	wantState(t, r, l.LeaseID, protocol.LeaseStateCLAIMED)
	barrier(t, r, rec)
	if evs := rec.of("expired", l.LeaseID); len(evs) != 0 {
		t.Fatalf("CLAIMED lease expired: %+v", evs)
	}
}

func rowSecondResolve(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(60000))
	for _, v := range []protocol.DispatchAdmissionDecision{deny("late"), hold("late"), grant(5)} {
		if _, err := r.Resolve(l.LeaseID, v); !errors.Is(err, ErrNotPending) {
			t.Fatalf("second Resolve(%T) err = %v, want ErrNotPending", v, err)
		}
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStateGRANTED)
	barrier(t, r, rec)
	if n := len(rec.of("released", l.LeaseID)); n != 1 {
		t.Fatalf("released %d times, want 1", n)
	}
}
