package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/bus/natsbus"
	"github.com/moltzap/moltzap-go/runtime/server"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/postgres"
	"github.com/moltzap/moltzap-go/runtime/store/sqlite"
)

// clHeartbeat is the cluster heartbeat of the test nodes: a node is dead after 3 of them.
const clHeartbeat = 200 * time.Millisecond

// clNode is one server node of a test cluster, with the bus it was given.
type clNode struct {
	*env
	id  string
	bus bus.Bus
}

// kill makes the node vanish from the cluster without a goodbye: its bus connection is cut
// at once (the server keeps running, as a node whose network failed would).
func (n *clNode) kill() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.bus.Close(ctx)
}

// clStarter starts the nodes of one cluster: each call another node on the same store and
// broker.
type clStarter func(t *testing.T, id string) *clNode

// startNode runs a server over st and b as node id; it is shut down (then its store and
// bus closed by the caller's cleanups) at the end of the test.
func startNode(t *testing.T, id string, st store.Store, b bus.Bus) *clNode {
	t.Helper()
	srv, err := server.New(server.Config{Bus: b, NodeID: id, ClusterHeartbeat: clHeartbeat, HealthInterval: 100 * time.Millisecond}, st)
	if err != nil {
		t.Fatalf("node %s: %v", id, err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("node %s shutdown: %v", id, err)
		}
		hs.Close()
	})
	return &clNode{env: &env{t: t, srv: srv, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}, id: id, bus: b}
}

// inprocCluster starts nodes on one in-process bus hub and one SQLite store.
func inprocCluster(t *testing.T) clStarter {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hub := bus.NewHub()
	return func(t *testing.T, id string) *clNode {
		b := hub.Connect()
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		return startNode(t, id, st, b)
	}
}

// testNATSURL is the NATS the cluster tests use (MOLTZAP_TEST_NATS_URL overrides it).
func testNATSURL() string {
	if u := os.Getenv("MOLTZAP_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// testPostgresURL is the PostgreSQL the cluster tests use (MOLTZAP_TEST_DATABASE_URL
// overrides it).
func testPostgresURL() string {
	if u := os.Getenv("MOLTZAP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// realCluster starts nodes on the real services: one NATS connection each (in a namespace
// of the test's own) and one PostgreSQL pool each on a fresh schema. Either service
// missing fails the test.
func realCluster(t *testing.T) clStarter {
	suffix := time.Now().UnixNano()
	schema, namespace := fmt.Sprintf("t_cluster_%d", suffix), fmt.Sprintf("t%d", suffix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, testPostgresURL()); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			_ = c.Close(ctx)
		}
	})
	return func(t *testing.T, id string) *clNode {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := postgres.Open(ctx, testPostgresURL(), postgres.Options{Schema: schema})
		if err != nil {
			t.Fatalf("PostgreSQL is required at %s (start it, or set MOLTZAP_TEST_DATABASE_URL): %v", testPostgresURL(), err)
		}
		t.Cleanup(func() { _ = st.Close() })
		b, err := natsbus.Connect(ctx, testNATSURL(), natsbus.Options{Namespace: namespace, Name: id})
		if err != nil {
			t.Fatalf("NATS is required at %s (start nats-server, or set MOLTZAP_TEST_NATS_URL): %v", testNATSURL(), err)
		}
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		return startNode(t, id, st, b)
	}
}

// eventually polls cond every 20 ms until it holds or within fails.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPresence waits until watcher sees agentID's status through presence/subscribe (a
// fresh snapshot each time), i.e. until the cluster has propagated it.
func waitPresence(t *testing.T, watcher *peer, agentID, status string) {
	t.Helper()
	eventually(t, 5*time.Second, agentID+" "+status+" seen", func() bool {
		var res protocol.PresenceSubscribeResult
		watcher.mustCall("presence/subscribe", map[string]any{"agentIds": []string{agentID}}, &res)
		return len(res.Statuses) == 1 && string(res.Statuses[0].Status) == status
	})
}

// waitApp waits until node n knows the app's TaskMaster (on another node): a second
// registration of the app is then refused there.
func waitApp(t *testing.T, n *clNode, appID string) {
	t.Helper()
	eventually(t, 5*time.Second, "app directory on node "+n.id, func() bool {
		other := n.connectAs(n.register("dup"))
		defer other.close()
		_, werr := other.call("apps/register", map[string]any{"manifest": map[string]any{"appId": appID, "name": "dup"}})
		return werr != nil && werr.Code == -32001
	})
}

// countNotes counts the notifications of method matching match that p received so far.
func countNotes(p *peer, method string, match func(json.RawMessage) bool) int {
	n := 0
	for _, raw := range p.notesOf(method) {
		if match(raw) {
			n++
		}
	}
	return n
}

func presenceIs(agentID, status string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool { return field("agentId", agentID)(raw) && field("status", status)(raw) }
}

const clOwner = "7a5c0000-0000-4000-8000-00000000c1a5"

// TestClusterOnNATSAndPostgreSQL is the cluster against the real services: three nodes on
// one PostgreSQL and one NATS, agent A on node 1, agent B on node 2, the TaskMaster on
// node 3.
func TestClusterOnNATSAndPostgreSQL(t *testing.T) { runClusterScenario(t, realCluster(t)) }

// TestClusterInProcess runs the same scenario on an in-process hub and one SQLite store.
func TestClusterInProcess(t *testing.T) { runClusterScenario(t, inprocCluster(t)) }

func runClusterScenario(t *testing.T, start clStarter) {
	n1, n2, n3 := start(t, "n1"), start(t, "n2"), start(t, "n3")
	a, b, tmAgent := n1.register("a"), n1.register("b"), n2.register("tm")
	n1.claim(a, clOwner)
	n3.claim(b, clOwner)

	// The TaskMaster on node 3: accepts tasks, forwards messages to every other member,
	// grants or denies dispatches as the test says.
	var deny atomic.Bool
	var callsMu sync.Mutex
	calls := map[string]int{}
	tm := n3.connectAs(tmAgent)
	tm.answer(func(method string, params json.RawMessage) (any, error) {
		callsMu.Lock()
		calls[method]++
		callsMu.Unlock()
		switch method {
		case protocol.CallbackTaskCreate:
			return map[string]any{"verdict": map[string]any{"decision": "accept"}}, nil
		case protocol.CallbackMessagesAuthorize:
			var p protocol.MessagesAuthorizeParams
			if err := json.Unmarshal(params, &p); err != nil {
				return nil, err
			}
			to := b.ID
			if string(p.Message.SenderAgentID) == b.ID {
				to = a.ID
			}
			return map[string]any{"verdict": map[string]any{"decision": "Forward", "recipients": []string{to}}}, nil
		case protocol.CallbackDispatchAuthorize:
			if deny.Load() {
				return map[string]any{"admission": map[string]any{"decision": "deny", "reason": "not now"}}, nil
			}
			return map[string]any{"admission": map[string]any{"decision": "grant", "leaseTimeoutMs": 30000}}, nil
		}
		return nil, protocol.MethodNotFoundError{}
	})
	appID := "c1a5c1a5-0000-4000-8000-000000000001"
	tm.mustCall("apps/register", map[string]any{"manifest": map[string]any{"appId": appID, "name": "cluster app"}}, nil)

	pa, pb := n1.connectAs(a), n2.connectAs(b)
	waitPresence(t, pa, b.ID, "online") // node 1 knows B is on node 2
	waitPresence(t, pb, a.ID, "online")
	waitApp(t, n1, appID)

	// 1. A task request on node 1: task/create is answered by the TaskMaster on node 3.
	res := tkRequest(pa, appID, []string{b.ID}, map[string]any{"name": "c", "participants": []string{b.ID}})
	if res.Task.Status != protocol.TaskStatusActive {
		t.Fatalf("task status %s, want active (accepted by the TaskMaster on node 3)", res.Task.Status)
	}
	taskID := string(res.Task.ID)
	pb.waitNote("task/created", nil, nil)
	var created struct {
		ConversationID string `json:"conversationId"`
	}
	pb.waitNote("task/conversation/created", nil, &created)
	convID := created.ConversationID

	// 2. A message from A on node 1, forwarded by the TaskMaster, delivered to B on node 2
	// (through the fan-out gate B's node opened from task/conversation/created).
	var sent protocol.MessagesSendResult
	pa.mustCall("messages/send", map[string]any{"taskId": taskID, "conversationId": convID, "parts": textParts("hello B")}, &sent)
	var got struct {
		Message protocol.Message `json:"message"`
	}
	pb.waitNote("messages/received", messageID(sent.Message.ID), &got)
	if got.Message.SenderID != protocol.AgentID(a.ID) {
		t.Fatalf("B got a message from %s", got.Message.SenderID)
	}

	// 3. Dispatch on node 2: dispatch/authorize goes to the TaskMaster on node 3. Granted:
	// B spends the lease, A gets the reply and the TaskMaster dispatches/consumed.
	dispatch := func() release {
		var ack protocol.DispatchRequestResult
		pb.mustCall("dispatch/request", map[string]any{"conversationId": convID, "messageId": string(sent.Message.ID),
			"senderAgentId": a.ID, "parts": textParts("hello B")}, &ack)
		var rel release
		pb.waitNote("dispatch/release", field("leaseId", string(ack.LeaseID)), &rel)
		return rel
	}
	rel := dispatch()
	if decisionOf(rel) != "grant" {
		t.Fatalf("first dispatch: %+v, want the TaskMaster's grant", rel)
	}
	var reply protocol.MessagesSendResult
	pb.mustCall("messages/send", map[string]any{"taskId": taskID, "conversationId": convID, "parts": textParts("on it"), "dispatchLeaseId": rel.LeaseID}, &reply)
	pa.waitNote("messages/received", messageID(reply.Message.ID), nil)
	tm.waitNote("dispatches/consumed", field("leaseId", rel.LeaseID), nil)

	// Denied: B gets the deny and is evicted; A (node 1) and B see the removal.
	deny.Store(true)
	rel = dispatch()
	if decisionOf(rel) != "deny" || reasonOf(rel) != "not now" {
		t.Fatalf("second dispatch: %+v, want the TaskMaster's deny", rel)
	}
	pb.waitNote("task/conversation/participants/removed", field("removedAgentId", b.ID), nil)
	pa.waitNote("task/conversation/participants/removed", field("removedAgentId", b.ID), nil)
	callsMu.Lock()
	if calls[protocol.CallbackTaskCreate] != 1 || calls[protocol.CallbackDispatchAuthorize] != 2 || calls[protocol.CallbackMessagesAuthorize] < 2 {
		t.Errorf("TaskMaster callbacks %v, want 1 task/create, 2 dispatch/authorize, 2+ messages/authorize", calls)
	}
	callsMu.Unlock()

	// 4. Presence across nodes: B on node 2 watches A on node 1; A disconnects.
	pb.mustCall("presence/subscribe", map[string]any{"agentIds": []string{a.ID}}, nil)
	pa.close()
	pb.waitNote("presence/changed", presenceIs(a.ID, "offline"), nil)

	// 5. Node death: A back on node 1, then node 1 vanishes without a goodbye.
	offlines := countNotes(pb, "presence/changed", presenceIs(a.ID, "offline"))
	n1.connectAs(a)
	pb.waitNote("presence/changed", presenceIs(a.ID, "online"), nil)
	killed := time.Now()
	n1.kill()
	eventually(t, 5*time.Second, "A offline on node 2 after node 1 died", func() bool {
		return countNotes(pb, "presence/changed", presenceIs(a.ID, "offline")) > offlines
	})
	if d := time.Since(killed); d > 3*time.Second {
		t.Fatalf("node death noticed after %s", d)
	}
	t.Logf("node death noticed after %s", time.Since(killed).Round(time.Millisecond))

	// The node without its bus refuses new sockets and says why.
	eventually(t, 3*time.Second, "node 1 refuses sockets", func() bool {
		code, body := wsUpgradeStatus(t, n1.http.URL)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "bus unavailable")
	})
	code, body := readyz(t, n1.http.URL)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"bus"`) {
		t.Fatalf("/readyz of the node without bus: %d %s", code, body)
	}
	if code, body := readyz(t, n2.http.URL); code != http.StatusOK || !strings.Contains(body, `"bus":"ok"`) {
		t.Fatalf("/readyz of a healthy node: %d %s", code, body)
	}
	if m := metricsText(t, n2.http.URL); !strings.Contains(m, `moltzap_bus_received_total{kind="notify"}`) ||
		!strings.Contains(m, `moltzap_bus_lag_seconds_count{kind="presence"}`) || !strings.Contains(m, `moltzap_bus_published_total{kind="presence"}`) {
		t.Fatalf("node 2 /metrics lacks the bus figures:\n%s", grepLines(m, "moltzap_bus"))
	}
}

// wsUpgradeStatus tries a WebSocket upgrade with a plain HTTP request.
func wsUpgradeStatus(t *testing.T, base string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, "" // a WebSocket now: do not wait for it to end
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestClusterAgentOnTwoNodes: an agent with sockets on two nodes is online until both
// close.
func TestClusterAgentOnTwoNodes(t *testing.T) {
	start := inprocCluster(t)
	n1, n2, n3 := start(t, "n1"), start(t, "n2"), start(t, "n3")
	a, w := n1.register("a"), n1.register("w")
	n1.claim(a, clOwner)
	n1.claim(w, clOwner)
	watcher := n3.connectAs(w)
	on1, on2 := n1.connectAs(a), n2.connectAs(a)
	waitPresence(t, watcher, a.ID, "online")
	on1.close()
	watcher.noNewNote("presence/changed", presenceIs(a.ID, "offline"), 4*clHeartbeat) // a heartbeat or two passes
	waitPresence(t, watcher, a.ID, "online")
	on2.close()
	watcher.waitNote("presence/changed", presenceIs(a.ID, "offline"), nil)
}

// TestClusterRateLimitAcrossNodes: requests admitted on one node are charged to the same
// agent's bucket on the other node (shared every 100 ms).
func TestClusterRateLimitAcrossNodes(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hub := bus.NewHub()
	node := func(id string) *env {
		b := hub.Connect()
		srv, err := server.New(server.Config{Bus: b, NodeID: id, ClusterHeartbeat: clHeartbeat, Limits: server.Limits{RequestsPerMinute: 20}}, st)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { _ = srv.Shutdown(context.Background()); hs.Close(); _ = b.Close(context.Background()) })
		return &env{t: t, srv: srv, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	}
	n1, n2 := node("n1"), node("n2")
	a := n1.register("a")
	n1.claim(a, clOwner)
	p2 := n2.connectAs(a)
	time.Sleep(100 * time.Millisecond) // node 1 learns that node 2 holds the agent
	p1 := n1.connectAs(a)
	for i := range 15 {
		if _, werr := p1.call("network/ping", map[string]any{}); werr != nil {
			t.Fatalf("ping %d on node 1: %v", i, werr)
		}
	}
	time.Sleep(300 * time.Millisecond) // at least two usage exchanges
	allowed := 0
	for range 10 {
		if _, werr := p2.call("network/ping", map[string]any{}); werr == nil {
			allowed++
		} else if werr.Code != -32004 {
			t.Fatalf("ping on node 2: %d %s", werr.Code, werr.Message)
		}
	}
	// 20 a minute in all, bursts of 20: 15 used on node 1 leave 5 on node 2 (10 without
	// the exchange).
	if allowed != 5 {
		t.Fatalf("node 2 admitted %d of 10 requests after 15 on node 1, want 5 (of 20 a minute)", allowed)
	}
}

// flakyStore is a store whose Ping fails while down is set (a lost PostgreSQL).
type flakyStore struct {
	store.Store
	down atomic.Bool
}

func (f *flakyStore) Ping(context.Context) error {
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLostStoreRefusesSockets: a node whose (shared) store stops answering refuses new
// WebSockets with 503 and the reason, logs it once, keeps its live sockets, and accepts
// again once the store is back.
func TestLostStoreRefusesSockets(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	flaky := &flakyStore{Store: st}
	var logs syncBuffer
	e := newEnvOn(t, flaky, server.Config{SharedStore: true, HealthInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	live := e.connectAs(e.register("live"))
	flaky.down.Store(true)
	eventually(t, 3*time.Second, "sockets refused", func() bool {
		code, body := wsUpgradeStatus(t, e.http.URL)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "store unavailable: connection refused")
	})
	if n := strings.Count(logs.String(), "refusing new sockets"); n != 1 {
		t.Fatalf("%d log lines about refusing sockets, want 1:\n%s", n, logs.String())
	}
	live.mustCall("network/ping", map[string]any{}, nil) // the live socket is kept
	flaky.down.Store(false)
	eventually(t, 3*time.Second, "sockets accepted again", func() bool {
		code, _ := wsUpgradeStatus(t, e.http.URL)
		return code == http.StatusSwitchingProtocols
	})
	if !strings.Contains(logs.String(), "accepting sockets again") {
		t.Fatalf("no log line about accepting again:\n%s", logs.String())
	}
}

// newEnvOn runs a server over st with cfg (the caller closes st).
func newEnvOn(t *testing.T, st store.Store, cfg server.Config) *env {
	t.Helper()
	srv, err := server.New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return &env{t: t, srv: srv, http: hs, ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
}

// tcpProxy forwards connections to target until cut; while cut it refuses them.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// setCut cuts (closing every forwarded connection) or restores the proxy.
func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
	}
}

// TestNATSOutageAndReturn: a node whose NATS connection breaks refuses new sockets ("bus
// unavailable") and is dropped by the others (its agents go offline there); once NATS is
// reachable again it reconnects, re-announces itself and its agents are online again.
func TestNATSOutageAndReturn(t *testing.T) {
	u, err := url.Parse(testNATSURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	suffix := time.Now().UnixNano()
	namespace := fmt.Sprintf("t%d", suffix)
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	node := func(id, natsURL string) *clNode {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := natsbus.Connect(ctx, natsURL, natsbus.Options{Namespace: namespace, Name: id, ReconnectWait: 100 * time.Millisecond})
		if err != nil {
			t.Fatalf("NATS is required at %s: %v", testNATSURL(), err)
		}
		t.Cleanup(func() { _ = b.Close(context.Background()) })
		return startNode(t, id, st, b)
	}
	n1, n2 := node("n1", "nats://"+proxy.addr()), node("n2", testNATSURL())
	a, w := n1.register("a"), n1.register("w")
	n1.claim(a, clOwner)
	n1.claim(w, clOwner)
	n1.connectAs(a)
	watcher := n2.connectAs(w)
	waitPresence(t, watcher, a.ID, "online")

	proxy.setCut(true)
	eventually(t, 3*time.Second, "node 1 refuses sockets", func() bool {
		code, body := wsUpgradeStatus(t, n1.http.URL)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "bus unavailable: nats")
	})
	watcher.waitNote("presence/changed", presenceIs(a.ID, "offline"), nil) // node 1 went silent

	proxy.setCut(false)
	watcher.waitNote("presence/changed", presenceIs(a.ID, "online"), nil) // back, state re-sent
	eventually(t, 3*time.Second, "node 1 accepts sockets again", func() bool {
		code, _ := wsUpgradeStatus(t, n1.http.URL)
		return code == http.StatusSwitchingProtocols
	})
}

// TestClusterTaskMasterFailsClosed: a TaskMaster on another node that answers with an
// error, answers nonsense or does not answer in time gives the same verdicts as on one
// node (REFERENCE 11.3).
func TestClusterTaskMasterFailsClosed(t *testing.T) {
	start := inprocCluster(t)
	n1, n2 := start(t, "n1"), start(t, "n2")
	a, b := n1.register("a"), n1.register("b")
	n1.claim(a, clOwner)
	n1.claim(b, clOwner)
	pa := n1.connectAs(a)
	n1.connectAs(b)
	tmOn2 := func(manifest map[string]any, cb func(string, json.RawMessage) (any, error)) string {
		p := n2.connectAs(n2.register("tm"))
		p.answer(cb)
		appID := uuid.NewString()
		manifest["appId"], manifest["name"] = appID, "remote app"
		p.mustCall("apps/register", map[string]any{"manifest": manifest}, nil)
		waitApp(t, n1, appID)
		return appID
	}
	expect := func(appID, reason string) {
		t.Helper()
		werr := pa.wantError("task/request", map[string]any{"appId": appID, "invitedAgentIds": []string{b.ID}}, -32024)
		if d := tkRejected(t, werr, werr.Data); tkReason(d) != reason {
			t.Fatalf("reason %q, want %q", tkReason(d), reason)
		}
	}
	expect(tmOn2(map[string]any{}, func(string, json.RawMessage) (any, error) { return nil, protocol.ForbiddenError{} }), "tm_unreachable")
	expect(tmOn2(map[string]any{}, func(string, json.RawMessage) (any, error) {
		return map[string]any{"verdict": map[string]any{"decision": "maybe"}}, nil
	}), "tm_unreachable")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := tmOn2(map[string]any{"hooks": map[string]any{"task_create": map[string]any{"timeout_ms": 200}}},
		func(string, json.RawMessage) (any, error) {
			<-release
			return map[string]any{"verdict": map[string]any{"decision": "accept"}}, nil
		})
	began := time.Now()
	expect(slow, "timeout")
	if d := time.Since(began); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("the 200 ms hook timeout took %s", d)
	}
}
