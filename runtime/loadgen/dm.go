package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// receipt is one messages/received seen by a recipient.
type receipt struct {
	id msgKey
	at time.Time
}

// pair is two agents in a one-to-one conversation: a sends, b receives.
type pair struct {
	a, b   *client
	params []byte       // encoded messages/send params
	inbox  chan receipt // b's messages/received, in arrival order
}

// DM runs Concurrency pairs of agents (default 1), each pair in a one-to-one conversation
// of its own (both agents claimed by the same owner, task/request on the default app with
// an initial conversation). Each pair sends sequentially: the next messages/send starts
// once the peer received the previous message. The latency of a message runs from just
// before messages/send to the arrival of messages/received at the peer. Count messages are
// sent in total, shared by the pairs. Over several nodes (Config.NodeURLs) the two agents
// of a pair are on different nodes, and the pairs' sockets are spread evenly. With
// Config.ServerPIDs the servers' CPU time per message over the sending phase is reported
// (Extra[ExtraServerCPUPerOp]).
func DM(ctx context.Context, cfg Config) (Result, error) {
	c, err := cfg.check(1)
	if err != nil {
		return Result{}, err
	}
	r := newRunner(c)
	defer r.close()
	runCtx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	res := Result{Workload: "dm", Planned: c.Count, RateUnit: "messages/s", Extra: map[string]float64{"pairs": float64(c.Concurrency), ExtraNodes: float64(len(c.nodes))}}

	pairs, clients, err := r.setupPairs(runCtx, c.Concurrency)
	if err != nil {
		return res, setupErr("dm", ctx, runCtx, c.Duration, err)
	}
	defer closeAll(clients, DefaultSetupConcurrency)

	var next atomic.Int64
	prog := newProgress(c.Progress, c.Count)
	samples := make([][]time.Duration, len(pairs))
	errs := make([]error, len(pairs))
	var wg sync.WaitGroup
	cpu := startCPU(c.ServerPIDs)
	start := time.Now()
	for i, p := range pairs {
		wg.Go(func() {
			samples[i], errs[i] = p.run(runCtx, &next, c.Count, prog)
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	prog.finish()
	res, err = finishMessages(ctx, runCtx, res, samples, errs)
	cpu.finish(&res, int64(res.Count))
	return res, err
}

// setupPairs creates n pairs and returns them with every client (for closing). Pair i is
// agents 2i and 2i+1, which nodeOf places on consecutive, so different, nodes.
func (r *runner) setupPairs(ctx context.Context, n int) ([]*pair, []*client, error) {
	clients, err := r.setupAgents(ctx, 2*n)
	if err != nil {
		return nil, nil, err
	}
	pairs := make([]*pair, n)
	err = forEach(ctx, n, DefaultSetupConcurrency, func(ctx context.Context, i int) error {
		p := &pair{a: clients[2*i], b: clients[2*i+1], inbox: make(chan receipt, 16)}
		taskID, convID, err := conversation(ctx, p.a, []*client{p.b})
		if err != nil {
			return err
		}
		p.params = sendParams(taskID, convID)
		p.b.onReceived(func(id msgKey, at time.Time) {
			select {
			case p.inbox <- receipt{id, at}:
			default: // not expected: one message is in flight at a time
			}
		})
		pairs[i] = p
		return nil
	})
	if err != nil {
		closeAll(clients, DefaultSetupConcurrency)
		return nil, nil, err
	}
	return pairs, clients, nil
}

// run sends messages until the shared counter passes total or ctx ends, and returns the
// latency of each message delivered.
func (p *pair) run(ctx context.Context, next *atomic.Int64, total int, prog *progress) ([]time.Duration, error) {
	var out []time.Duration
	for ctx.Err() == nil && next.Add(1) <= int64(total) {
		t0 := time.Now()
		raw, err := p.a.callRaw(ctx, protocol.MethodMessagesSend, p.params)
		if err != nil {
			return out, err
		}
		id, ok := messageID(raw)
		if !ok {
			return out, fmt.Errorf("messages/send: no message id in result %.200s", raw)
		}
		select {
		case rc := <-p.inbox:
			if rc.id != id {
				return out, fmt.Errorf("peer received message %s, want %s", rc.id, id)
			}
			out = append(out, rc.at.Sub(t0))
			prog.add(1)
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	return out, nil
}

// finishMessages merges the per-sender samples and errors of a message workload into res.
// An error caused by the run's own deadline is not an error: the run stopped by duration.
func finishMessages(parent, runCtx context.Context, res Result, samples [][]time.Duration, errs []error) (Result, error) {
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	res.Count = len(all)
	res.Latency = summarize(all)
	res.Rate = rate(res.Count, res.Elapsed)
	res.StoppedBy = StoppedByCount
	byDuration := stopped(parent, runCtx)
	if byDuration {
		res.StoppedBy = StoppedByDuration
	}
	for _, err := range errs {
		if err != nil && !(byDuration && errors.Is(err, context.DeadlineExceeded)) {
			return res, fmt.Errorf("%s: %w", res.Workload, err)
		}
	}
	return res, nil
}
