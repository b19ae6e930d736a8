package loadgen

import (
	"context"
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseStatTicks(t *testing.T) {
	// Fields 14 and 15 (utime 1234, stime 56) after a command name holding ") (" and spaces.
	stat := "4242 (moltzap) (x y) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 56 0 0 20 0 9 0 100 1000000 500 18446744073709551615\n"
	if n, err := parseStatTicks([]byte(stat)); err != nil || n != 1290 {
		t.Fatalf("parseStatTicks = %d, %v; want 1290", n, err)
	}
	for _, bad := range []string{"", "4242 moltzap S 1", "1 (a) S 1 2 3", "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 5 0", "1 (a) S 1 1 1 0 -1 0 0 0 0 0 -3 5 0"} {
		if n, err := parseStatTicks([]byte(bad)); err == nil {
			t.Errorf("parseStatTicks(%q) = %d, want an error", bad, n)
		}
	}
}

func TestTicksToDuration(t *testing.T) {
	for _, c := range []struct {
		ticks, hz int64
		want      time.Duration
	}{
		{0, 100, 0},
		{1, 100, 10 * time.Millisecond},
		{12345, 100, 123*time.Second + 450*time.Millisecond},
		{1025, 1024, time.Second + time.Second/1024},
	} {
		if got := ticksToDuration(c.ticks, c.hz); got != c.want {
			t.Errorf("ticksToDuration(%d, %d) = %s, want %s", c.ticks, c.hz, got, c.want)
		}
	}
}

func TestAuxvValue(t *testing.T) {
	type order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	vec := func(word int, order order, pairs ...uint64) []byte {
		var b []byte
		for _, v := range pairs {
			if word == 4 {
				b = order.AppendUint32(b, uint32(v))
			} else {
				b = order.AppendUint64(b, v)
			}
		}
		return b
	}
	for _, word := range []int{4, 8} {
		for _, order := range []order{binary.LittleEndian, binary.BigEndian} {
			v := vec(word, order, 6, 4096, atClockTick, 100, 0, 0)
			if got := auxvValue(v, word, order, atClockTick); got != 100 {
				t.Errorf("word %d %v: AT_CLKTCK = %d", word, order, got)
			}
			after := vec(word, order, 6, 4096, 0, 0, atClockTick, 7) // past AT_NULL
			if got := auxvValue(after, word, order, atClockTick); got != 0 {
				t.Errorf("word %d %v: value after AT_NULL read: %d", word, order, got)
			}
			if got := auxvValue(v[:len(v)-word-1], word, order, 99); got != 0 {
				t.Errorf("word %d %v: absent key = %d", word, order, got)
			}
		}
	}
}

func TestClockTicks(t *testing.T) {
	hz := clockTicks()
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") && hz != 100 {
		t.Fatalf("USER_HZ %d, Linux on %s has 100", hz, runtime.GOARCH)
	}
	if hz <= 0 {
		t.Fatalf("clock ticks %d", hz)
	}
}

func TestProcessCPUCountsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := ProcessCPU(os.Getpid()); err == nil || !strings.Contains(err.Error(), "Linux") {
			t.Fatalf("ProcessCPU off Linux: %v", err)
		}
		return
	}
	start, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if start <= 0 {
		t.Fatalf("a running test process used %s of CPU", start)
	}
	deadline := time.Now().Add(10 * time.Second)
	x := uint64(1)
	for {
		for range 1_000_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		now, err := ProcessCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now-start >= 50*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %s after 10 s of spinning (x=%d)", now, x)
		}
	}
}

func TestProcessCPUErrors(t *testing.T) {
	for _, pid := range []int{0, -4} {
		if _, err := ProcessCPU(pid); err == nil || !strings.Contains(err.Error(), "positive") {
			t.Errorf("ProcessCPU(%d): %v", pid, err)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	const none = 2147483647 // above any pid_max
	if _, err := ProcessCPU(none); err == nil || !strings.Contains(err.Error(), "no process 2147483647") {
		t.Errorf("ProcessCPU(%d): %v", none, err)
	}
}

func TestCPUProbeReasons(t *testing.T) {
	var res Result
	startCPU(nil).finish(&res, 10)
	if res.Unmeasured[ExtraServerCPUPerOp] != reasonNoPID || res.Extra != nil {
		t.Errorf("no pid: %+v", res)
	}
	if runtime.GOOS != "linux" {
		return
	}
	res = Result{}
	startCPU([]int{os.Getpid()}).finish(&res, 0)
	if res.Unmeasured[ExtraServerCPUPerOp] != "no operation completed" {
		t.Errorf("no operation: %+v", res)
	}
	res = Result{Extra: map[string]float64{}}
	p := startCPU([]int{os.Getpid()})
	p.start -= 20 * time.Millisecond // as if the phase had used 20 ms more
	p.finish(&res, 4)
	if got := res.Extra[ExtraServerCPUPerOp]; got < float64(5*time.Millisecond) || res.Extra[ExtraServerCPU] < float64(20*time.Millisecond) {
		t.Errorf("per op %v, total %v", got, res.Extra[ExtraServerCPU])
	}
	if _, ok := res.Unmeasured[ExtraServerCPUPerOp]; ok {
		t.Errorf("measured and unmeasured: %+v", res)
	}
}

// TestServerCPUPerOp runs each workload against the in-process server with this process
// as the server's: its CPU time (client included) must be reported per operation.
func TestServerCPUPerOp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatal("the server CPU figures need Linux's /proc")
	}
	base := testServer(t)
	for name, cfg := range map[string]Config{
		"connect": {Count: 400, Concurrency: 16},
		"dm":      {Count: 400},
		"fanout":  {Count: 100, GroupSize: 5},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.BaseURL, cfg.Duration, cfg.ServerPIDs = base, 30*time.Second, []int{os.Getpid()}
			res, err := workloads()[name](context.Background(), cfg)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			perOp, total := res.Extra[ExtraServerCPUPerOp], res.Extra[ExtraServerCPU]
			if perOp <= 0 || total <= 0 {
				t.Fatalf("%s: no CPU figures: extra %v, unmeasured %v", name, res.Extra, res.Unmeasured)
			}
			ops := float64(res.Count)
			if name == "fanout" {
				ops = res.Extra["deliveries"]
			}
			if d := perOp*ops - total; d > 1 || d < -1 {
				t.Errorf("%s: %v ns/op x %v ops != %v ns", name, perOp, ops, total)
			}
			if total > float64(res.Elapsed)*float64(runtime.NumCPU())+float64(20*time.Millisecond) {
				t.Errorf("%s: %v ns of CPU in a %s phase on %d CPUs", name, total, res.Elapsed, runtime.NumCPU())
			}
			if len(res.Unmeasured) != 0 {
				t.Errorf("%s: unmeasured %v", name, res.Unmeasured)
			}
			want := map[string]string{"connect": "ns per connect", "dm": "ns per message", "fanout": "ns per delivery"}[name]
			if tab := res.Table(); !strings.Contains(tab, want) {
				t.Errorf("%s: table lacks %q:\n%s", name, want, tab)
			}
		})
	}
	waitNoConnections(t, base)
}
