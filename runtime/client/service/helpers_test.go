package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client/service"
	"github.com/moltzap/moltzap-go/runtime/client/service/servicetest"
)

const (
	self  = "agent-self"
	alice = "agent-alice"
	bob   = "agent-bob"
	task  = "task-1"
)

// recorder collects delivered messages.
type recorder struct {
	mu   sync.Mutex
	msgs []protocol.Message
	ch   chan struct{}
}

func newRecorder(s *service.Service) *recorder {
	r := &recorder{ch: make(chan struct{}, 1)}
	s.Messages(func(_ string, m protocol.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
	})
	return r
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = string(m.ID)
	}
	return out
}

// waitFor waits until at least n messages were delivered.
func (r *recorder) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if ids := r.ids(); len(ids) >= n {
			return ids
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("delivered %d messages, want %d: %v", len(r.ids()), n, r.ids())
		}
	}
}

func newService(t *testing.T, conn *servicetest.Conn, opts service.Options) *service.Service {
	t.Helper()
	s := service.New(conn, opts)
	t.Cleanup(s.Close)
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return s
}

func ids(ms ...protocol.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.ID)
	}
	return out
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
