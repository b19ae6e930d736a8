package loadgen

import (
	"context"
	"fmt"
	"time"
)

// idleSettle is how long Connect lets the server settle before the second RSS sample.
const idleSettle = 2 * time.Second

// Connect registers Count agents over HTTP (Concurrency at a time), then opens and
// authenticates one WebSocket per agent (network/connect, Concurrency in flight) and
// reports connects/s with the latency of each dial + handshake. Over several nodes
// (Config.NodeURLs) agent i is registered on, and connects to, node i mod nodes, so the
// connections are spread evenly and the nodes need not share a store. With
// Config.ServerPIDs it reports the servers' CPU time per connect over that phase
// (Extra[ExtraServerCPUPerOp]), and reads their VmRSS (/proc/<pid>/status) after
// registration and again once every connection is open and has been idle for two
// seconds, reporting the growth of the sum per connection (Extra["rss_bytes_per_conn"]);
// the servers' Go heap, stack and goroutine counts from /metrics (summed over the nodes)
// are reported per connection too when available. The connections are closed before
// Connect returns. On error the result holds what was measured so far.
func Connect(ctx context.Context, cfg Config) (Result, error) {
	c, err := cfg.check(DefaultConnectConcurrency)
	if err != nil {
		return Result{}, err
	}
	r := newRunner(c)
	defer r.close()
	runCtx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	res := Result{Workload: "connect", Planned: c.Count, RateUnit: "connects/s", Extra: map[string]float64{ExtraNodes: float64(len(c.nodes))}}

	creds, err := r.registerAll(runCtx, c.Count, res.Extra)
	if err != nil {
		if stopped(ctx, runCtx) {
			return res, fmt.Errorf("connect: Duration %s elapsed while registering %d agents", c.Duration, c.Count)
		}
		return res, fmt.Errorf("connect: %w", err)
	}
	var probe memProbe
	if err := probe.before(runCtx, r, c.ServerPIDs); err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}

	clients := make([]*client, c.Count)
	defer func() { closeAll(clients, c.Concurrency) }()
	cpu := startCPU(c.ServerPIDs)
	err = r.openAll(runCtx, creds, clients, &res)
	cpu.finish(&res, int64(res.Count))
	res.StoppedBy = StoppedByCount
	if err != nil {
		if !stopped(ctx, runCtx) {
			return res, fmt.Errorf("connect: %d of %d connections open: %w", res.Count, c.Count, err)
		}
		res.StoppedBy = StoppedByDuration
	}
	if res.Count > 0 {
		if err := probe.after(ctx, r, res.Count, &res); err != nil {
			return res, fmt.Errorf("connect: %w", err)
		}
	}
	return res, nil
}

// registerAll registers n agents, Concurrency at a time, agent i on node nodeOf(i), and
// records the registration rate in extra.
func (r *runner) registerAll(ctx context.Context, n int, extra map[string]float64) ([]credentials, error) {
	creds := make([]credentials, n)
	first := r.reserveNames(n)
	start := time.Now()
	err := forEach(ctx, n, r.cfg.Concurrency, func(ctx context.Context, i int) error {
		var err error
		creds[i], err = r.register(ctx, r.cfg.nodes[r.nodeOf(i)].http, r.name(first+i))
		return err
	})
	if err != nil {
		return nil, err
	}
	extra["registrations_per_s"] = rate(n, time.Since(start))
	return creds, nil
}

// openAll opens and authenticates one connection per credential into clients, Concurrency
// in flight, and fills res with the count, elapsed time, rate and handshake latencies.
func (r *runner) openAll(ctx context.Context, creds []credentials, clients []*client, res *Result) error {
	lat := make([]time.Duration, len(creds))
	prog := newProgress(r.cfg.Progress, len(creds))
	start := time.Now()
	err := forEach(ctx, len(creds), r.cfg.Concurrency, func(ctx context.Context, i int) error {
		t0 := time.Now()
		cl, err := r.open(ctx, r.nodeOf(i), creds[i].APIKey)
		if err != nil {
			return fmt.Errorf("agent %d: %w", i, err)
		}
		lat[i] = time.Since(t0)
		clients[i] = cl
		prog.add(1)
		return nil
	})
	res.Elapsed = time.Since(start)
	prog.finish()
	var samples []time.Duration
	for i, cl := range clients {
		if cl != nil {
			samples = append(samples, lat[i])
		}
	}
	res.Count = len(samples)
	res.Rate = rate(res.Count, res.Elapsed)
	res.Latency = summarize(samples)
	return err
}

// memMetrics are the server metrics sampled around the connection phase, when exposed.
var memMetrics = []string{"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines"}

// memProbe samples the servers' memory before and after the connections open.
type memProbe struct {
	pids    []int
	rss     int64 // summed over pids
	metrics map[string]float64
}

// before takes the first sample (RSS only when there are pids).
func (p *memProbe) before(ctx context.Context, r *runner, pids []int) error {
	p.pids = pids
	if len(pids) > 0 {
		rss, err := residentSum(pids)
		if err != nil {
			return err
		}
		p.rss = rss
	}
	p.metrics = r.scrapeNodes(ctx, memMetrics...)
	return nil
}

// after lets the idle server settle (when RSS is measured), takes the second sample and
// records the differences per connection in res.
func (p *memProbe) after(ctx context.Context, r *runner, conns int, res *Result) error {
	extra := res.Extra
	if len(p.pids) == 0 {
		res.setUnmeasured("rss_bytes_per_conn", reasonNoPID)
	} else {
		settle(ctx, idleSettle) // nothing is sent on the connections meanwhile
		rss, err := residentSum(p.pids)
		if err != nil {
			return err
		}
		extra["rss_before_bytes"] = float64(p.rss)
		extra["rss_after_bytes"] = float64(rss)
		extra["rss_bytes_per_conn"] = float64(rss-p.rss) / float64(conns)
	}
	mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	now := r.scrapeNodes(mctx, memMetrics...)
	for _, name := range memMetrics {
		b, okB := p.metrics[name]
		a, okA := now[name]
		if okA && okB {
			extra[name+"_per_conn"] = (a - b) / float64(conns)
		}
	}
	return nil
}

// settle waits d, or until ctx ends.
func settle(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
