package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// Fanout runs one conversation of GroupSize members (default 50): the creator invites
// GroupSize-1 agents and is the only sender. Concurrency messages are in flight at a time
// (default 1: the next send starts once every recipient got the previous message). The
// latency of a message runs from just before messages/send until the last recipient got
// messages/received. Rate is in deliveries/s (messages x recipients / elapsed);
// Extra["messages_per_s"] is the message rate. Over several nodes (Config.NodeURLs) the
// sender is on the first and the members' sockets are spread evenly with it. With
// Config.ServerPIDs the servers' CPU time per delivery over the sending phase is reported
// (Extra[ExtraServerCPUPerOp]).
func Fanout(ctx context.Context, cfg Config) (Result, error) {
	c, err := cfg.check(1)
	if err != nil {
		return Result{}, err
	}
	r := newRunner(c)
	defer r.close()
	runCtx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	recipients := c.GroupSize - 1
	res := Result{Workload: "fanout", Planned: c.Count, RateUnit: "deliveries/s",
		Extra: map[string]float64{"recipients": float64(recipients), "in_flight": float64(c.Concurrency), ExtraNodes: float64(len(c.nodes))}}

	clients, err := r.setupAgents(runCtx, c.GroupSize)
	if err != nil {
		return res, setupErr("fanout", ctx, runCtx, c.Duration, err)
	}
	defer closeAll(clients, DefaultSetupConcurrency)
	sender := clients[0]
	taskID, convID, err := conversation(runCtx, sender, clients[1:])
	if err != nil {
		return res, setupErr("fanout", ctx, runCtx, c.Duration, err)
	}
	params := sendParams(taskID, convID)
	tr := newTracker(recipients)
	for _, cl := range clients[1:] {
		cl.onReceived(tr.arrive)
	}

	var next atomic.Int64
	prog := newProgress(c.Progress, c.Count)
	samples := make([][]time.Duration, c.Concurrency)
	errs := make([]error, c.Concurrency)
	var wg sync.WaitGroup
	cpu := startCPU(c.ServerPIDs)
	start := time.Now()
	for i := range c.Concurrency {
		wg.Go(func() {
			samples[i], errs[i] = sendFanout(runCtx, sender, params, tr, &next, c.Count, prog)
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	prog.finish()
	deliveries := tr.deliveries.Load()
	res, err = finishMessages(ctx, runCtx, res, samples, errs)
	cpu.finish(&res, deliveries)
	res.Extra["messages_per_s"] = res.Rate
	res.Extra["deliveries"] = float64(deliveries)
	res.Rate *= float64(recipients)
	return res, err
}

// setupErr reports a setup failure, or that Duration was too short for the setup.
func setupErr(workload string, parent, runCtx context.Context, d time.Duration, err error) error {
	if stopped(parent, runCtx) {
		return fmt.Errorf("%s: Duration %s elapsed during setup", workload, d)
	}
	return fmt.Errorf("%s: %w", workload, err)
}

// sendFanout sends messages until the shared counter passes total or ctx ends, each after
// every recipient got the previous one, and returns the latency of each message.
func sendFanout(ctx context.Context, sender *client, params []byte, tr *tracker, next *atomic.Int64, total int, prog *progress) ([]time.Duration, error) {
	var out []time.Duration
	for ctx.Err() == nil && next.Add(1) <= int64(total) {
		t0 := time.Now()
		raw, err := sender.callRaw(ctx, protocol.MethodMessagesSend, params)
		if err != nil {
			return out, err
		}
		id, ok := messageID(raw)
		if !ok {
			return out, fmt.Errorf("messages/send: no message id in result %.200s", raw)
		}
		f := tr.sent(id)
		select {
		case <-f.done:
			tr.forget(id)
			out = append(out, f.last.Sub(t0))
			prog.add(1)
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	return out, nil
}

// tracker matches the messages/received arrivals of a fan-out to the messages sent. An
// arrival may precede the sender's messages/send result, so an entry is created by
// whichever comes first.
type tracker struct {
	want       int // recipients per message
	deliveries atomic.Int64

	mu      sync.Mutex
	flights map[msgKey]*flight
}

// flight is the delivery state of one message.
type flight struct {
	got  int
	last time.Time     // latest arrival; read after done is closed
	done chan struct{} // closed when every recipient got the message
}

func newTracker(want int) *tracker {
	return &tracker{want: want, flights: map[msgKey]*flight{}}
}

// get returns the entry of id, creating it; t.mu must be held.
func (t *tracker) get(id msgKey) *flight {
	f := t.flights[id]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		t.flights[id] = f
	}
	return f
}

// arrive records one recipient's messages/received for id at time at. It is a receiver.
func (t *tracker) arrive(id msgKey, at time.Time) {
	t.deliveries.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.get(id)
	f.got++
	if f.got > t.want {
		return // a duplicate: never expected, and f.last may be read already
	}
	if at.After(f.last) {
		f.last = at
	}
	if f.got == t.want {
		close(f.done)
	}
}

// sent returns the entry of a message whose messages/send just succeeded.
func (t *tracker) sent(id msgKey) *flight {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.get(id)
}

// forget drops the entry of a completed message.
func (t *tracker) forget(id msgKey) {
	t.mu.Lock()
	delete(t.flights, id)
	t.mu.Unlock()
}
