package service

import (
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

func TestSettledSeqWaitsForOutOfOrderSeqs(t *testing.T) {
	var cs convState
	for _, s := range []protocol.Seq{"4", "5", "7", "8"} { // 6 is still in flight between nodes
		cs.observeSeq(s)
	}
	if cs.seq != 8 || cs.settled != 5 || cs.cursor != 5 {
		t.Fatalf("after 4 5 7 8: highest %d, settled %d, cursor %d; want 8, 5, 5", cs.seq, cs.settled, cs.cursor)
	}
	cs.frozen = true // the connection drops: the catch-up will start after 5 and so list 6
	cs.observeSeq("6")
	if cs.settled != 8 || cs.cursor != 5 {
		t.Fatalf("6 arrived while frozen: settled %d (want 8), cursor %d (want the frozen 5)", cs.settled, cs.cursor)
	}
	cs.thaw()
	if cs.cursor != 8 || len(cs.above) != 0 {
		t.Fatalf("thawed: cursor %d, above %v; want 8 and nothing left above", cs.cursor, cs.above)
	}
}

func TestSettledSeqJumpsToWhatAListingReached(t *testing.T) {
	var cs convState
	cs.observeSeq("10")
	cs.observeSeq("13") // 11 and 12 were not for this agent
	cs.settleTo(12)     // a catch-up listed up to 12: 11 and 12 are settled
	if cs.settled != 13 {
		t.Fatalf("settled %d after a listing reached 12 with 13 seen, want 13", cs.settled)
	}
}

func TestSettledSeqTrailsTheHighestByAtMostTheLag(t *testing.T) {
	var cs convState
	cs.observeSeq("1")
	cs.observeSeq(protocol.Seq(formatSeq(2 + 2*maxSettleLag))) // seq 2 never came: not for us
	if want := int64(2+2*maxSettleLag) - maxSettleLag; cs.settled != want {
		t.Fatalf("settled %d, want %d (the highest minus maxSettleLag)", cs.settled, want)
	}
}
