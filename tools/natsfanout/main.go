// Command natsfanout measures NATS core's server CPU per delivered message on this
// machine, the same-run baseline of docs/performance.md for `moltzap bench fanout`: K
// subscriber connections on one subject, one publisher with a window of messages in
// flight (a message is done when every subscriber has it), and the NATS server's CPU time
// (utime + stime of /proc/PID/stat) over the measured phase divided by the deliveries.
//
//	go run ./tools/natsfanout --url nats://127.0.0.1:4222 --pid "$(pgrep -n nats-server)" \
//	    --group-size 500 --count 300 --concurrency 1
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/moltzap/moltzap-go/runtime/loadgen"
	"github.com/nats-io/nats.go"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "natsfanout:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", nats.DefaultURL, "NATS server URL")
	pid := flag.Int("pid", 0, "process id of the NATS server (required: its CPU time is the figure)")
	k := flag.Int("group-size", 50, "subscriber connections")
	count := flag.Int("count", 2000, "messages published")
	inFlight := flag.Int("concurrency", 8, "messages in flight")
	size := flag.Int("size", 200, "payload bytes (about a MoltZap message/received notification)")
	connects := flag.Int("connects", 0, "instead of the fan-out: open this many connections (--concurrency at a time) and report the server CPU per connect")
	flag.Parse()
	if *pid <= 0 {
		return fmt.Errorf("--pid: the NATS server's process id is required")
	}
	if *connects > 0 {
		return connectRun(*url, *pid, *connects, *inFlight)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	subject := fmt.Sprintf("natsfanout.%d", time.Now().UnixNano())
	var wg sync.WaitGroup
	done := make(chan struct{}, *count)
	var mu sync.Mutex
	got := map[int]int{} // message number -> subscribers that have it
	subs := make([]*nats.Conn, *k)
	for i := range subs {
		nc, err := nats.Connect(*url)
		if err != nil {
			return fmt.Errorf("subscriber %d: %w", i, err)
		}
		defer nc.Close()
		subs[i] = nc
		if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
			var n int
			_, _ = fmt.Sscanf(string(m.Data[:10]), "%010d", &n)
			mu.Lock()
			got[n]++
			all := got[n] == *k
			if all {
				delete(got, n)
			}
			mu.Unlock()
			if all {
				done <- struct{}{}
			}
		}); err != nil {
			return fmt.Errorf("subscribe %d: %w", i, err)
		}
		if err := nc.Flush(); err != nil {
			return fmt.Errorf("flush %d: %w", i, err)
		}
	}
	pub, err := nats.Connect(*url)
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	defer pub.Close()

	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = 'x'
	}
	cpu0, err := loadgen.ProcessCPU(*pid)
	if err != nil {
		return err
	}
	start := time.Now()
	window := make(chan struct{}, *inFlight)
	wg.Add(1)
	go func() { // completions free the window
		defer wg.Done()
		for range *count {
			select {
			case <-done:
				<-window
			case <-ctx.Done():
				return
			}
		}
	}()
	for n := range *count {
		window <- struct{}{}
		msg := append([]byte(fmt.Sprintf("%010d", n)), payload[10:]...)
		if err := pub.Publish(subject, msg); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if len(window) == cap(window) || n == *count-1 {
			if err := pub.Flush(); err != nil {
				return fmt.Errorf("publish flush: %w", err)
			}
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := loadgen.ProcessCPU(*pid)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("timed out before every delivery arrived")
	}
	deliveries := *count * *k
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"workload": "nats-core-fanout", "group_size": *k, "in_flight": *inFlight, "messages": *count,
		"deliveries_per_s":     float64(deliveries) / elapsed.Seconds(),
		"server_cpu_ns_per_op": float64(cpu1-cpu0) / float64(deliveries),
	})
}

// connectRun opens n connections, concurrency at a time, each a full NATS handshake (INFO,
// CONNECT, PING, PONG), keeps them open until all are, and reports the server's CPU per
// connect.
func connectRun(url string, pid, n, concurrency int) error {
	conns := make([]*nats.Conn, n)
	defer func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
	}()
	cpu0, err := loadgen.ProcessCPU(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, concurrency)
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += concurrency {
				nc, err := nats.Connect(url, nats.NoReconnect())
				if err != nil {
					errs[w] = fmt.Errorf("connection %d: %w", i, err)
					return
				}
				conns[i] = nc
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := loadgen.ProcessCPU(pid)
	if err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"workload": "nats-core-connect", "connections": n, "concurrency": concurrency,
		"connects_per_s":       float64(n) / elapsed.Seconds(),
		"server_cpu_ns_per_op": float64(cpu1-cpu0) / float64(n),
	})
}
