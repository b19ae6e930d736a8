package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// Tests of the spreading of sockets over the nodes of a cluster (Config.NodeURLs) and of
// the server figures summed over several processes (Config.ServerPIDs).

// testNode is one server node of a test, behind a handler that records the requests it got.
type testNode struct {
	url string

	mu        sync.Mutex
	upgrades  []string // remote addresses of the /ws requests, in arrival order
	registers int      // POST /api/v1/auth/register
}

// record wraps next: each request is recorded, then handed on.
func (n *testNode) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/ws"):
			n.upgrades = append(n.upgrades, r.RemoteAddr)
		case r.URL.Path == "/api/v1/auth/register":
			n.registers++
		}
		n.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// counts returns the number of /ws requests and registrations the node got.
func (n *testNode) counts() (upgrades, registers int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.upgrades), n.registers
}

// upgradedFrom reports whether a /ws request came from the client address addr.
func (n *testNode) upgradedFrom(addr string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range n.upgrades {
		if a == addr {
			return true
		}
	}
	return false
}

// startTestNode runs a server over st (with bus b when not nil) behind a recorder.
func startTestNode(t *testing.T, id string, st store.Store, b bus.Bus) *testNode {
	t.Helper()
	srv, err := server.New(server.Config{Bus: b, NodeID: id, Limits: server.Limits{
		MessagesPerMinute: 10_000_000, RequestsPerMinute: 10_000_000,
	}}, st)
	if err != nil {
		t.Fatalf("node %s: %v", id, err)
	}
	n := &testNode{}
	hs := httptest.NewServer(n.record(srv.Handler()))
	n.url = hs.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("node %s shutdown: %v", id, err)
		}
		hs.Close()
	})
	return n
}

// testCluster starts k nodes of one cluster: one SQLite store, one in-process bus hub.
func testCluster(t *testing.T, k int) []*testNode {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hub := bus.NewHub()
	nodes := make([]*testNode, k)
	for i := range nodes {
		b := hub.Connect()
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		nodes[i] = startTestNode(t, fmt.Sprintf("n%d", i), st, b)
	}
	return nodes
}

// testSolos starts k independent servers, each on a store of its own.
func testSolos(t *testing.T, k int) []*testNode {
	t.Helper()
	nodes := make([]*testNode, k)
	for i := range nodes {
		st, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		nodes[i] = startTestNode(t, fmt.Sprintf("solo%d", i), st, nil)
	}
	return nodes
}

// nodesConfig returns a Config loading the nodes: BaseURL the first, NodeURLs the others.
func nodesConfig(nodes []*testNode, cfg Config) Config {
	cfg.BaseURL = nodes[0].url
	cfg.NodeURLs = nil
	for _, n := range nodes[1:] {
		cfg.NodeURLs = append(cfg.NodeURLs, n.url)
	}
	return cfg
}

// checkUpgrades fails unless node i got want[i] WebSocket requests.
func checkUpgrades(t *testing.T, nodes []*testNode, want ...int) {
	t.Helper()
	for i, n := range nodes {
		if got, _ := n.counts(); got != want[i] {
			t.Errorf("node %d got %d sockets, want %d (all: %v)", i, got, want[i], want)
		}
	}
}

func TestNodeURLsChecked(t *testing.T) {
	base := "http://127.0.0.1:1"
	for _, c := range []struct {
		nodes []string
		want  string
	}{
		{[]string{"http://10.0.0.1:8080"}, `NodeURLs[0] "http://10.0.0.1:8080": host "10.0.0.1" is not a loopback address`},
		{[]string{"http://127.0.0.1:2", "ftp://127.0.0.1:3"}, `NodeURLs[1] "ftp://127.0.0.1:3": scheme must be http or https`},
		{[]string{"http://127.0.0.1:1/"}, `NodeURLs[0] "http://127.0.0.1:1/": the node is given twice`},
		{[]string{"http://127.0.0.1:2", "http://127.0.0.1:2"}, `NodeURLs[1] "http://127.0.0.1:2": the node is given twice`},
		{[]string{"http://u@127.0.0.1:2"}, "want scheme://host:port[/path] only"},
		{[]string{""}, `NodeURLs[0] "": scheme must be http or https`},
	} {
		for name, run := range workloads() {
			_, err := run(context.Background(), Config{BaseURL: base, NodeURLs: c.nodes, Count: 1, Duration: time.Second})
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s NodeURLs %q: err %v, want ErrInvalidConfig with %q", name, c.nodes, err, c.want)
			}
		}
	}
	c, err := Config{BaseURL: base + "/", NodeURLs: []string{"http://localhost:2", "https://[::1]:3/mz/"}, Count: 1, Duration: time.Second}.check(1)
	if err != nil {
		t.Fatal(err)
	}
	want := []node{{"http://127.0.0.1:1", "ws://127.0.0.1:1/ws"}, {"http://localhost:2", "ws://localhost:2/ws"}, {"https://[::1]:3/mz", "wss://[::1]:3/mz/ws"}}
	if fmt.Sprint(c.nodes) != fmt.Sprint(want) || c.httpBase() != "http://127.0.0.1:1" {
		t.Fatalf("nodes %v, want %v", c.nodes, want)
	}
}

func TestNodeRoundRobin(t *testing.T) {
	for k, want := range map[int][]int{
		1: {0, 0, 0, 0, 0, 0, 0},
		2: {0, 1, 0, 1, 0, 1, 0},
		3: {0, 1, 2, 0, 1, 2, 0},
	} {
		r := &runner{cfg: checked{nodes: make([]node, k)}}
		for i, w := range want {
			if got := r.nodeOf(i); got != w {
				t.Errorf("%d nodes: agent %d on node %d, want %d", k, i, got, w)
			}
		}
		// Every DM pair (agents 2i, 2i+1) is split over two nodes when there are two or more.
		for i := range 10 {
			if a, b := r.nodeOf(2*i), r.nodeOf(2*i+1); k > 1 && a == b {
				t.Errorf("%d nodes: pair %d both on node %d", k, i, a)
			}
		}
	}
}

func TestConnectSpreadsOverNodes(t *testing.T) {
	// Independent servers: Connect registers each agent on the node of its socket.
	nodes := testSolos(t, 3)
	res, err := Connect(context.Background(), nodesConfig(nodes, Config{Count: 10, Duration: 30 * time.Second, Concurrency: 4}))
	if err != nil {
		t.Fatalf("connect over 3 nodes: %v", err)
	}
	if res.Count != 10 || res.Extra[ExtraNodes] != 3 {
		t.Fatalf("result %+v", res)
	}
	checkUpgrades(t, nodes, 4, 3, 3)
	for i, n := range nodes {
		if up, reg := n.counts(); reg != up {
			t.Errorf("node %d: %d registrations for %d sockets", i, reg, up)
		}
		waitNoConnections(t, n.url)
	}

	one := testSolos(t, 1)
	res, err = Connect(context.Background(), nodesConfig(one, Config{Count: 3, Duration: 30 * time.Second}))
	if err != nil || res.Extra[ExtraNodes] != 1 {
		t.Fatalf("connect on one node: %v, %+v", err, res)
	}
}

func TestDMSpreadsPairsOverNodes(t *testing.T) {
	for _, k := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d nodes", k), func(t *testing.T) {
			nodes := testCluster(t, k)
			cfg := nodesConfig(nodes, Config{Count: 60, Duration: 30 * time.Second, Concurrency: 3})
			c, err := cfg.check(1)
			if err != nil {
				t.Fatal(err)
			}
			// The pairs' sockets, seen from the servers: a and b of a pair on different nodes.
			r := newRunner(c)
			pairs, clients, err := r.setupPairs(context.Background(), 3)
			if err != nil {
				t.Fatalf("setup pairs: %v", err)
			}
			for i, p := range pairs {
				if p.a.node == p.b.node {
					t.Errorf("pair %d: both agents on node %d", i, p.a.node)
				}
				for _, cl := range []*client{p.a, p.b} {
					if addr := cl.s.nc.LocalAddr().String(); !nodes[cl.node].upgradedFrom(addr) {
						t.Errorf("pair %d: socket %s not seen by node %d", i, addr, cl.node)
					}
				}
			}
			closeAll(clients, 4)
			r.close()
			wantSetup := map[int][]int{2: {3, 3}, 3: {2, 2, 2}}[k]
			checkUpgrades(t, nodes, wantSetup...)

			// End to end: every message crosses from one node to another.
			res, err := DM(context.Background(), cfg)
			if err != nil {
				t.Fatalf("dm over %d nodes: %v", k, err)
			}
			if res.Count != 60 || res.StoppedBy != StoppedByCount || res.Extra[ExtraNodes] != float64(k) {
				t.Fatalf("result %+v", res)
			}
			checkLatency(t, res)
			want := make([]int, k)
			for i, w := range wantSetup {
				want[i] = 2 * w
			}
			checkUpgrades(t, nodes, want...)
			for _, n := range nodes {
				waitNoConnections(t, n.url)
			}
		})
	}
}

func TestFanoutSpreadsMembersOverNodes(t *testing.T) {
	for _, c := range []struct {
		nodes, group int
		want         []int // sockets per node: the sender is agent 0, on node 0
	}{
		{2, 5, []int{3, 2}},
		{3, 7, []int{3, 2, 2}},
		{3, 6, []int{2, 2, 2}},
	} {
		t.Run(fmt.Sprintf("%d nodes, %d members", c.nodes, c.group), func(t *testing.T) {
			nodes := testCluster(t, c.nodes)
			res, err := Fanout(context.Background(), nodesConfig(nodes, Config{Count: 20, Duration: 30 * time.Second, GroupSize: c.group, Concurrency: 2}))
			if err != nil {
				t.Fatalf("fanout: %v", err)
			}
			if res.Count != 20 || res.Extra["deliveries"] != float64(20*(c.group-1)) || res.Extra[ExtraNodes] != float64(c.nodes) {
				t.Fatalf("result %+v", res)
			}
			checkLatency(t, res)
			checkUpgrades(t, nodes, c.want...)
		})
	}
}

func TestMessagesNeedOneCluster(t *testing.T) {
	// Two servers on stores of their own: the second does not know the agents the first
	// registered, and the error says what is wrong.
	nodes := testSolos(t, 2)
	_, err := DM(context.Background(), nodesConfig(nodes, Config{Count: 5, Duration: 30 * time.Second}))
	for _, want := range []string{"network/connect on " + "ws" + strings.TrimPrefix(nodes[1].url, "http") + "/ws", "-32000", "the nodes must form one cluster, on one store"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("dm over two unrelated servers: err %v, want %q", err, want)
		}
	}
}

// spinner starts a child process that burns CPU until the test ends and returns its pid.
func spinner(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start spinner: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

// sleeper starts a child process that sleeps until the test ends and returns its pid.
func sleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func TestServerCPUSummedOverPIDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatal("the server CPU figures need Linux's /proc")
	}
	a, b := spinner(t), spinner(t)
	pa, pb, both := startCPU([]int{a}), startCPU([]int{b}), startCPU([]int{a, b})
	deadline := time.Now().Add(15 * time.Second)
	for {
		ca, errA := ProcessCPU(a)
		cb, errB := ProcessCPU(b)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if ca-pa.start >= 100*time.Millisecond && cb-pb.start >= 100*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spinners used %s and %s of CPU in 15 s", ca-pa.start, cb-pb.start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var ra, rb, rboth Result
	both.finish(&rboth, 10)
	pa.finish(&ra, 10)
	pb.finish(&rb, 10)
	sum := ra.Extra[ExtraServerCPU] + rb.Extra[ExtraServerCPU]
	got := rboth.Extra[ExtraServerCPU]
	// The three probes sample a few microseconds apart: they agree to a few clock ticks.
	if d := got - sum; d > float64(40*time.Millisecond) || d < -float64(40*time.Millisecond) {
		t.Fatalf("CPU of both processes %v ns, of each %v + %v = %v ns", got, ra.Extra[ExtraServerCPU], rb.Extra[ExtraServerCPU], sum)
	}
	if per := rboth.Extra[ExtraServerCPUPerOp]; per != got/10 {
		t.Errorf("per op %v, total %v", per, got)
	}

	// A process that ends during the phase makes the figure unmeasured, with the reason.
	gone := exec.Command("sleep", "60")
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	p := startCPU([]int{a, gone.Process.Pid})
	if p.reason != "" {
		t.Fatalf("start: %s", p.reason)
	}
	_ = gone.Process.Kill()
	_ = gone.Wait() // reaped: no /proc entry left
	var res Result
	p.finish(&res, 10)
	if r := res.Unmeasured[ExtraServerCPUPerOp]; !strings.Contains(r, fmt.Sprintf("no process %d", gone.Process.Pid)) {
		t.Errorf("unmeasured %q, extra %v", r, res.Extra)
	}
}

func TestResidentSumOverPIDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatal("RSS needs Linux's /proc")
	}
	a, b := sleeper(t), sleeper(t)
	time.Sleep(100 * time.Millisecond) // past exec: a sleeping process's RSS stays put
	ra, errA := residentBytes(a)
	rb, errB := residentBytes(b)
	sum, err := residentSum([]int{a, b})
	if errA != nil || errB != nil || err != nil {
		t.Fatal(errA, errB, err)
	}
	if ra <= 0 || rb <= 0 || sum != ra+rb {
		t.Fatalf("RSS %d + %d, sum %d", ra, rb, sum)
	}
	if _, err := residentSum([]int{a, 2147483647}); err == nil {
		t.Fatal("RSS of no process")
	}

	// Connect reads the RSS of every process: before the connections, the sum of both.
	base := testServer(t)
	self := os.Getpid()
	res, err := Connect(context.Background(), Config{BaseURL: base, Count: 10, Duration: 30 * time.Second, ServerPIDs: []int{self, a}})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	selfRSS, err := residentBytes(self)
	if err != nil {
		t.Fatal(err)
	}
	// This process's RSS moves a little; the sleeper's does not.
	if before := res.Extra["rss_before_bytes"]; before < float64(ra)+0.5*float64(selfRSS) || before > float64(ra)+1.5*float64(selfRSS) {
		t.Errorf("rss before %v: want about %d (test) + %d (sleeper)", before, selfRSS, ra)
	}
	if _, ok := res.Extra["rss_bytes_per_conn"]; !ok {
		t.Errorf("no rss_bytes_per_conn: %v %v", res.Extra, res.Unmeasured)
	}
}
