package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runner holds what every workload run shares: the validated config, the dialer that
// rotates source addresses, the HTTP client and the run's name prefix.
type runner struct {
	cfg    checked
	runID  string        // 8 hex digits: agent names are "lg<runID>-<n>"
	next   atomic.Uint64 // source address rotation
	names  atomic.Int64  // agent names handed out
	http   *http.Client
	dialer net.Dialer
}

func newRunner(cfg checked) *runner {
	var id [4]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	r := &runner{cfg: cfg, runID: hex.EncodeToString(id[:]), dialer: net.Dialer{Timeout: 10 * time.Second}}
	r.http = &http.Client{Transport: &http.Transport{
		DialContext:         r.netDial,
		MaxIdleConnsPerHost: cfg.Concurrency + 4,
		IdleConnTimeout:     30 * time.Second,
	}}
	return r
}

// close releases the HTTP connections.
func (r *runner) close() { r.http.CloseIdleConnections() }

// netDial dials from the next source address in rotation (or any address when none are
// configured).
func (r *runner) netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := r.dialer
	if n := len(r.cfg.sources); n > 0 {
		i := r.next.Add(1) % uint64(n)
		d.LocalAddr = &net.TCPAddr{IP: r.cfg.sources[i]}
	}
	return d.DialContext(ctx, network, addr)
}

// nodeOf returns the node that agent i of a workload opens its socket on: round robin over
// the nodes, so that consecutive agents (the two of a DM pair) are on different nodes.
func (r *runner) nodeOf(i int) int { return i % len(r.cfg.nodes) }

// name returns the unique agent name number i of this run.
func (r *runner) name(i int) string { return fmt.Sprintf("lg%s-%d", r.runID, i) }

// reserveNames hands out n consecutive name numbers and returns the first.
func (r *runner) reserveNames(n int) int { return int(r.names.Add(int64(n))) - n }

// forEach runs fn(ctx, i) for i in [0, n) on at most workers goroutines. The first error
// cancels the others' context and is returned; calls not yet started are skipped.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// stopped reports whether the run's own deadline (not the caller's context) ended the
// measured phase: runCtx hit its deadline while parent is still live.
func stopped(parent, runCtx context.Context) bool {
	return parent.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded)
}

// progress reports the measured phase's advance to Config.Progress at most ~100 times.
type progress struct {
	fn    func(done, total int)
	total int
	step  int
	done  atomic.Int64
	mu    sync.Mutex
	last  int
}

func newProgress(fn func(done, total int), total int) *progress {
	return &progress{fn: fn, total: total, step: max(1, total/100)}
}

// add records n more operations done.
func (p *progress) add(n int) {
	d := int(p.done.Add(int64(n)))
	if p.fn == nil || (d/p.step == (d-n)/p.step && d != p.total) {
		return
	}
	p.report(d)
}

// finish reports the final count (once more if it was not reported yet).
func (p *progress) finish() {
	if p.fn != nil {
		p.report(int(p.done.Load()))
	}
}

func (p *progress) report(d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d > p.last {
		p.last = d
		p.fn(d, p.total)
	}
}
