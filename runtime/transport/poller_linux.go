//go:build linux

package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epoller is the Linux poller: an epoll instance with edge-triggered read
// interest per connection.
//
// Nobody blocks in epoll_wait: the epoll descriptor is itself pollable
// (readable while any registered socket is ready), so it is handed to the
// Go runtime's network poller through an os.File, and wait parks like any
// network read, holding neither a thread nor a P, then harvests the ready
// events with a non-blocking epoll_wait.
type epoller struct {
	closed atomic.Bool
	epfd   int             // the epoll descriptor, owned by file
	file   *os.File        // epfd, registered with the runtime poller
	rc     syscall.RawConn // file's descriptor

	// State of wait (the poll loop only); harvest is bound once, so that a
	// wait allocates nothing.
	events  []unix.EpollEvent
	n       int
	err     error
	harvest func(epfd uintptr) bool
}

// newPoller returns the epoll poller.
func newPoller() (poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("transport: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("transport: epoll set non-blocking: %w", err)
	}
	// A non-blocking descriptor makes os.NewFile register it with the
	// runtime poller.
	file := os.NewFile(uintptr(epfd), "transport-epoll")
	rc, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("transport: epoll descriptor: %w", err)
	}
	p := &epoller{epfd: epfd, file: file, rc: rc, events: make([]unix.EpollEvent, 256)}
	p.harvest = p.harvestReady
	return p, nil
}

// harvestReady takes the ready events without blocking; false (nothing
// ready) makes the caller park until the epoll descriptor is readable.
func (p *epoller) harvestReady(epfd uintptr) bool {
	p.n, p.err = unix.EpollWait(int(epfd), p.events, 0)
	if errors.Is(p.err, unix.EINTR) {
		p.n, p.err = 0, nil
	}
	return p.n > 0 || p.err != nil
}

// readEvents is the interest of a connection: data arrived or hung up,
// edge-triggered (no epoll_ctl per read to re-arm it).
const readEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET

// setEventID stores id in the 64-bit user data of ev.
func setEventID(ev *unix.EpollEvent, id uint64) {
	ev.Fd = int32(uint32(id))
	ev.Pad = int32(uint32(id >> 32))
}

// eventID reads the id stored by setEventID.
func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// add registers fd with edge-triggered read interest.
func (p *epoller) add(fd int, id uint64) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, id)
}

// ctl runs one epoll_ctl with the read interest. epfd is used directly:
// it is closed only by close, after every connection (tests only).
func (p *epoller) ctl(op, fd int, id uint64) error {
	ev := unix.EpollEvent{Events: readEvents}
	setEventID(&ev, id)
	if err := unix.EpollCtl(p.epfd, op, fd, &ev); err != nil {
		return fmt.Errorf("transport: epoll_ctl %d fd %d: %w", op, fd, err)
	}
	return nil
}

// del removes fd; a descriptor that is not registered is not an error.
func (p *epoller) del(fd int) error {
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("transport: epoll_ctl del fd %d: %w", fd, err)
	}
	return nil
}

// wait parks in the runtime poller until the epoll descriptor is readable,
// then takes the ready events without blocking. Only the engine's poll
// goroutine calls it.
func (p *epoller) wait(ids []uint64) (int, error) {
	if len(p.events) != len(ids) {
		p.events = make([]unix.EpollEvent, len(ids))
	}
	err := p.rc.Read(p.harvest)
	n, werr := p.n, p.err
	if err != nil {
		if p.closed.Load() {
			return 0, errPollerClosed
		}
		return 0, fmt.Errorf("transport: wait for epoll: %w", err)
	}
	if werr != nil {
		return 0, fmt.Errorf("transport: epoll_wait: %w", werr)
	}
	for i := range n {
		ids[i] = eventID(&p.events[i])
	}
	return n, nil
}

// close makes wait return errPollerClosed and closes the descriptor once
// nothing uses it.
func (p *epoller) close() error {
	p.closed.Store(true)
	if err := p.file.Close(); err != nil {
		return fmt.Errorf("transport: close epoll: %w", err)
	}
	return nil
}

// readOp is the state of readNonblock's callback, kept in the read scratch.
type readOp struct {
	n   int
	err error
	fn  func(fd uintptr) bool
}

// readNonblock reads into rs.buf what the socket of rc holds without
// waiting: it returns errWouldBlock when nothing is there, (0, nil) at end
// of stream. The callback lives in rs, so a read allocates nothing.
func readNonblock(rc syscall.RawConn, rs *readScratch) (int, error) {
	op := &rs.op
	if op.fn == nil {
		op.fn = func(fd uintptr) bool {
			for {
				op.n, op.err = unix.Read(int(fd), rs.buf)
				if !errors.Is(op.err, unix.EINTR) {
					return true // never wait in the runtime poller
				}
			}
		}
	}
	if err := rc.Read(op.fn); err != nil {
		return 0, err // the descriptor is closed
	}
	n, rerr := op.n, op.err
	op.err = nil
	switch {
	case errors.Is(rerr, unix.EAGAIN):
		return 0, errWouldBlock
	case rerr != nil:
		return 0, rerr
	case n < 0:
		return 0, nil
	}
	return n, nil
}

// maxIovecs is the most buffers one writev takes (IOV_MAX on Linux).
const maxIovecs = 1024

// writeOp is the state of writeNonblock's callback, kept in the write
// batch.
type writeOp struct {
	iov []unix.Iovec
	fn  func(fd uintptr) bool
	err error
}

// writeNonblock writes what the socket of rc takes now of wb.out, with
// writev, and drops what it wrote from wb.out. It returns errWouldBlock,
// with the rest left in wb.out, when the socket is full. The callback lives
// in wb, so a write allocates nothing.
func writeNonblock(rc syscall.RawConn, wb *writeBatch) error {
	op := &wb.op
	if op.fn == nil {
		op.fn = func(fd uintptr) bool {
			for len(wb.out) > 0 && op.err == nil {
				op.err = writevOnce(fd, &wb.out, &op.iov)
			}
			return true // never wait in the runtime poller
		}
	}
	err := rc.Write(op.fn)
	clear(op.iov)
	werr := op.err
	op.err = nil
	if err != nil {
		return err // the descriptor is closed
	}
	return werr
}

// writevOnce makes one writev of up to maxIovecs buffers of *bufs.
func writevOnce(fd uintptr, bufs *net.Buffers, iov *[]unix.Iovec) error {
	v, total := (*iov)[:0], 0
	for _, b := range *bufs {
		if len(v) == maxIovecs {
			break
		}
		if len(b) == 0 {
			continue
		}
		e := unix.Iovec{Base: &b[0]}
		e.SetLen(len(b))
		v = append(v, e)
		total += len(b)
	}
	*iov = v
	if len(v) == 0 {
		*bufs = (*bufs)[:0] // only empty buffers were left
		return nil
	}
	for {
		n, _, errno := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
		switch errno {
		case 0:
			consumeBuffers(bufs, int(n))
			if int(n) < total {
				return errWouldBlock // the socket took part of it: it is full
			}
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return errWouldBlock
		default:
			return errno
		}
	}
}

// consumeBuffers drops the first n bytes of *v, as writev wrote them.
func consumeBuffers(v *net.Buffers, n int) {
	for len(*v) > 0 {
		if n < len((*v)[0]) {
			(*v)[0] = (*v)[0][n:]
			return
		}
		n -= len((*v)[0])
		(*v)[0] = nil
		*v = (*v)[1:]
	}
}
