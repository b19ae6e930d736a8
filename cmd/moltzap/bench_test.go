package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/loadgen"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Tests of `moltzap bench`: flag checks in-process, the workloads end to end through the
// built binary with --spawn.

func TestBenchUsageErrors(t *testing.T) {
	isolate(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "connect", "--url", "http://10.1.2.3:8080"}, `--url "http://10.1.2.3:8080": host "10.1.2.3" is not a loopback address`},
		{[]string{"bench", "dm", "--url", "http://example.com"}, "not a loopback address"},
		{[]string{"--server", "http://192.0.2.1:8080", "bench", "dm"}, `--server "http://192.0.2.1:8080"`},
		{[]string{"bench", "dm", "--url", "ftp://127.0.0.1"}, "--url"},
		{[]string{"bench", "dm", "--count", "0"}, "--count 0"},
		{[]string{"bench", "fanout", "--count", "-5"}, "--count -5"},
		{[]string{"bench", "dm", "--count", "2000000"}, "--count 2000000"},
		{[]string{"bench", "dm", "--duration", "-1s"}, "--duration -1s"},
		{[]string{"bench", "connect", "--duration", "0s"}, "--duration 0s"},
		{[]string{"bench", "connect", "--duration", "2h"}, "--duration 2h0m0s"},
		{[]string{"bench", "connect", "--spawn", "--url", "http://127.0.0.1:8080"}, "--spawn and --url are mutually exclusive"},
		{[]string{"bench", "dm", "--spawn", "--url", "http://127.0.0.1:8080", "--url", "http://127.0.0.1:8081"}, "--spawn and --url are mutually exclusive: --spawn starts a single server"},
		{[]string{"bench", "connect", "--url", "http://127.0.0.1:8080", "--url", "http://10.1.2.3:8080"}, `--url "http://10.1.2.3:8080": host "10.1.2.3" is not a loopback address`},
		{[]string{"bench", "dm", "--url", "http://127.0.0.1:8080,http://192.0.2.7:1"}, `--url "http://192.0.2.7:1": host "192.0.2.7" is not a loopback address`},
		{[]string{"bench", "fanout", "--url", "http://127.0.0.1:8080", "--url", "ws://127.0.0.1:8080/ws"}, `--url "ws://127.0.0.1:8080/ws": the same node as "http://127.0.0.1:8080"; give each node once`},
		{[]string{"bench", "dm", "--url", ","}, "--url: no server URL given"},
		{[]string{"--server", "http://127.0.0.1:8080,http://10.9.9.9:1", "bench", "dm"}, `--server "http://10.9.9.9:1": host "10.9.9.9" is not a loopback address`},
		{[]string{"bench", "connect", "--server-pid", strconv.Itoa(os.Getpid()), "--server-pid", strconv.Itoa(os.Getpid())}, fmt.Sprintf("--server-pid %d is given twice", os.Getpid())},
		{[]string{"bench", "connect", "--server-pid", strconv.Itoa(os.Getpid()) + ",0"}, "--server-pid 0: want a process id"},
		{[]string{"bench", "dm", "--server-pid", strconv.Itoa(os.Getpid()), "--server-pid", "2147483647"}, "--server-pid 2147483647: "},
		{[]string{"bench", "dm", "--server-pid", "abc"}, `invalid argument "abc" for "--server-pid"`},
		{[]string{"bench", "connect", "--spawn", "--server-pid", "1"}, "--spawn and --server-pid"},
		{[]string{"bench", "connect", "--server-pid", "0"}, "--server-pid 0"},
		{[]string{"bench", "fanout", "--server-pid", "-3"}, "--server-pid -3"},
		{[]string{"bench", "dm", "--server-pid", "2147483647"}, "--server-pid 2147483647: "},
		{[]string{"bench", "dm", "--moltzap-server", "/bin/true"}, "--moltzap-server names the binary --spawn runs; it needs --spawn"},
		{[]string{"bench", "dm", "--spawn", "--moltzap-server", "/nonexistent/moltzap-server"}, `--moltzap-server "/nonexistent/moltzap-server": stat /nonexistent/moltzap-server: no such file`},
		{[]string{"bench", "dm", "--spawn", "--moltzap-server", os.TempDir()}, `--moltzap-server "` + os.TempDir() + `": is a directory`},
		{[]string{"bench", "dm", "--concurrency", "-1"}, "--concurrency -1"},
		{[]string{"bench", "fanout", "--group-size", "1"}, "--group-size 1"},
		{[]string{"bench", "connect", "--source-addr", "127.0.0.2,10.0.0.1"}, `--source-addr "10.0.0.1"`},
		{[]string{"bench", "dm", "--group-size", "5"}, "unknown flag: --group-size"},
		{[]string{"bench", "bogus"}, `unknown command "bogus" for "moltzap bench"`},
		{[]string{"bench", "dm", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := invoke(t, c.args...)
			if r.code != exitUsage {
				t.Fatalf("exit code %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("stderr has no help hint:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
		})
	}
}

func TestBenchEnvironmentServerMustBeLoopback(t *testing.T) {
	isolate(t)
	t.Setenv(envServer, "http://192.0.2.1:8080")
	r := invoke(t, "bench", "dm")
	if r.code != exitUsage || !strings.Contains(r.stderr, envServer) || !strings.Contains(r.stderr, "loopback") {
		t.Fatalf("code %d stderr %q; want 2 naming %s and loopback", r.code, r.stderr, envServer)
	}
}

func TestBenchBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":   "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":  "http://127.0.0.1:8080",
		"ws://localhost:9000/ws":  "http://localhost:9000",
		"wss://[::1]:9000/ws":     "https://[::1]:9000",
		"http://127.8.9.10:1/api": "http://127.8.9.10:1/api",
	} {
		got, err := benchBaseURL(in)
		if err != nil || got != want {
			t.Errorf("benchBaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"http://10.0.0.1:8080", "http://localhost.example.com", "http://u:p@127.0.0.1:1", "mailto:x"} {
		if got, err := benchBaseURL(in); err == nil {
			t.Errorf("benchBaseURL(%q) = %q, want an error", in, got)
		}
	}
}

func TestBenchRateLimitedFailure(t *testing.T) {
	we := &wire.Error{Code: -32004, Message: "Too many requests"}
	err := benchFailure(fmt.Errorf("dm: messages/send: %w (raise the limits)", we), false, nil)
	text := describeError(err)
	if !strings.Contains(text, "dm: messages/send: server error -32004 RateLimited: Too many requests (raise the limits)") {
		t.Errorf("describeError = %q", text)
	}
	if h := hintOf(err); !strings.Contains(h, "--messages-per-minute") || !strings.Contains(h, "--spawn") {
		t.Errorf("hint = %q", h)
	}
	other := benchFailure(errors.New("dial: refused"), false, nil)
	if other.Error() != "dial: refused" || hintOf(other) != "" {
		t.Errorf("plain error changed: %v (hint %q)", other, hintOf(other))
	}
}

func TestBenchProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	p := &benchProgress{w: &buf, label: "bench dm", unit: "messages", plain: true}
	p.start()
	for i := 1; i <= 200; i++ {
		p.update(i, 200)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "200/200 messages (100%)") {
		t.Errorf("plain progress:\n%s", buf.String())
	}
	if isTerminal(&buf) {
		t.Error("a buffer is not a terminal")
	}
	var quiet bytes.Buffer
	q := &benchProgress{w: &quiet, label: "bench dm", unit: "messages"} // --json, not a terminal
	q.start()
	q.update(200, 200)
	q.finish()
	if quiet.Len() != 0 {
		t.Errorf("progress with --json off a terminal: %q", quiet.String())
	}
}

func TestBenchServerPIDOfNoProcessNamesTheFlag(t *testing.T) {
	isolate(t)
	r := invoke(t, "bench", "connect", "--server-pid", "2147483647")
	want := "--server-pid 2147483647: no process 2147483647"
	if runtime.GOOS != "linux" {
		want = "--server-pid 2147483647: reading the CPU time of process 2147483647 needs Linux"
	}
	if r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, want)
	}
}

func TestBenchSpawnWithoutServerBinary(t *testing.T) {
	isolate(t)
	t.Setenv("PATH", t.TempDir()) // no moltzap-server on PATH, none beside the test binary
	r := invoke(t, "bench", "dm", "--spawn")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
	}
	for _, w := range []string{"--spawn: no moltzap-server binary at ", "nor on PATH", "go build -o DIR ./cmd/moltzap-server", "--moltzap-server DIR/moltzap-server"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

func TestBenchServerArgs(t *testing.T) {
	want := "--addr 127.0.0.1:0 --data /d --messages-per-minute 100000000 --requests-per-minute 100000000 " +
		"--max-group-participants 256 --write-queue 65536 --log-format json"
	if got := strings.Join(benchServerArgs("/d", 50), " "); got != want {
		t.Errorf("args\n%s\nwant\n%s", got, want)
	}
	if got := strings.Join(benchServerArgs("/d", 5000), " "); !strings.Contains(got, "--max-group-participants 5000 ") {
		t.Errorf("--group-size 5000: %s", got)
	}
}

func TestBenchServerLogFindsListeningLine(t *testing.T) {
	found := make(chan string, 1)
	l := &serverLog{tail: tailBuffer{max: 1 << 10}, found: found}
	chunks := []string{
		"not json\n{\"level\":\"INFO\",\"msg\":\"other\",\"addr\":\"127.0.0.1:1\"}\n",
		`{"time":"2026-12-01T10:00:00Z","level":"INFO","msg":"moltzap server list`,
		`ening","addr":"127.0.0.1:4242","data":"/tmp/x"}` + "\n" + `{"msg":"moltzap server listening","addr":"127.0.0.1:9"}` + "\n",
	}
	for _, c := range chunks {
		if n, err := l.Write([]byte(c)); n != len(c) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := <-found; got != "127.0.0.1:4242" {
		t.Errorf("address %q", got)
	}
	select {
	case got := <-found:
		t.Errorf("a second address %q", got)
	default:
	}
	if !strings.HasSuffix(l.String(), `"addr":"127.0.0.1:9"}`+"\n") || !strings.HasPrefix(l.String(), "not json") {
		t.Errorf("log tail %q", l.String())
	}
	tb := &tailBuffer{max: 5}
	_, _ = tb.Write([]byte("abc"))
	_, _ = tb.Write([]byte("defgh"))
	if tb.String() != "defgh" {
		t.Errorf("tail %q", tb.String())
	}
}

// --- end to end ---------------------------------------------------------------------------

var spawnedRe = regexp.MustCompile(`spawned server pid (\d+) on (\S+) \(data (.+), binary (.+)\)`)

// benchE2E is the e2e harness (the moltzap binary and a server with the default, low rate
// limits) with moltzap-server built beside the moltzap binary, where --spawn finds it.
func benchE2E(t *testing.T) (*e2e, string) {
	t.Helper()
	e := newE2E(t)
	server := filepath.Join(filepath.Dir(e.bin), "moltzap-server")
	if runtime.GOOS == "windows" {
		server += ".exe"
	}
	build := exec.Command("go", "build", "-o", server, "github.com/moltzap/moltzap-go/cmd/moltzap-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build moltzap-server: %v\n%s", err, out)
	}
	return e, server
}

// benchRun runs the binary with a bound of its own (bench runs are longer than the e2e
// helper's 20 s allow).
func benchRun(e *e2e, args ...string) cliResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("run %v: %v", args, err)
	}
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// benchJSON runs a bench with --json that must succeed and returns its Result.
func benchJSON(t *testing.T, e *e2e, args ...string) (loadgen.Result, cliResult) {
	t.Helper()
	r := benchRun(e, append([]string{"--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	var res loadgen.Result
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not a Result: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Errorf("more than one JSON value on stdout:\n%s", r.stdout)
	}
	if strings.Contains(r.stderr, "%)") {
		t.Errorf("progress lines with --json off a terminal:\n%s", r.stderr)
	}
	return res, r
}

// checkServerCPU fails unless res carries a positive server CPU time per operation that
// is the phase's total over its operations.
func checkServerCPU(t *testing.T, res loadgen.Result) {
	t.Helper()
	perOp, total := res.Extra[loadgen.ExtraServerCPUPerOp], res.Extra[loadgen.ExtraServerCPU]
	if perOp <= 0 || total <= 0 || len(res.Unmeasured) != 0 {
		t.Fatalf("%s: server CPU not measured: extra %v, unmeasured %v", res.Workload, res.Extra, res.Unmeasured)
	}
	ops := float64(res.Count)
	if res.Workload == "fanout" {
		ops = res.Extra["deliveries"]
	}
	if d := perOp*ops - total; d > 1 || d < -1 {
		t.Errorf("%s: %v ns/op x %v ops != %v ns", res.Workload, perOp, ops, total)
	}
}

// checkSpawnedGone finds the spawned server's pid and data directory on stderr and checks
// that the process has ended and the directory is removed.
func checkSpawnedGone(t *testing.T, stderr, wantBin string) {
	t.Helper()
	m := spawnedRe.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no 'spawned server pid' line on stderr:\n%s", stderr)
	}
	pid, _ := strconv.Atoi(m[1])
	if !strings.HasPrefix(m[2], "http://127.0.0.1:") {
		t.Errorf("spawned server URL %q is not on 127.0.0.1", m[2])
	}
	if m[4] != wantBin {
		t.Errorf("spawned binary %s, want %s", m[4], wantBin)
	}
	if runtime.GOOS != "windows" {
		if p, err := os.FindProcess(pid); err == nil {
			if err := p.Signal(syscall.Signal(0)); err == nil {
				_ = p.Kill()
				t.Errorf("spawned server pid %d still runs after bench exited", pid)
			}
		}
	}
	if _, err := os.Stat(m[3]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spawned server's data directory %s remains (stat: %v)", m[3], err)
		_ = os.RemoveAll(m[3])
	}
}

func TestBenchEndToEnd(t *testing.T) {
	e, serverBin := benchE2E(t)

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"bench", "connect", "--spawn", "--count", "300", "--duration", "30s"},
			[]string{"connect", "300 of 300 (stopped by count)", "connects/s", "latency p99", "rss_bytes_per_conn", "ns per connect"}},
		{[]string{"bench", "dm", "--spawn", "--count", "300", "--duration", "30s"},
			[]string{"dm", "300 of 300 (stopped by count)", "messages/s", "latency p50", "latency max", "ns per message"}},
		{[]string{"bench", "fanout", "--spawn", "--group-size", "5", "--count", "100", "--duration", "30s"},
			[]string{"fanout", "100 of 100 (stopped by count)", "deliveries/s", "messages_per_s", "recipients", "ns per delivery"}},
	} {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			r := benchRun(e, c.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !regexp.MustCompile(`(?m)^workload\s+` + c.args[1] + `$`).MatchString(r.stdout) {
				t.Errorf("no 'workload %s' row:\n%s", c.args[1], r.stdout)
			}
			if !regexp.MustCompile(`(?m)^rate\s+[1-9]\d* \S+/s$`).MatchString(r.stdout) {
				t.Errorf("no positive rate row:\n%s", r.stdout)
			}
			if !regexp.MustCompile(`(?m)^server_cpu_ns_per_op\s+[1-9]\d* ns per \w+$`).MatchString(r.stdout) {
				t.Errorf("no positive server_cpu_ns_per_op row:\n%s", r.stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			checkSpawnedGone(t, r.stderr, serverBin)
		})
	}

	// --json of a spawned run of each workload carries extra.server_cpu_ns_per_op > 0.
	for _, args := range [][]string{
		{"bench", "connect", "--spawn", "--count", "300", "--duration", "30s"},
		{"bench", "dm", "--spawn", "--count", "300", "--concurrency", "3", "--duration", "30s"},
		{"bench", "fanout", "--spawn", "--group-size", "5", "--count", "100", "--concurrency", "2", "--duration", "30s"},
	} {
		t.Run("json "+args[1], func(t *testing.T) {
			res, r := benchJSON(t, e, args...)
			if res.Workload != args[1] || res.Count != res.Planned || res.StoppedBy != loadgen.StoppedByCount || res.Rate <= 0 || res.Latency == nil || res.Latency.P99 <= 0 {
				t.Errorf("result %+v (latency %+v)", res, res.Latency)
			}
			checkServerCPU(t, res)
			if args[1] == "dm" && res.Extra["pairs"] != 3 {
				t.Errorf("pairs %v", res.Extra["pairs"])
			}
			checkSpawnedGone(t, r.stderr, serverBin)
		})
	}

	t.Run("spawn raises the group limit", func(t *testing.T) {
		// 300 members: more than moltzap-server's default of 256.
		res, r := benchJSON(t, e, "bench", "fanout", "--spawn", "--group-size", "300", "--count", "3", "--duration", "40s")
		if res.Count != 3 || res.Extra["recipients"] != 299 || res.Extra["deliveries"] != 3*299 {
			t.Errorf("result %+v", res)
		}
		checkSpawnedGone(t, r.stderr, serverBin)
	})

	t.Run("explicit --moltzap-server", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "mz-server-copy")
		copyFile(t, serverBin, other)
		r := benchRun(e, "bench", "dm", "--spawn", "--moltzap-server", other, "--count", "5", "--duration", "30s")
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		checkSpawnedGone(t, r.stderr, other)
	})

	t.Run("external server with --server-pid", func(t *testing.T) {
		srv, err := spawnBenchServer(context.Background(), serverBin, 5) // a server of the test's own
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.stop() })
		pid := strconv.Itoa(srv.pid)
		for _, args := range [][]string{
			{"bench", "dm", "--url", srv.url, "--server-pid", pid, "--count", "300", "--duration", "30s"},
			{"bench", "fanout", "--url", srv.url, "--server-pid", pid, "--group-size", "5", "--count", "100", "--duration", "30s"},
			{"bench", "connect", "--url", srv.url, "--server-pid", pid, "--count", "300", "--duration", "30s"},
		} {
			res, r := benchJSON(t, e, args...)
			checkServerCPU(t, res)
			if spawnedRe.MatchString(r.stderr) {
				t.Errorf("%s with --url spawned a server:\n%s", args[1], r.stderr)
			}
			if args[1] == "connect" && res.Extra["rss_bytes_per_conn"] == 0 {
				t.Errorf("connect with --server-pid: no rss_bytes_per_conn in %v", res.Extra)
			}
		}

		// Without --server-pid the figures are absent, and the output says why.
		res, _ := benchJSON(t, e, "bench", "connect", "--url", srv.url, "--count", "5", "--duration", "30s")
		for _, k := range []string{loadgen.ExtraServerCPUPerOp, "rss_bytes_per_conn"} {
			if _, ok := res.Extra[k]; ok || res.Unmeasured[k] != benchNoPID {
				t.Errorf("%s without --server-pid: extra %v, unmeasured %v", k, res.Extra, res.Unmeasured)
			}
		}
		r := benchRun(e, "bench", "dm", "--url", srv.url, "--count", "5", "--duration", "30s")
		if r.code != 0 || !regexp.MustCompile(`(?m)^server_cpu_ns_per_op\s+not measured: `+regexp.QuoteMeta(benchNoPID)+`$`).MatchString(r.stdout) {
			t.Errorf("exit %d, table without the reason:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("rate limited server", func(t *testing.T) {
		// The e2e server keeps the default limits (60 messages a minute per agent).
		r := benchRun(e, "bench", "dm", "--count", "100", "--duration", "30s")
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		for _, w := range []string{"dm: messages/send: server error -32004 RateLimited", "moltzap: hint:", "--messages-per-minute", "partial result"} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "(stopped by error)") {
			t.Errorf("partial result:\n%s", r.stdout)
		}
	})

	t.Run("interrupt", func(t *testing.T) {
		p := e.start("bench", "fanout", "--spawn", "--group-size", "5", "--count", "1000000", "--duration", "60s")
		p.waitStderr("spawned server pid")
		time.Sleep(300 * time.Millisecond)
		if code := p.interrupt(); code != exitFailure {
			t.Fatalf("exit %d after SIGINT, want 1\nstderr: %s", code, p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), "moltzap: interrupted") {
			t.Errorf("stderr:\n%s", p.stderr.String())
		}
		checkSpawnedGone(t, p.stderr.String(), serverBin)
	})
}

// TestBenchSpreadsOverNodes runs bench against two moltzap-server processes on data
// directories of their own: connect spreads its connections over both and sums their
// CPU and memory; dm, which needs the nodes to be one cluster, says so.
func TestBenchSpreadsOverNodes(t *testing.T) {
	e, serverBin := benchE2E(t)
	var srvs [2]*benchServer
	for i := range srvs {
		srv, err := spawnBenchServer(context.Background(), serverBin, 5)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.stop() })
		srvs[i] = srv
	}
	a, b := srvs[0], srvs[1]
	var rss0, cpu0 [2]float64
	for i, s := range srvs {
		rss0[i], cpu0[i] = procRSS(t, s.pid), procCPU(t, s.pid)
	}

	// The pids in the other order than the URLs: the order does not matter.
	args := []string{"--json", "bench", "connect", "--url", a.url, "--url", b.url,
		"--server-pid", strconv.Itoa(b.pid), "--server-pid", strconv.Itoa(a.pid), "--count", "300", "--duration", "40s"}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The connections stay open and idle for 2 s before the second RSS sample: each
	// server's /health shows its half meanwhile.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak [2]int
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("bench: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
			}
			waiting = false
		case <-time.After(10 * time.Millisecond):
			for i, s := range srvs {
				if n, err := healthConnections(s.url); err == nil {
					peak[i] = max(peak[i], n)
				}
			}
		}
	}
	if peak != [2]int{150, 150} {
		t.Errorf("connections seen on the two nodes at most %v, want 150 each", peak)
	}
	var res loadgen.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not a Result: %v\n%s", err, out.String())
	}
	if res.Count != 300 || res.Extra[loadgen.ExtraNodes] != 2 {
		t.Errorf("result %+v", res)
	}
	checkServerCPU(t, res)
	var used float64
	for i, s := range srvs {
		d := procCPU(t, s.pid) - cpu0[i]
		if d <= 0 {
			t.Errorf("node %d used no CPU during the run", i)
		}
		used += d
	}
	// The measured phase is part of the run: its CPU, summed over both processes, is at
	// most what both used during the whole run (to a clock tick each).
	if got := res.Extra[loadgen.ExtraServerCPU]; got > used+float64(20*time.Millisecond) {
		t.Errorf("server_cpu_ns %v, more than both processes used in the whole run (%v)", got, used)
	}
	// Before the connections the RSS is that of both servers (neither shrinks meanwhile).
	if before := res.Extra["rss_before_bytes"]; before < 0.9*(rss0[0]+rss0[1]) {
		t.Errorf("rss_before_bytes %v, the two servers had %v + %v", before, rss0[0], rss0[1])
	}
	if _, ok := res.Extra["rss_bytes_per_conn"]; !ok {
		t.Errorf("no rss_bytes_per_conn: %v", res.Extra)
	}
	if strings.Contains(errb.String(), "note:") {
		t.Errorf("a note with one pid per node:\n%s", errb.String())
	}

	t.Run("fewer pids than nodes", func(t *testing.T) {
		res, r := benchJSON(t, e, "bench", "connect", "--url", a.url+","+b.url, "--server-pid", strconv.Itoa(a.pid), "--count", "10", "--duration", "30s")
		if res.Count != 10 || res.Extra[loadgen.ExtraNodes] != 2 {
			t.Errorf("result %+v", res)
		}
		if !strings.Contains(r.stderr, "note: 1 --server-pid for 2 nodes") {
			t.Errorf("stderr lacks the note:\n%s", r.stderr)
		}
	})

	t.Run("dm needs one cluster", func(t *testing.T) {
		r := benchRun(e, "bench", "dm", "--url", a.url+","+b.url, "--count", "10", "--duration", "30s")
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		for _, w := range []string{"network/connect on ws" + strings.TrimPrefix(b.url, "http") + "/ws", "-32000", "the nodes must form one cluster"} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
			}
		}
	})
}

// healthConnections returns the "connections" of a server's /health.
func healthConnections(base string) (int, error) {
	resp, err := http.Get(base + "/health")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var h struct {
		Connections int `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return 0, err
	}
	return h.Connections, nil
}

// procCPU is the CPU time process pid used so far, in nanoseconds.
func procCPU(t *testing.T, pid int) float64 {
	t.Helper()
	d, err := loadgen.ProcessCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	return float64(d)
}

// procRSS is the resident memory of process pid, in bytes (VmRSS of /proc/PID/status).
func procRSS(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return float64(kb << 10)
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// copyFile copies the executable src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
