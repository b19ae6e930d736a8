package rpc

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// pipe is a goroutine-safe in-memory Sender: frames are copied into a
// buffered channel and a pump goroutine feeds them, in order, to the other
// Peer's HandleFrame.
type pipe struct {
	ch   chan []byte
	stop chan struct{}

	mu   sync.Mutex
	fail error
}

func newPipe() *pipe {
	return &pipe{ch: make(chan []byte, 1<<14), stop: make(chan struct{})}
}

func (p *pipe) Send(b []byte) error {
	p.mu.Lock()
	err := p.fail
	p.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case p.ch <- append([]byte(nil), b...):
		return nil
	default:
		return errors.New("pipe: write queue full")
	}
}

func (p *pipe) setFail(err error) {
	p.mu.Lock()
	p.fail = err
	p.mu.Unlock()
}

// pump delivers frames to dst until stop is closed. The buffer passed to
// HandleFrame is scribbled over afterwards to prove the Peer copies what it
// keeps.
func (p *pipe) pump(dst *Peer, done *sync.WaitGroup) {
	defer done.Done()
	ctx := context.Background()
	for {
		select {
		case b := <-p.ch:
			dst.HandleFrame(ctx, b)
			for i := range b {
				b[i] = 'X'
			}
		case <-p.stop:
			return
		}
	}
}

// pair is two Peers wired back to back: client -> server and server -> client.
type pair struct {
	client, server *Peer
	c2s, s2c       *pipe
}

// newPair builds a client/server pair; roles are forced.
func newPair(t testing.TB, clientOpts, serverOpts Options, clientH, serverH Handler) *pair {
	t.Helper()
	c2s, s2c := newPipe(), newPipe()
	clientOpts.Role, serverOpts.Role = RoleClient, RoleServer
	pr := &pair{
		client: NewPeer(c2s, clientH, clientOpts),
		server: NewPeer(s2c, serverH, serverOpts),
		c2s:    c2s,
		s2c:    s2c,
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go c2s.pump(pr.server, &wg)
	go s2c.pump(pr.client, &wg)
	t.Cleanup(func() {
		pr.client.Close(nil)
		pr.server.Close(nil)
		close(c2s.stop)
		close(s2c.stop)
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := pr.client.Wait(ctx); err != nil {
			t.Errorf("client Wait: %v", err)
		}
		if err := pr.server.Wait(ctx); err != nil {
			t.Errorf("server Wait: %v", err)
		}
	})
	return pr
}

// recorder is a Sender that keeps every frame sent.
type recorder struct {
	mu     sync.Mutex
	frames []string
}

func (r *recorder) Send(b []byte) error {
	r.mu.Lock()
	r.frames = append(r.frames, string(b))
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.frames
	r.frames = nil
	return f
}

// countHandler is a slog.Handler that counts records per level.
type countHandler struct {
	mu     *sync.Mutex
	counts map[slog.Level]int
	msgs   *[]string
}

func newCountHandler() *countHandler {
	return &countHandler{mu: &sync.Mutex{}, counts: map[slog.Level]int{}, msgs: &[]string{}}
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.counts[r.Level]++
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}

func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

func (h *countHandler) count(l slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[l]
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
