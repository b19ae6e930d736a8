package service

import (
	"strconv"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// parseSeq parses a decimal seq.
func parseSeq(s protocol.Seq) (int64, bool) {
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}

// formatSeq renders v as a decimal seq.
func formatSeq(v int64) protocol.Seq {
	return protocol.Seq(strconv.FormatInt(v, 10))
}

// maxSettleLag bounds how far the settled seq may trail the highest seq seen: gaps left by
// messages this agent is not shown (a TaskMaster forwarded them to others) would otherwise
// hold it back for good. A catch-up from settled lists what lies above it again; those
// messages are within the de-duplication window, so none is delivered twice.
const maxSettleLag = 256

// observeSeq raises the highest seq seen and the settled seq and, unless frozen, the
// catch-up cursor.
func (cs *convState) observeSeq(seq protocol.Seq) {
	v, ok := parseSeq(seq)
	if !ok {
		return
	}
	if !cs.hasSeq || v > cs.seq {
		cs.seq, cs.hasSeq = v, true
	}
	cs.settle(v)
	if !cs.frozen {
		cs.cursor, cs.hasCursor = cs.settled, true
	}
}

// settle records seq v as seen and advances the settled seq: the highest seq at or below
// which every seq was seen or listed. Across server nodes messages arrive out of seq order,
// so a catch-up must start there, not after the highest seq seen, or a message still in
// flight when the connection dropped would be skipped.
func (cs *convState) settle(v int64) {
	switch {
	case !cs.hasSettled:
		cs.settled, cs.hasSettled = v, true // nothing is known below the first seq seen
	case v <= cs.settled:
		return
	case v == cs.settled+1:
		cs.settled = v
	default:
		if cs.above == nil {
			cs.above = map[int64]struct{}{}
		}
		cs.above[v] = struct{}{}
	}
	if cs.seq-cs.settled > maxSettleLag {
		cs.settled = cs.seq - maxSettleLag
	}
	cs.advanceSettled()
}

// settleTo marks every seq up to f as settled (a catch-up listing reached f: messages/list
// returns every message visible to this agent, so what it did not return is not for it).
func (cs *convState) settleTo(f int64) {
	if !cs.hasSettled || f > cs.settled {
		cs.settled, cs.hasSettled = f, true
	}
	cs.advanceSettled()
}

// advanceSettled moves the settled seq over the seqs seen right above it and forgets the
// ones at or below it.
func (cs *convState) advanceSettled() {
	for len(cs.above) > 0 {
		if _, ok := cs.above[cs.settled+1]; !ok {
			break
		}
		delete(cs.above, cs.settled+1)
		cs.settled++
	}
	for v := range cs.above {
		if v <= cs.settled {
			delete(cs.above, v)
		}
	}
}

// thaw releases the cursor to the settled seq.
func (cs *convState) thaw() {
	cs.frozen = false
	if cs.hasSettled {
		cs.cursor, cs.hasCursor = cs.settled, true
	}
}
