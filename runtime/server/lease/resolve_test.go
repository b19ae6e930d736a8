package lease

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestResolveFirstWriterWinsUnderConcurrency(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	verdicts := []protocol.DispatchAdmissionDecision{grant(60000), deny("x"), hold("y")}

	const writers = 50
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		winners []Resolution
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := r.Resolve(l.LeaseID, verdicts[i%len(verdicts)])
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, res)
				mu.Unlock()
			case !errors.Is(err, ErrNotPending):
				t.Errorf("Resolve err = %v, want nil or ErrNotPending", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d resolves succeeded, want exactly 1", len(winners))
	}
	barrier(t, r, rec)
	evs := rec.of("released", l.LeaseID)
	if len(evs) != 1 {
		t.Fatalf("%d Released events, want 1", len(evs))
	}
	got, _ := r.GetLease(l.LeaseID)
	if got.State != winners[0].Lease.State || evs[0].lease.State != got.State {
		t.Fatalf("state %s, winner %s, event %s", got.State, winners[0].Lease.State, evs[0].lease.State)
	}
}

func TestExactlyOneReleasePerResolvedLease(t *testing.T) {
	r, rec := newTest(t, Options{})
	const n = 100
	var leases []Lease
	for i := range n {
		conn := "keep"
		if i%2 == 1 {
			conn = "gone"
		}
		leases = append(leases, r.Mint(binding(conn)))
	}
	r.ConnectionClosed("gone")
	var wg sync.WaitGroup
	for _, l := range leases {
		for range 3 { // duplicated verdicts race each other
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = r.Resolve(l.LeaseID, grant(60000))
			}()
		}
	}
	wg.Wait()
	barrier(t, r, rec)
	for _, l := range leases {
		want := 1
		if l.RecipientConnID == "gone" {
			want = 0
			wantState(t, r, l.LeaseID, protocol.LeaseStateABANDONED)
		}
		if got := len(rec.of("released", l.LeaseID)); got != want {
			t.Fatalf("lease on %s: %d Released, want %d", l.RecipientConnID, got, want)
		}
	}
}

func TestGrantWithoutTimeoutGetsDefaultTTL(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want int64
	}{
		{"protocol default", 0, 90000},
		{"configured", 2500 * time.Millisecond, 2500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			r := New(Options{DefaultTTL: tc.ttl, Events: rec})
			defer r.Close()
			l := r.Mint(binding("c1"))
			in := protocol.DispatchGrant{}
			res := mustResolve(t, r, l.LeaseID, in)
			if in.LeaseTimeoutMs != nil {
				t.Fatal("Resolve modified the caller's verdict")
			}
			g, ok := res.Verdict.(protocol.DispatchGrant)
			if !ok || g.LeaseTimeoutMs == nil || *g.LeaseTimeoutMs != tc.want {
				t.Fatalf("reported verdict = %#v", res.Verdict)
			}
			if res.LeaseTimeoutMs == nil || *res.LeaseTimeoutMs != tc.want || res.Lease.LeaseTimeoutMs != tc.want {
				t.Fatalf("resolution = %+v", res)
			}
			waitFor(t, "release", func() bool { return len(rec.of("released", l.LeaseID)) == 1 })
			ev := rec.of("released", l.LeaseID)[0]
			if ev.timeoutMs == nil || *ev.timeoutMs != tc.want {
				t.Fatalf("Released leaseTimeoutMs = %v", ev.timeoutMs)
			}
			if g, ok := ev.verdict.(protocol.DispatchGrant); !ok || *g.LeaseTimeoutMs != tc.want {
				t.Fatalf("Released verdict = %#v", ev.verdict)
			}
			if rec := res.Lease.Record(); rec.LeaseTimeoutMs == nil || *rec.LeaseTimeoutMs != tc.want {
				t.Fatalf("record leaseTimeoutMs = %v", rec.LeaseTimeoutMs)
			}
			n := res.ReleaseNotification()
			if n.LeaseTimeoutMs == nil || *n.LeaseTimeoutMs != tc.want || n.LeaseID != l.LeaseID {
				t.Fatalf("release notification = %+v", n)
			}
		})
	}
}

func TestGrantWithoutTimeoutExpiresAfterDefaultTTL(t *testing.T) {
	r, rec := newTest(t, Options{DefaultTTL: 30 * time.Millisecond})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, protocol.DispatchGrant{})
	waitFor(t, "expired", func() bool { return len(rec.of("expired", l.LeaseID)) == 1 })
}

func TestResolveVerdictForms(t *testing.T) {
	r, _ := newTest(t, Options{})
	ms := int64(1234)
	reason := "r"
	cases := []struct {
		verdict protocol.DispatchAdmissionDecision
		want    protocol.LeaseState
	}{
		{&protocol.DispatchGrant{LeaseTimeoutMs: &ms}, protocol.LeaseStateGRANTED},
		{&protocol.DispatchDeny{Reason: &reason}, protocol.LeaseStateDENIED},
		{&protocol.DispatchHold{}, protocol.LeaseStateHOLD},
	}
	var denied protocol.LeaseID
	for _, c := range cases {
		l := r.Mint(binding("c1"))
		res := mustResolve(t, r, l.LeaseID, c.verdict)
		if res.Lease.State != c.want {
			t.Fatalf("%T -> %s, want %s", c.verdict, res.Lease.State, c.want)
		}
		switch res.Verdict.(type) {
		case protocol.DispatchGrant, protocol.DispatchDeny, protocol.DispatchHold:
		default:
			t.Fatalf("reported verdict %T is not a value type", res.Verdict)
		}
		if c.want == protocol.LeaseStateDENIED {
			denied = l.LeaseID
		}
	}
	reason = "changed by the caller"
	l, _ := r.GetLease(denied)
	if d, ok := l.Verdict.(protocol.DispatchDeny); !ok || *d.Reason != "r" {
		t.Fatalf("stored verdict aliases the caller's: %#v", l.Verdict)
	}
}

func TestResolveRejectsInvalidVerdicts(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	var nilGrant *protocol.DispatchGrant
	for _, v := range []protocol.DispatchAdmissionDecision{nil, nilGrant, grant(0), grant(-5)} {
		if _, err := r.Resolve(l.LeaseID, v); !errors.Is(err, ErrInvalidVerdict) {
			t.Fatalf("Resolve(%#v) err = %v, want ErrInvalidVerdict", v, err)
		}
	}
	wantState(t, r, l.LeaseID, protocol.LeaseStatePENDING)
	mustResolve(t, r, l.LeaseID, deny("fail-closed"))
	barrier(t, r, rec)
	if n := len(rec.of("released", l.LeaseID)); n != 1 {
		t.Fatalf("%d Released, want 1", n)
	}
}

func TestResolveUnknownLease(t *testing.T) {
	r, _ := newTest(t, Options{})
	_, err := r.Resolve("0197a000-0000-7000-8000-000000000000", grant(1))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestHugeLeaseTimeoutDoesNotOverflow(t *testing.T) {
	r, rec := newTest(t, Options{})
	l := r.Mint(binding("c1"))
	mustResolve(t, r, l.LeaseID, grant(1<<62))
	barrier(t, r, rec)
	wantState(t, r, l.LeaseID, protocol.LeaseStateGRANTED)
}
