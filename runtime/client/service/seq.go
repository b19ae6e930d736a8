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

// observeSeq raises the highest seq seen and, unless frozen, the catch-up cursor.
func (cs *convState) observeSeq(seq protocol.Seq) {
	v, ok := parseSeq(seq)
	if !ok {
		return
	}
	if !cs.hasSeq || v > cs.seq {
		cs.seq, cs.hasSeq = v, true
	}
	if !cs.frozen {
		cs.cursor, cs.hasCursor = cs.seq, true
	}
}

// thaw releases the cursor to the highest seq seen.
func (cs *convState) thaw() {
	cs.frozen = false
	if cs.hasSeq {
		cs.cursor, cs.hasCursor = cs.seq, true
	}
}
