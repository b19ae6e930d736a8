package ratelimit

import (
	"testing"
	"time"
)

func TestUsageIsTrackedOnlyWhenAsked(t *testing.T) {
	clk := newFakeClock()
	l := New(60, 10, clk.Now)
	l.Allow("a")
	if u := l.TakeUsage(); u != nil {
		t.Fatalf("usage without tracking: %v", u)
	}
	l.Track(true)
	l.Allow("a")
	l.Allow("a")
	l.Allow("b")
	if u := l.TakeUsage(); u["a"] != 2 || u["b"] != 1 || len(u) != 2 {
		t.Fatalf("usage = %v, want a:2 b:1", u)
	}
	if u := l.TakeUsage(); u != nil {
		t.Fatalf("usage after take = %v, want none", u)
	}
	l.Track(false)
	l.Allow("a")
	if u := l.TakeUsage(); u != nil {
		t.Fatalf("usage after tracking off: %v", u)
	}
}

func TestChargeCountsEventsAdmittedElsewhere(t *testing.T) {
	clk := newFakeClock()
	l := New(60, 10, clk.Now) // one token a second, bursts of 10
	l.Charge("a", 7)          // another node admitted 7
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("allow %d of the 3 left refused", i)
		}
	}
	if ok, retry := l.Allow("a"); ok || retry != time.Second {
		t.Fatalf("11th event: ok=%v retry=%s, want refused for 1s", ok, retry)
	}
	l.Charge("a", 1000) // a huge remote burst: debt capped at one more burst
	clk.Advance(10 * time.Second)
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("admitted while in debt")
	}
	clk.Advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after the capped debt refilled")
	}
	New(0, 0, nil).Charge("a", 5) // disabled: a no-op
}
