package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/client/clustertest"
)

// testNATSURL is the NATS the tests use (MOLTZAP_TEST_NATS_URL overrides it).
func testNATSURL() string {
	if u := os.Getenv("MOLTZAP_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// TestNATSURLJoinsTheNodes starts two built servers on one PostgreSQL schema and one NATS
// (a prefix of the test's own): each hears the other, /readyz reports the bus, and a node
// stopped with SIGTERM says goodbye (the other drops it at once, not after 3 heartbeats).
func TestNATSURLJoinsTheNodes(t *testing.T) {
	bin := buildServer(t, t.TempDir())
	dbURL := clustertest.FreshSchema(t)
	prefix := fmt.Sprintf("t%d", time.Now().UnixNano())
	start := func(node string) (addr string, stop func()) {
		addr = freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, "--addr", addr, "--database-url", dbURL,
			"--nats-url", testNATSURL(), "--nats-prefix", prefix, "--node-id", node)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stopped := false
		stop = func() {
			if !stopped {
				stopped = true
				cancel()
				_ = cmd.Wait()
			}
		}
		t.Cleanup(stop)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if code, _ := get(t, "http://"+addr+"/health"); code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) || cmd.ProcessState != nil {
				t.Fatalf("node %s did not start (NATS is required at %s): %s", node, testNATSURL(), stderr.String())
			}
		}
		return addr, stop
	}
	a1, _ := start("alpha")
	a2, stop2 := start("beta")
	nodes := func(addr string) string {
		_, m := get(t, "http://"+addr+"/metrics")
		for _, l := range strings.Split(m, "\n") {
			if strings.HasPrefix(l, "moltzap_cluster_remote_nodes ") {
				return strings.TrimPrefix(l, "moltzap_cluster_remote_nodes ")
			}
		}
		return "?"
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5s", what)
			}
		}
	}
	waitFor("the nodes hear each other", func() bool { return nodes(a1) == "1" && nodes(a2) == "1" })
	if code, body := get(t, "http://"+a1+"/readyz"); code != http.StatusOK || !strings.Contains(body, `"bus":"ok"`) || !strings.Contains(body, `"store":"ok"`) {
		t.Fatalf("/readyz: %d %s, want the bus and the store ok", code, body)
	}
	stop2()
	left := time.Now()
	waitFor("alpha drops beta after its goodbye", func() bool { return nodes(a1) == "0" })
	if d := time.Since(left); d > 2*time.Second { // 3 silent heartbeats would take 3 s
		t.Fatalf("beta dropped after %s: the goodbye was not heard", d)
	}
}

func TestNATSURLNeedsDatabaseURL(t *testing.T) {
	for _, tc := range []struct{ args []string }{
		{[]string{"--nats-url", "nats://127.0.0.1:4222"}},
		{[]string{"--nats-url", "http://127.0.0.1:4222", "--database-url", "postgres://x@y/z"}},
		{[]string{"--node-id", "no spaces"}},
	} {
		cmd := newRootCmd()
		cmd.SetArgs(append(tc.args, "--addr", "127.0.0.1:0"))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		var ue *usageError
		if err == nil || !errors.As(err, &ue) {
			t.Fatalf("%v: err = %v, want a usage error", tc.args, err)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
