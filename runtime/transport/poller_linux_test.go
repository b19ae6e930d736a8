//go:build linux

package transport

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestEpollOneShot(t *testing.T) {
	p, err := newPoller()
	if err != nil {
		t.Fatalf(
			"newPoller: %v",
			err,
		)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf(
			"socketpair: %v",
			err,
		)
	}
	defer func() {
		_ = unix.Close(fds[0])
		_ = unix.Close(fds[1])
	}()
	got := make(chan uint64, 8)
	waitErr := make(chan error, 1)
	go func() {
		ids := make([]uint64, 8)
		for {
			n, err := p.wait(ids)
			if err != nil {
				waitErr <- err
				return
			}
			for _, id := range ids[:n] {
				got <- id
			}
		}
	}()
	expect := func(want uint64) {
		t.Helper()
		select {
		case id := <-got:
			if id != want {
				t.Fatalf(
					"event for id %d, want %d",
					id, want,
				)
			}
		case <-time.After(waitTimeout):
			t.Fatalf(
				"no event for id %d",
				want,
			)
		}
	}
	quiet := func() {
		t.Helper()
		select {
		case id := <-got:
			t.Fatalf(
				"unexpected event for id %d",
				id,
			)
		case <-time.After(50 * time.Millisecond):
		}
	}

	const id = 1<<40 + 7 // both halves of the event data are used
	if err := p.add(fds[0], id); err != nil {
		t.Fatalf(
			"add: %v",
			err,
		)
	}
	quiet()
	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		t.Fatalf(
			"write: %v",
			err,
		)
	}
	expect(id)
	quiet() // edge-triggered: nothing more while nothing new comes, though unread
	if _, err := unix.Write(fds[1], []byte("y")); err != nil {
		t.Fatalf("write: %v", err)
	}
	expect(id) // new data: a new event
	if err := p.del(fds[0]); err != nil {
		t.Fatalf("del: %v", err)
	}
	if err := p.del(fds[0]); err != nil {
		t.Errorf("del of an unregistered descriptor: %v", err)
	}
	if _, err := unix.Write(fds[1], []byte("z")); err != nil {
		t.Fatalf("write: %v", err)
	}
	quiet() // deleted: no event
	if err := p.close(); err != nil {
		t.Fatalf(
			"close: %v",
			err,
		)
	}
	select {
	case err := <-waitErr:
		if !errors.Is(err, errPollerClosed) {
			t.Errorf(
				"wait after close = %v, want errPollerClosed",
				err,
			)
		}
	case <-time.After(waitTimeout):
		t.Fatalf(
			"wait did not return after close",
		)
	}
}
