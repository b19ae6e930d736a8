package loadgen

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConnect(t *testing.T) {
	base := testServer(t)
	quiesce(t)
	var mu sync.Mutex
	var last, calls int
	res, err := Connect(context.Background(), Config{
		BaseURL: base, Count: 20, Duration: 30 * time.Second, Concurrency: 4, ServerPIDs: []int{os.Getpid()},
		Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if done <= last || total != 20 {
				t.Errorf("progress %d/%d after %d", done, total, last)
			}
			last, calls = done, calls+1
		},
	})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if res.Workload != "connect" || res.Count != 20 || res.Planned != 20 || res.StoppedBy != StoppedByCount {
		t.Fatalf("result %+v", res)
	}
	checkLatency(t, res)
	for _, k := range []string{"rss_before_bytes", "rss_after_bytes", "rss_bytes_per_conn", "registrations_per_s", "go_goroutines_per_conn"} {
		if _, ok := res.Extra[k]; !ok {
			t.Errorf("Extra lacks %s: %v", k, res.Extra)
		}
	}
	if res.Extra["rss_before_bytes"] <= 0 {
		t.Errorf("rss before %v", res.Extra["rss_before_bytes"])
	}
	// The server runs in this process: each connection costs the read goroutine of loadgen's
	// client and nothing on the server's side (an idle connection holds no goroutine), give or
	// take the few shared transport workers that start or retire during the measurement.
	if g := res.Extra["go_goroutines_per_conn"]; g < 0.5 || g > 1.5 {
		t.Errorf("goroutines per connection %v, want about 1 (the client's; none on the server)", g)
	}
	if last != 20 || calls == 0 {
		t.Errorf("progress ended at %d after %d calls", last, calls)
	}
	waitNoConnections(t, base)
}

// quiesce waits until this process's goroutine count has held still for longer than the
// transport's idle workers linger (2 s): workers left by earlier tests that retired during
// a Connect would lower its goroutines per connection.
func quiesce(t *testing.T) {
	t.Helper()
	const still = 2500 * time.Millisecond
	deadline := time.Now().Add(15 * time.Second)
	n, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < still {
		if time.Now().After(deadline) {
			t.Fatalf("the goroutine count did not settle in 15 s (now %d)", n)
		}
		time.Sleep(50 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
}

func TestDM(t *testing.T) {
	base := testServer(t)
	for _, pairs := range []int{1, 3} {
		res, err := DM(context.Background(), Config{BaseURL: base, Count: 50, Duration: 30 * time.Second, Concurrency: pairs})
		if err != nil {
			t.Fatalf("dm with %d pairs: %v", pairs, err)
		}
		if res.Workload != "dm" || res.Count != 50 || res.StoppedBy != StoppedByCount || res.Extra["pairs"] != float64(pairs) {
			t.Fatalf("dm with %d pairs: result %+v", pairs, res)
		}
		checkLatency(t, res)
		// Without a server pid the CPU figure is absent, with the reason.
		if _, ok := res.Extra[ExtraServerCPUPerOp]; ok || res.Unmeasured[ExtraServerCPUPerOp] != reasonNoPID {
			t.Fatalf("dm without ServerPIDs: extra %v, unmeasured %v", res.Extra, res.Unmeasured)
		}
		if tab := res.Table(); !regexp.MustCompile(`(?m)^server_cpu_ns_per_op +not measured: ` + regexp.QuoteMeta(reasonNoPID) + `$`).MatchString(tab) {
			t.Fatalf("table:\n%s", tab)
		}
	}
	waitNoConnections(t, base)
}

func TestFanout(t *testing.T) {
	base := testServer(t)
	for _, inFlight := range []int{1, 4} {
		res, err := Fanout(context.Background(), Config{BaseURL: base, Count: 20, Duration: 30 * time.Second, GroupSize: 5, Concurrency: inFlight})
		if err != nil {
			t.Fatalf("fanout with %d in flight: %v", inFlight, err)
		}
		if res.Workload != "fanout" || res.Count != 20 || res.StoppedBy != StoppedByCount {
			t.Fatalf("fanout: result %+v", res)
		}
		if got := res.Extra["deliveries"]; got != 20*4 {
			t.Fatalf("deliveries %v, want 80", got)
		}
		if res.Extra["recipients"] != 4 || res.Rate != 4*res.Extra["messages_per_s"] {
			t.Fatalf("fanout rates: %+v", res)
		}
		checkLatency(t, res)
	}
	waitNoConnections(t, base)
}

func TestDurationStopsLongRun(t *testing.T) {
	base := testServer(t)
	for name, run := range map[string]func(context.Context, Config) (Result, error){
		"dm":      DM,
		"fanout":  Fanout,
		"connect": Connect,
	} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{BaseURL: base, Count: 1_000_000, Duration: 1500 * time.Millisecond, GroupSize: 3}
			start := time.Now()
			res, err := run(context.Background(), cfg)
			took := time.Since(start)
			if name == "connect" {
				// A million registrations cannot fit: the run must give up at the bound.
				if err == nil || !strings.Contains(err.Error(), "Duration") {
					t.Fatalf("connect: err %v, result %+v", err, res)
				}
				if took > cfg.Duration+2*time.Second {
					t.Fatalf("connect took %s", took)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if took > 5*time.Second {
				t.Fatalf("%s took %s", name, took)
			}
			if res.StoppedBy != StoppedByDuration || res.Count == 0 || res.Count >= cfg.Count {
				t.Fatalf("%s: result %+v", name, res)
			}
			checkLatency(t, res)
		})
	}
	waitNoConnections(t, base)
}

func TestCancelledContext(t *testing.T) {
	base := testServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := DM(ctx, Config{BaseURL: base, Count: 10, Duration: time.Minute}); err == nil {
		t.Fatal("dm with a cancelled context succeeded")
	}
}

func TestResultJSONAndTable(t *testing.T) {
	r := Result{Workload: "dm", Count: 3, Planned: 3, StoppedBy: StoppedByCount, Elapsed: 3 * time.Millisecond,
		Rate: 1000, RateUnit: "messages/s", Latency: summarize([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}),
		Extra: map[string]float64{"pairs": 1, "b": 0.5}}
	if r.Latency.P50 != 2*time.Millisecond || r.Latency.Max != 3*time.Millisecond {
		t.Fatalf("latency %+v", *r.Latency)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	lat := back["latency"].(map[string]any)
	if back["workload"] != "dm" || back["rate_unit"] != "messages/s" || lat["p99_ns"] != float64(3*time.Millisecond) {
		t.Fatalf("json %s", b)
	}
	tab := r.Table()
	for _, want := range []string{"workload", "dm", "1000 messages/s", "latency p99", "3.000ms", "pairs", "0.50", "stopped by count"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
}

func TestPercentile(t *testing.T) {
	s := make([]time.Duration, 1000)
	for i := range s {
		s[i] = time.Duration(1000 - i)
	}
	l := summarize(s)
	if l.P50 != 500 || l.P90 != 900 || l.P99 != 990 || l.Max != 1000 {
		t.Fatalf("%+v", *l)
	}
	if one := summarize([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 || one.Max != 7 {
		t.Fatalf("%+v", *one)
	}
	if summarize(nil) != nil {
		t.Fatal("summary of nothing")
	}
}
