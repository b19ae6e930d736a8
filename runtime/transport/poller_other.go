//go:build !linux

package transport

import (
	"errors"
	"syscall"
)

// errNoPoller is returned by newPoller on platforms without one.
var errNoPoller = errors.New("transport: no readiness poller on this platform")

// readOp is the scratch of readNonblock; nothing here.
type readOp struct{}

// writeOp is the scratch of writeNonblock; nothing here.
type writeOp struct{}

// newPoller reports that this platform has no poller: every Conn reads in a
// goroutine of its own (the portable fallback).
func newPoller() (poller, error) {
	return nil, errNoPoller
}

// readNonblock is never called without a poller.
func readNonblock(_ syscall.RawConn, rs *readScratch) (int, error) {
	rs.op = readOp{}
	return 0, errNoPoller
}

// writeNonblock is never called without a poller.
func writeNonblock(_ syscall.RawConn, wb *writeBatch) error {
	wb.op = writeOp{}
	return errNoPoller
}
