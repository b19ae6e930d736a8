package transport

import "errors"

// poller is the readiness notifier of the engine. Interest is
// edge-triggered: a registered descriptor is reported when data arrives (or
// it hangs up), including data already there when it is added, and stays
// registered; a read task that is running when another event comes reads
// again (Conn.readAgain), so one read task at a time serves a connection and
// no event is lost. Events carry the connection's id, never a pointer.
//
// Every call that names a descriptor must run under the descriptor's own
// lock (syscall.RawConn.Control or Read), so that a descriptor number that
// has been closed and reused is never touched.
type poller interface {
	// add registers fd, reported as id.
	add(fd int, id uint64) error
	// del removes fd.
	del(fd int) error
	// wait blocks until at least one registered descriptor is ready, fills
	// ids with their ids and returns how many; errPollerClosed once closed.
	wait(ids []uint64) (int, error)
	// close wakes wait with errPollerClosed and releases the poller.
	close() error
}

// Errors of the poller layer.
var (
	// errPollerClosed is returned by wait after close.
	errPollerClosed = errors.New("transport: poller closed")
	// errWouldBlock is returned by readNonblock when nothing is readable.
	errWouldBlock = errors.New("transport: read would block")
)
