package channel

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func release(lease string) protocol.DispatchReleaseNotification {
	return protocol.DispatchReleaseNotification{DispatchID: protocol.DispatchID("d-" + lease), LeaseID: protocol.LeaseID(lease), Verdict: protocol.DispatchGrant{}}
}

func testRing(size int, ttl time.Duration) (*releaseRing, *time.Time) {
	now := time.Unix(1_000_000, 0)
	return newReleaseRing(size, ttl, func() time.Time { return now }, slog.New(slog.DiscardHandler)), &now
}

func TestRingEvictsOldestAtCapacity(t *testing.T) {
	r, _ := testRing(DefaultReleaseRingSize, DefaultReleaseRingTTL)
	for i := range DefaultReleaseRingSize + 1 {
		r.put(release(fmt.Sprint(i)))
	}
	if r.len() != DefaultReleaseRingSize {
		t.Fatalf("len %d, want %d", r.len(), DefaultReleaseRingSize)
	}
	if _, ok := r.take("0"); ok {
		t.Fatal("the oldest release survived the overflow")
	}
	for _, id := range []string{"1", fmt.Sprint(DefaultReleaseRingSize)} {
		if rel, ok := r.take(id); !ok || string(rel.LeaseID) != id {
			t.Fatalf("release %s missing", id)
		}
	}
	if _, ok := r.take("1"); ok {
		t.Fatal("take did not remove the release")
	}
}

func TestRingExpiresEntriesAfterTTL(t *testing.T) {
	r, now := testRing(8, 30*time.Second)
	r.put(release("old"))
	*now = now.Add(20 * time.Second)
	r.put(release("young"))
	*now = now.Add(11 * time.Second) // old is 31 s, young 11 s
	if _, ok := r.take("old"); ok {
		t.Fatal("expired release was returned")
	}
	if _, ok := r.take("young"); !ok {
		t.Fatal("live release was evicted")
	}
	r.put(release("a"))
	*now = now.Add(30 * time.Second)
	r.put(release("b")) // expires a lazily
	if r.len() != 1 {
		t.Fatalf("len %d after lazy expiry, want 1", r.len())
	}
}

func TestRingReplacesADuplicateLease(t *testing.T) {
	r, _ := testRing(2, time.Minute)
	r.put(release("a"))
	hold := release("a")
	hold.Verdict = protocol.DispatchHold{}
	r.put(hold)
	r.put(release("b"))
	if r.len() != 2 {
		t.Fatalf("len %d", r.len())
	}
	if rel, ok := r.take("a"); !ok {
		t.Fatal("a evicted")
	} else if _, isHold := rel.Verdict.(protocol.DispatchHold); !isHold {
		t.Fatalf("kept %T, want the newer release", rel.Verdict)
	}
}
