package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/moltzap/moltzap-go/runtime/client/clustertest"
	"github.com/moltzap/moltzap-go/runtime/client/service"
)

// TestClusterKill9UnderLoad: three moltzap-server nodes (n1, n2, n3) share one fresh
// PostgreSQL schema and fan out through NATS (a subject prefix of the test's own). Nine
// agents are spread over them, agent i on node i%3: six senders and one listener per node,
// each a runtime/client given all three URLs with its own node first. Sender 0 (on n1)
// creates the group conversation of all nine. A probe from every sender reaches every
// listener before the load starts, so every node knows where every agent is. The six
// senders then write concurrently, recording every acknowledged message with the node that
// acknowledged it and when; after 1-2 s n3 is killed with SIGKILL. n3 is the victim because
// it holds neither the conversation's creator nor the two listeners checked live. n3's
// clients reconnect to n1 (their next URL) and keep sending; 1.5 s later the load stops.
//
// Stored: the history read by each of the nine clients (n3's through the node they failed
// over to) and by a fresh client on each surviving node holds every acknowledged message
// exactly once with its acknowledged seq and text, in strictly increasing seq order with no
// gap (seqs 1..N), and all eleven readers see the same history. Every sender had messages
// acknowledged before and after the kill, n3's after it by another node.
//
// Live: the listeners on n1 and n2 never lost their connection and received every
// acknowledged message exactly once as a messages/received notification, wherever it was
// sent, even the ones n3 acknowledged just before it died (messages/send flushes the bus
// before acknowledging a message other nodes must deliver). n3's listener runs the service
// layer (runtime/client/service) and, after its failover and catch-up, has delivered every
// acknowledged message exactly once, even one with a lower seq than messages it had already
// seen that was still in flight between nodes at the kill (its catch-up starts at the
// highest seq below which it saw every seq). No listener receives anything twice, or
// anything that is not in the history.
func TestClusterKill9UnderLoad(t *testing.T) {
	const (
		senders   = 6
		nodeCount = 3
		victim    = 2 // n3: holds neither the creator (agent 0, n1) nor the live listeners
		loadAfter = 1500 * time.Millisecond
	)
	nodes := startCluster(t, nodeCount)
	agents := registerAgents(t, nodes[0].url(), "cluster", senders+nodeCount)
	clients := make([]*client.Client, len(agents))
	for i := range agents {
		clients[i] = dialAgent(t, nodes[i%nodeCount].url(), agents[i], false, func(o *client.Options) {
			o.URLs = nodeURLs(nodes) // own node first (Options.URL), then n1, n2, n3
		})
	}
	listeners := clients[senders:] // the listener of node k is listeners[k]
	logs := make([]*deliveryLog, nodeCount)
	for k := range logs {
		if k != victim {
			logs[k] = recordLive(listeners[k])
		}
	}
	g := newGroup(t, clients[0], "cluster-load", agents[1:])
	logs[victim] = recordService(t, listeners[victim])

	acks := newAckLog()
	probe(t, clients[:senders], g, acks, logs)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients[:senders] {
		wg.Add(1)
		go func() { defer wg.Done(); acks.sendUntil(c, g, fmt.Sprintf("s%d", i), stop) }()
	}
	time.Sleep(time.Second + rand.N(time.Second)) // 1-2 s of load, then the crash mid-stream
	before := acks.count()
	killedAt := time.Now()
	nodes[victim].kill9()
	waitFailover(t, clients, nodes, victim)
	failedOver := acks.count()
	time.Sleep(loadAfter)
	close(stop)
	waitSenders(t, &wg)
	t.Logf("n3 (%s) killed at %s; %d acknowledged before, %d until n3's clients were back, %d after; %d sends failed",
		nodes[victim].url(), killedAt.Format(clockFormat), before, failedOver-before, acks.count()-failedOver, acks.errors.Load())

	recs := acks.snapshot()
	victimURL := nodes[victim].url()
	for i := range senders {
		checkSenderFailover(t, fmt.Sprintf("s%d", i), recs, i%nodeCount == victim, victimURL, killedAt)
	}
	hist := checkAllHistories(t, clients, nodes, victim, agents, g, recs)
	for _, l := range logs {
		l.wait(recs)
	}
	time.Sleep(300 * time.Millisecond) // a duplicate delivery would show up by now
	for k, l := range logs {
		label := fmt.Sprintf("listener on n%d", k+1)
		if k == victim {
			label = fmt.Sprintf("service listener homed on n%d", k+1)
		} else {
			l.checkStayed(t, label)
		}
		checkDelivered(t, label, l, recs, hist)
	}
	if t.Failed() {
		for k, n := range nodes {
			t.Logf("n%d log:\n%s", k+1, tail(n.out.String(), 3000))
		}
	}
}

// clockFormat shows the acknowledgement and kill times in failure messages.
const clockFormat = "15:04:05.000000"

// testNATSURL is the NATS of the cluster tests (MOLTZAP_TEST_NATS_URL overrides it).
func testNATSURL() string {
	if u := os.Getenv("MOLTZAP_TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// requireNATS fails the test unless the NATS of testNATSURL accepts a TCP connection.
func requireNATS(t *testing.T) {
	t.Helper()
	u, err := url.Parse(testNATSURL())
	if err != nil {
		t.Fatalf("NATS URL %q: %v", testNATSURL(), err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 3*time.Second)
	if err != nil {
		t.Fatalf("NATS is required at %s (start it, e.g. with .ci/run or `nats-server -a 127.0.0.1 -p 4222`, or set MOLTZAP_TEST_NATS_URL): %v", testNATSURL(), err)
	}
	_ = c.Close()
}

// startCluster starts n nodes (n1, n2, ...) on one fresh PostgreSQL schema and a NATS
// prefix of the test's own, and waits until every node hears from all the others.
func startCluster(t *testing.T, n int) []*srvProc {
	t.Helper()
	requireNATS(t)
	dbURL := clustertest.FreshSchema(t) // fails the test, with how to start it, without PostgreSQL
	prefix := fmt.Sprintf("rel%d", time.Now().UnixNano())
	nodes := make([]*srvProc, n)
	for k := range nodes {
		nodes[k] = startServer(t, freeAddr(t), t.TempDir(), "--database-url", dbURL,
			"--nats-url", testNATSURL(), "--nats-prefix", prefix, "--node-id", fmt.Sprintf("n%d", k+1))
	}
	for k, p := range nodes {
		if !waitFor(15*time.Second, func() bool { return remoteNodes(p) == n-1 }) {
			t.Fatalf("n%d hears from %d other nodes after 15 s, want %d\n%s", k+1, remoteNodes(p), n-1, tail(p.out.String(), 3000))
		}
	}
	return nodes
}

var remoteNodesLine = regexp.MustCompile(`(?m)^moltzap_cluster_remote_nodes (\d+)`)

// remoteNodes reads moltzap_cluster_remote_nodes from p's /metrics (-1 when unreadable).
func remoteNodes(p *srvProc) int {
	code, body := httpGet(p.url() + "/metrics")
	m := remoteNodesLine.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func nodeURLs(nodes []*srvProc) []string {
	out := make([]string, len(nodes))
	for k, n := range nodes {
		out[k] = n.url()
	}
	return out
}

// ackRecord is one acknowledged message: its seq and text, the sender, the URL of the node
// that acknowledged it ("" when the connection changed around the call) and when.
type ackRecord struct {
	ackedMsg
	sender string
	via    string
	at     time.Time
}

// ackLog records the acknowledged messages of every sender.
type ackLog struct {
	mu     sync.Mutex
	recs   map[protocol.MessageID]ackRecord
	errors atomic.Int64
}

func newAckLog() *ackLog { return &ackLog{recs: map[protocol.MessageID]ackRecord{}} }

// send sends txt as sender through c and records it when acknowledged.
func (l *ackLog) send(c *client.Client, g group, sender, txt string) (protocol.MessageID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	via := c.URL()
	res, err := c.MessagesSend(ctx, protocol.MessagesSendParams{TaskID: g.Task, ConversationID: g.Conv, Parts: text(txt)})
	if err != nil {
		l.errors.Add(1)
		return "", fmt.Errorf("send %s: %w", txt, err)
	}
	now := time.Now()
	if c.URL() != via {
		via = ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs[res.Message.ID] = ackRecord{ackedMsg: ackedMsg{Seq: res.Message.Seq, Text: txt}, sender: sender, via: via, at: now}
	return res.Message.ID, nil
}

// sendUntil sends sender-0, sender-1, ... through c until stop closes. After a failed send
// (the node died under it, or the client is reconnecting), which may or may not have been
// stored, it pauses briefly and goes on with the next message.
func (l *ackLog) sendUntil(c *client.Client, g group, sender string, stop <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := l.send(c, g, sender, fmt.Sprintf("%s-%d", sender, n)); err != nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (l *ackLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

func (l *ackLog) snapshot() map[protocol.MessageID]ackRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[protocol.MessageID]ackRecord, len(l.recs))
	for id, r := range l.recs {
		out[id] = r
	}
	return out
}

// ackedMsgs returns the seq and text of every record, the form checkHistory takes.
func ackedMsgs(recs map[protocol.MessageID]ackRecord) map[protocol.MessageID]ackedMsg {
	out := make(map[protocol.MessageID]ackedMsg, len(recs))
	for id, r := range recs {
		out[id] = r.ackedMsg
	}
	return out
}

// deliveryLog counts the messages delivered to one listener, by message id.
type deliveryLog struct {
	mu    sync.Mutex
	got   map[protocol.MessageID]int
	top   uint64 // the highest seq delivered
	drops int    // unexpected disconnects of the listener's client
	// topAtDrop is top at the first disconnect: where the service's catch-up starts.
	topAtDrop uint64
}

func newDeliveryLog(c *client.Client) *deliveryLog {
	l := &deliveryLog{got: map[protocol.MessageID]int{}}
	c.OnDisconnect(func(client.CloseInfo) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.drops++; l.drops == 1 {
			l.topAtDrop = l.top
		}
	})
	return l
}

func (l *deliveryLog) add(m protocol.Message) {
	n, _ := strconv.ParseUint(string(m.Seq), 10, 64)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got[m.ID]++
	l.top = max(l.top, n)
}

// recordLive counts c's messages/received notifications and its disconnects.
func recordLive(c *client.Client) *deliveryLog {
	l := newDeliveryLog(c)
	client.On(c, func(n protocol.MessagesReceivedNotification) { l.add(n.Message) })
	return l
}

// recordService runs the service layer on c (live messages, and the catch-up after a
// reconnect) and counts what it delivers; its dedup window covers the whole test.
func recordService(t *testing.T, c *client.Client) *deliveryLog {
	t.Helper()
	svc := service.New(c, service.Options{DedupWindow: 1 << 20})
	t.Cleanup(svc.Close)
	l := newDeliveryLog(c)
	svc.Messages(func(_ string, m protocol.Message) { l.add(m) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatalf("service start: %v", err)
	}
	return l
}

// missing returns how many of ids l has not received.
func (l *deliveryLog) missing(ids []protocol.MessageID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, id := range ids {
		if l.got[id] == 0 {
			n++
		}
	}
	return n
}

// wait waits up to 10 s until l has received every record not in except.
func (l *deliveryLog) wait(recs map[protocol.MessageID]ackRecord) {
	ids := make([]protocol.MessageID, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	waitFor(10*time.Second, func() bool { return l.missing(ids) == 0 })
}

// snapshot returns the delivery counts, the number of disconnects and topAtDrop.
func (l *deliveryLog) snapshot() (map[protocol.MessageID]int, int, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[protocol.MessageID]int, len(l.got))
	for id, n := range l.got {
		out[id] = n
	}
	return out, l.drops, l.topAtDrop
}

// probe has every sender send one message and waits until every listener received them
// all: from then on each node routes the conversation to the other nodes' listeners.
func probe(t *testing.T, senders []*client.Client, g group, acks *ackLog, logs []*deliveryLog) {
	t.Helper()
	ids := make([]protocol.MessageID, 0, len(senders))
	for i, c := range senders {
		name := fmt.Sprintf("probe%d", i)
		id, err := acks.send(c, g, name, name)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for k, l := range logs {
		if !waitFor(10*time.Second, func() bool { return l.missing(ids) == 0 }) {
			t.Fatalf("the listener on n%d misses %d of the %d probes after 10 s", k+1, l.missing(ids), len(ids))
		}
	}
}

// waitFailover waits until the clients homed on the victim are connected to another node.
func waitFailover(t *testing.T, clients []*client.Client, nodes []*srvProc, victim int) {
	t.Helper()
	dead := nodes[victim].url()
	for i, c := range clients {
		if i%len(nodes) != victim {
			continue
		}
		if !waitFor(10*time.Second, func() bool { return c.State() == client.Connected && c.URL() != dead }) {
			t.Fatalf("client %d (homed on n%d) not connected elsewhere 10 s after the kill: %v on %s", i, victim+1, c.State(), c.URL())
		}
	}
}

// waitSenders waits for the senders to stop.
func waitSenders(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("senders still running 20 s after the load stopped")
	}
}

// checkSenderFailover asserts that sender had messages acknowledged before and after the
// kill and, when it was homed on the victim, some after it by another node.
func checkSenderFailover(t *testing.T, sender string, recs map[protocol.MessageID]ackRecord, onVictim bool, victimURL string, killedAt time.Time) {
	t.Helper()
	var pre, post, elsewhere int
	for _, r := range recs {
		switch {
		case r.sender != sender:
		case r.at.Before(killedAt):
			pre++
		default:
			post++
			if r.via != "" && r.via != victimURL {
				elsewhere++
			}
		}
	}
	if pre == 0 || post == 0 {
		t.Errorf("sender %s: %d messages acknowledged before the kill and %d after; want some of both", sender, pre, post)
	}
	if onVictim && elsewhere == 0 {
		t.Errorf("sender %s (homed on the killed node) had no message acknowledged by another node after the kill", sender)
	}
}

// checkAllHistories checks the history read by every client and by a fresh client on each
// surviving node, and that they all agree; it returns the history.
func checkAllHistories(t *testing.T, clients []*client.Client, nodes []*srvProc, victim int, agents []agent, g group, recs map[protocol.MessageID]ackRecord) []protocol.Message {
	t.Helper()
	type reader struct {
		label string
		c     *client.Client
	}
	var readers []reader
	for i, c := range clients {
		readers = append(readers, reader{fmt.Sprintf("client %d (homed on n%d, now on %s)", i, i%len(nodes)+1, c.URL()), c})
	}
	for k, n := range nodes {
		if k != victim {
			fresh := dialAgent(t, n.url(), agents[len(agents)-1], true, nil)
			readers = append(readers, reader{fmt.Sprintf("fresh client on n%d", k+1), fresh})
		}
	}
	acked := ackedMsgs(recs)
	var ref []protocol.Message
	for i, r := range readers {
		hist := history(t, r.c, g)
		extra := checkHistory(t, r.label, hist, acked)
		checkContiguous(t, r.label, hist)
		if i == 0 {
			ref = hist
			t.Logf("history: %d messages, %d acknowledged, %d stored but unacknowledged (in flight at the kill)", len(hist), len(acked), extra)
		} else {
			sameHistory(t, r.label, hist, readers[0].label, ref)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	return ref
}

// checkContiguous asserts that the seqs of hist are exactly 1, 2, ..., len(hist).
func checkContiguous(t *testing.T, label string, hist []protocol.Message) {
	t.Helper()
	for i, m := range hist {
		if n := seqNum(t, m.Seq); n != uint64(i+1) {
			t.Errorf("%s: history entry %d has seq %d, want %d (a gap in the stored seqs)", label, i, n, i+1)
			return
		}
	}
}

// sameHistory asserts that two readers saw the same messages in the same order.
func sameHistory(t *testing.T, label string, hist []protocol.Message, refLabel string, ref []protocol.Message) {
	t.Helper()
	if len(hist) != len(ref) {
		t.Errorf("%s: history has %d messages, %s has %d", label, len(hist), refLabel, len(ref))
		return
	}
	for i := range hist {
		if hist[i].ID != ref[i].ID || hist[i].Seq != ref[i].Seq {
			t.Errorf("%s: history entry %d is %s (seq %s), %s has %s (seq %s)", label, i, hist[i].ID, hist[i].Seq, refLabel, ref[i].ID, ref[i].Seq)
			return
		}
	}
}

// checkStayed asserts that the listener of l never lost its connection.
func (l *deliveryLog) checkStayed(t *testing.T, label string) {
	t.Helper()
	if _, drops, _ := l.snapshot(); drops != 0 {
		t.Errorf("%s: lost its connection %d times; it should have stayed on its node", label, drops)
	}
}

// checkDelivered asserts that l received every acknowledged message exactly once, and
// nothing outside hist.
func checkDelivered(t *testing.T, label string, l *deliveryLog, recs map[protocol.MessageID]ackRecord, hist []protocol.Message) {
	t.Helper()
	got, _, _ := l.snapshot()
	missing := 0
	for id, r := range recs {
		switch n := got[id]; {
		case n == 0:
			if missing++; missing <= 10 {
				t.Errorf("%s: never received %s (seq %s, %q, acknowledged by %q at %s)", label, id, r.Seq, r.Text, r.via, r.at.Format(clockFormat))
			}
		case n > 1:
			t.Errorf("%s: received %s (seq %s, %q) %d times", label, id, r.Seq, r.Text, n)
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged messages never received", label, missing, len(recs))
	}
	stored := make(map[protocol.MessageID]bool, len(hist))
	for _, m := range hist {
		stored[m.ID] = true
	}
	for id, n := range got {
		if !stored[id] {
			t.Errorf("%s: received %s (%d times), which is not in the history", label, id, n)
		} else if _, ok := recs[id]; !ok && n > 1 {
			t.Errorf("%s: received the unacknowledged %s %d times", label, id, n)
		}
	}
	t.Logf("%s: received %d distinct messages (%d acknowledged)", label, len(got), len(recs))
}
