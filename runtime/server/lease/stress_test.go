package lease

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// TestConcurrentInvariants drives random operations (with TTLs firing) from
// many goroutines and then checks the bookkeeping: activity counts match the
// lease states and every resolved lease was released exactly once.
func TestConcurrentInvariants(t *testing.T) {
	r, rec := newTest(t, Options{DefaultTTL: 20 * time.Millisecond, HoldTTL: 20 * time.Millisecond})
	const workers, perWorker = 8, 200
	conns := []string{"c0", "c1", "c2", "c3"}
	var (
		mu  sync.Mutex
		all []Lease
		wg  sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWorker {
				l := r.Mint(binding(conns[rng.IntN(len(conns))]))
				mu.Lock()
				all = append(all, l)
				mu.Unlock()
				switch rng.IntN(4) {
				case 0:
					_, _ = r.Resolve(l.LeaseID, protocol.DispatchGrant{})
				case 1:
					_, _ = r.Resolve(l.LeaseID, hold(""))
				case 2:
					_, _ = r.Resolve(l.LeaseID, deny(""))
				}
				if _, err := r.Claim(l.LeaseID, l.RecipientAgentID, l.ConversationID); err == nil {
					if rng.IntN(2) == 0 {
						_, _ = r.Consume(l.LeaseID, protocol.MessageID(fmt.Sprint(i)))
					} else {
						_, _ = r.Unclaim(l.LeaseID)
					}
				}
				if rng.IntN(50) == 0 {
					r.ConnectionClosed(conns[rng.IntN(len(conns))])
				}
			}
		}()
	}
	wg.Wait()
	// Every claim was followed by Consume or Unclaim, so once the TTLs have
	// run out each lease is PENDING or terminal.
	waitFor(t, "TTLs to run out", func() bool {
		for _, l := range all {
			if got, _ := r.GetLease(l.LeaseID); got.State == protocol.LeaseStateGRANTED || got.State == protocol.LeaseStateHOLD {
				return false
			}
		}
		return true
	})
	barrier(t, r, rec)

	released, changes := map[protocol.LeaseID]int{}, map[string]int{}
	for _, ev := range rec.all() {
		switch ev.kind {
		case "released":
			released[ev.lease.LeaseID]++
		case "activity":
			changes[ev.connID]++
		}
	}
	active := map[string]int{}
	for _, l := range all {
		got, ok := r.GetLease(l.LeaseID)
		if !ok {
			t.Fatalf("lease %s vanished", l.LeaseID)
		}
		if got.Active() {
			active[got.RecipientConnID]++
		}
		want := 0
		if got.Verdict != nil {
			want = 1
		}
		if n := released[l.LeaseID]; n != want {
			t.Fatalf("lease %s (%s): %d Released, want %d", l.LeaseID, got.State, n, want)
		}
	}
	for _, c := range conns {
		if got := r.ActiveForConn(c); got != active[c] {
			t.Fatalf("ActiveForConn(%s) = %d, states say %d", c, got, active[c])
		}
		if changes[c]%2 != 0 { // every rise to active has its matching fall
			t.Fatalf("ActivityChanged(%s) called %d times, want an even count", c, changes[c])
		}
	}
}
