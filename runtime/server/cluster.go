package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/server/presence"
)

// cluster is this node's side of the fan-out between server nodes over Config.Bus (see
// docs/cluster.md for the whole picture). It keeps, from what the other nodes publish on
// the cluster subject, a directory of the live remote nodes: which agents each holds
// connections of (presence and routing) and which apps' TaskMasters each serves.
//
// A node without Config.Bus is solo: its bus is private, so no other node can exist; the
// cluster then subscribes and publishes nothing and every routing question is answered by
// one atomic load (no remote node), which keeps the single-node paths as they were.
//
// Order of locks: applyMu -> pubMu -> appRegistry.mu -> Conn.mu, and applyMu -> mu. The
// presence engine never holds its lock while it calls back; a goroutine that holds applyMu
// may deliver the engine's queued events, so localPresence (pubMu) runs under applyMu.
type cluster struct {
	s    *Server
	bus  bus.Bus
	node string
	solo bool          // the bus is private (no Config.Bus): closed by Shutdown
	hb   time.Duration // heartbeat interval; silent for deadAfter heartbeats = dead

	// pubMu orders this node's cluster publications and numbers them (seq): a receiver
	// that sees a gap asks for a full state.
	pubMu sync.Mutex
	seq   uint64

	// applyMu serialises changes of the directory together with the presence engine and
	// app registry calls that mirror them.
	applyMu sync.Mutex

	mu      sync.RWMutex
	nodes   map[string]*remoteNode
	byAgent map[protocol.AgentID][]string // remote nodes holding connections of the agent
	live    atomic.Int32                  // len(nodes): the fast path's only read

	subsMu  sync.Mutex
	subs    []bus.Subscription
	appSubs map[protocol.AppID]bus.Subscription

	stop     chan struct{}
	done     chan struct{}
	wasDown  bool // the bus was unhealthy at the last tick (ticker goroutine only)
	stopOnce sync.Once
}

// remoteNode is what this node knows of another.
type remoteNode struct {
	lastSeen    time.Time
	seq         uint64 // seq of the last message applied
	synced      bool   // a full state was applied and no gap seen since
	lastSyncReq time.Time
	agents      map[protocol.AgentID]protocol.PresenceStatus
}

// Cluster timing.
const (
	deadAfter         = 3                      // heartbeats of silence before a node is dead
	fullStateEvery    = 30                     // heartbeats between two unsolicited full states
	usageFlushEvery   = 100 * time.Millisecond // rate-limit usage shared this often
	clusterCloseGrace = 2 * time.Second        // bound of the bus drain when Shutdown has none
)

func newCluster(s *Server, b bus.Bus, solo bool) *cluster {
	return &cluster{
		s: s, bus: b, node: s.cfg.NodeID, solo: solo, hb: s.cfg.ClusterHeartbeat,
		nodes: map[string]*remoteNode{}, byAgent: map[protocol.AgentID][]string{},
		appSubs: map[protocol.AppID]bus.Subscription{},
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
}

// start subscribes to the cluster and node subjects, announces the node and starts the
// heartbeat loop. A solo node does nothing.
func (c *cluster) start() error {
	if c.solo {
		close(c.done)
		return nil
	}
	for subject, h := range map[string]bus.Handler{subjCluster: c.onCluster, subjNodePrefix + c.node: c.onNode} {
		sub, err := c.bus.Subscribe(subject, h)
		if err != nil {
			c.unsubscribeAll()
			return fmt.Errorf("cluster: subscribe %s: %w", subject, err)
		}
		c.subs = append(c.subs, sub)
	}
	c.announce()
	go c.loop()
	return nil
}

// announce asks every node for its full state and publishes this node's.
func (c *cluster) announce() {
	c.publish(subjCluster, kindHello, nil)
	c.publishState()
}

// loop runs the heartbeat, the dead-node check and the rate-limit usage exchange.
func (c *cluster) loop() {
	defer close(c.done)
	hb := time.NewTicker(c.hb)
	defer hb.Stop()
	usage := time.NewTicker(usageFlushEvery)
	defer usage.Stop()
	for beats := 1; ; {
		select {
		case <-c.stop:
			return
		case <-usage.C:
			c.flushUsage()
		case <-hb.C:
			c.tick(beats)
			beats++
		}
	}
}

// tick is one heartbeat: re-announce after the bus came back, say alive (with the seq, so
// receivers see a gap), now and then a full state, and drop the nodes gone silent.
func (c *cluster) tick(n int) {
	down := c.bus.Health() != nil
	if c.wasDown && !down {
		c.s.log.Info("cluster: bus back, re-announcing", "node", c.node)
		c.announce()
	}
	c.wasDown = down
	if n%fullStateEvery == 0 {
		c.publishState()
	} else {
		c.pubMu.Lock()
		c.publishCtl(kindHeartbeat, ctlBody{Seq: c.seq})
		c.pubMu.Unlock()
	}
	c.reap(time.Now().Add(-deadAfter * c.hb))
}

// close stops the loop and says goodbye (other nodes drop this one at once); a solo node
// closes its private bus.
func (c *cluster) close(ctx context.Context) error {
	var err error
	c.stopOnce.Do(func() {
		if c.solo { // the private bus
			err = c.bus.Close(ctx)
			return
		}
		close(c.stop)
		<-c.done
		c.publish(subjCluster, kindBye, nil)
		c.unsubscribeAll()
		pctx, cancel := context.WithTimeout(ctx, clusterCloseGrace)
		defer cancel()
		_ = c.bus.Ping(pctx) // the goodbye reached the broker; Config.Bus is the caller's to close
	})
	return err
}

func (c *cluster) unsubscribeAll() {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
	for id, s := range c.appSubs {
		_ = s.Unsubscribe()
		delete(c.appSubs, id)
	}
	c.subs = nil
}

// publish sends one envelope; failures are counted and logged at debug (the bus reports
// its outages through Health).
func (c *cluster) publish(subject string, kind byte, body []byte) {
	b := appendHeader(make([]byte, 0, 16+len(c.node)+len(body)), kind, c.node)
	b = append(b, body...)
	if err := c.bus.Publish(subject, b); err != nil {
		c.s.metrics.busError(kindName(kind))
		c.s.log.Debug("cluster: publish failed", "subject", subject, "kind", kindName(kind), "err", err)
		return
	}
	c.s.metrics.busPublished(kindName(kind))
}

// publishCtl publishes a JSON control envelope on the cluster subject. The caller holds
// pubMu when the body carries a seq.
func (c *cluster) publishCtl(kind byte, body ctlBody) {
	raw, err := json.Marshal(body)
	if err != nil {
		c.s.log.Error("cluster: encode control message", "kind", kindName(kind), "err", err)
		return
	}
	c.publish(subjCluster, kind, raw)
}

// publishState publishes this node's full state, in order with its presence changes.
func (c *cluster) publishState() {
	c.s.presence.Snapshot(func(agents map[protocol.AgentID]protocol.PresenceStatus) {
		c.pubMu.Lock()
		defer c.pubMu.Unlock()
		c.publishCtl(kindState, ctlBody{Seq: c.seq, Agents: agents, Apps: c.s.apps.localAnnouncements()})
	})
}

// localPresence is the presence engine's LocalFunc: this node's contribution for an agent
// changed.
func (c *cluster) localPresence(agentID protocol.AgentID, status protocol.PresenceStatus) {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.seq++
	c.publishCtl(kindPresence, ctlBody{Seq: c.seq, Agent: agentID, Status: status})
}

// appUpLocked announces a TaskMaster registered here and starts serving its callbacks.
// The caller holds pubMu.
func (c *cluster) appUpLocked(a appAnnounce) {
	c.serveApp(a.AppID)
	c.seq++
	c.publishCtl(kindAppUp, ctlBody{Seq: c.seq, Apps: []appAnnounce{a}})
}

// appsDownLocked announces apps no longer served here. The caller holds pubMu.
func (c *cluster) appsDownLocked(ids []protocol.AppID) {
	c.seq++
	c.publishCtl(kindAppDown, ctlBody{Seq: c.seq, AppIDs: ids})
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	for _, id := range ids {
		if s, ok := c.appSubs[id]; ok {
			_ = s.Unsubscribe()
			delete(c.appSubs, id)
		}
	}
}

// onCluster handles the cluster subject (one message at a time, in each sender's order).
func (c *cluster) onCluster(m bus.Msg) {
	e, ok := c.receive(m)
	if !ok || e.from == c.node {
		return
	}
	if e.kind == kindBye {
		c.applyMu.Lock()
		c.drop(e.from, "left")
		c.applyMu.Unlock()
		return
	}
	var body ctlBody
	if len(e.body) > 0 {
		if err := json.Unmarshal(e.body, &body); err != nil {
			c.s.log.Warn("cluster: bad control message", "from", e.from, "kind", kindName(e.kind), "err", err)
			return
		}
	}
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	n := c.touch(e.from)
	switch e.kind {
	case kindHello:
		n.synced = false
		c.publishState()
	case kindState:
		c.applyState(e.from, n, body)
	case kindPresence:
		c.checkSeq(e.from, n, body.Seq, true)
		c.setAgent(e.from, n, body.Agent, body.Status)
	case kindAppUp:
		c.checkSeq(e.from, n, body.Seq, true)
		for _, a := range body.Apps {
			c.s.apps.setRemote(e.from, a)
		}
	case kindAppDown:
		c.checkSeq(e.from, n, body.Seq, true)
		c.s.apps.dropRemote(e.from, body.AppIDs)
	case kindHeartbeat:
		c.checkSeq(e.from, n, body.Seq, false)
	}
}

// receive decodes an envelope and counts it (kind and publish-to-receive lag).
func (c *cluster) receive(m bus.Msg) (envelope, bool) {
	e, err := parseEnvelope(m.Data)
	if err != nil {
		c.s.log.Warn("cluster: dropped a malformed envelope", "subject", m.Subject, "err", err)
		return e, false
	}
	if e.from != c.node {
		c.s.metrics.busReceived(kindName(e.kind), time.Since(e.sentAt))
	}
	return e, true
}

// touch returns the entry of node, creating it (and asking for its state) when it is new.
// The caller holds applyMu.
func (c *cluster) touch(node string) *remoteNode {
	c.mu.Lock()
	n := c.nodes[node]
	isNew := n == nil
	if isNew {
		n = &remoteNode{agents: map[protocol.AgentID]protocol.PresenceStatus{}}
		c.nodes[node] = n
		c.live.Store(int32(len(c.nodes)))
	}
	n.lastSeen = time.Now()
	c.mu.Unlock()
	if isNew {
		c.s.log.Info("cluster: node joined", "node", node)
		c.s.metrics.clusterNodes.Set(float64(c.live.Load()))
		c.s.reqLimit.Track(true)
		c.s.msgLimit.Track(true)
	}
	return n
}

// checkSeq notes the seq of a message from node and asks for a full state on a gap (or
// while no full state was applied). delta is true for messages that advance the seq.
func (c *cluster) checkSeq(node string, n *remoteNode, seq uint64, delta bool) {
	want := n.seq
	if delta {
		want++
	}
	if n.synced && seq == want {
		n.seq = seq
		return
	}
	if delta {
		n.seq = seq
	}
	n.synced = false
	if time.Since(n.lastSyncReq) < c.hb {
		return
	}
	n.lastSyncReq = time.Now()
	c.publish(subjNodePrefix+node, kindSyncReq, nil)
}

// applyState replaces what node reported with its full state. The caller holds applyMu.
func (c *cluster) applyState(node string, n *remoteNode, body ctlBody) {
	c.mu.Lock()
	for agentID := range n.agents {
		if _, ok := body.Agents[agentID]; !ok {
			c.unrouteLocked(node, agentID)
		}
	}
	n.agents = map[protocol.AgentID]protocol.PresenceStatus{}
	for agentID, st := range body.Agents {
		if st == protocol.PresenceStatusOnline || st == protocol.PresenceStatusWorking {
			n.agents[agentID] = st
			c.routeLocked(node, agentID)
		}
	}
	n.seq, n.synced = body.Seq, true
	agents := make(map[protocol.AgentID]protocol.PresenceStatus, len(n.agents))
	for k, v := range n.agents {
		agents[k] = v
	}
	c.mu.Unlock()
	c.s.presence.ReplaceRemote(node, agents)
	c.s.apps.replaceRemote(node, body.Apps)
}

// setAgent applies one presence change of node. The caller holds applyMu.
func (c *cluster) setAgent(node string, n *remoteNode, agentID protocol.AgentID, st protocol.PresenceStatus) {
	c.mu.Lock()
	if st == protocol.PresenceStatusOnline || st == protocol.PresenceStatusWorking {
		n.agents[agentID] = st
		c.routeLocked(node, agentID)
	} else {
		delete(n.agents, agentID)
		c.unrouteLocked(node, agentID)
	}
	c.mu.Unlock()
	c.s.presence.SetRemote(node, agentID, st)
}

func (c *cluster) routeLocked(node string, agentID protocol.AgentID) {
	for _, x := range c.byAgent[agentID] {
		if x == node {
			return
		}
	}
	c.byAgent[agentID] = append(c.byAgent[agentID], node)
}

func (c *cluster) unrouteLocked(node string, agentID protocol.AgentID) {
	list := c.byAgent[agentID]
	for i, x := range list {
		if x == node {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.byAgent, agentID)
	} else {
		c.byAgent[agentID] = list
	}
}

// reap drops the nodes not heard from since before.
func (c *cluster) reap(before time.Time) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	c.mu.RLock()
	var dead []string
	for id, n := range c.nodes {
		if n.lastSeen.Before(before) {
			dead = append(dead, id)
		}
	}
	c.mu.RUnlock()
	for _, id := range dead {
		c.drop(id, "silent")
	}
}

// drop forgets node: its agents' presence and its apps. The caller holds applyMu.
func (c *cluster) drop(node, why string) {
	c.mu.Lock()
	n := c.nodes[node]
	if n == nil {
		c.mu.Unlock()
		return
	}
	for agentID := range n.agents {
		c.unrouteLocked(node, agentID)
	}
	delete(c.nodes, node)
	left := int32(len(c.nodes))
	c.live.Store(left)
	c.mu.Unlock()
	c.s.log.Info("cluster: node gone", "node", node, "why", why)
	c.s.metrics.clusterNodes.Set(float64(left))
	c.s.presence.DropNode(node)
	c.s.apps.replaceRemote(node, nil)
	if left == 0 {
		c.s.reqLimit.Track(false)
		c.s.msgLimit.Track(false)
	}
}

// route groups the agents held by remote nodes per node; nil when no remote node holds
// any (always nil on a solo node, after one atomic load).
func (c *cluster) route(agentIDs []protocol.AgentID) map[string][]protocol.AgentID {
	if c.live.Load() == 0 {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out map[string][]protocol.AgentID
	for _, id := range agentIDs {
		for _, node := range c.byAgent[id] {
			if out == nil {
				out = make(map[string][]protocol.AgentID, len(c.nodes))
			}
			out[node] = append(out[node], id)
		}
	}
	return out
}

// holds reports whether a remote node holds a connection of agentID.
func (c *cluster) holds(agentID protocol.AgentID) bool {
	if c.live.Load() == 0 {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byAgent[agentID]) > 0
}

// publishNotify sends frame to the nodes of routes, once per node.
func (c *cluster) publishNotify(routes map[string][]protocol.AgentID, gate protocol.ConversationID, g gateChange, frame []byte) {
	for node, agents := range routes {
		body := notifyBody{gate: gate, agents: agents, frame: frame}
		if g.conv != "" {
			body.opConv, body.sub, body.unsub = g.conv, intersect(g.sub, agents, g.subAll), intersect(g.unsub, agents, false)
		}
		c.publish(subjNodePrefix+node, kindNotify, body.appendTo(make([]byte, 0, 64+len(frame))))
	}
}

// publishConnNotify sends frame to connection connID on node.
func (c *cluster) publishConnNotify(node, connID string, frame []byte) {
	b := appendStr(make([]byte, 0, len(connID)+len(frame)+8), connID)
	c.publish(subjNodePrefix+node, kindConnNotify, append(b, frame...))
}

// intersect returns the ids of want that are in have (all of have when all is set).
func intersect(want, have []protocol.AgentID, all bool) []protocol.AgentID {
	if all {
		return have
	}
	var out []protocol.AgentID
	for _, id := range want {
		for _, h := range have {
			if h == id {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// onNode handles this node's subject: deliveries, usage, sync requests.
func (c *cluster) onNode(m bus.Msg) {
	e, ok := c.receive(m)
	if !ok {
		return
	}
	switch e.kind {
	case kindNotify:
		n, err := parseNotifyBody(e.body)
		if err != nil {
			c.s.log.Warn("cluster: bad notify envelope", "from", e.from, "err", err)
			return
		}
		c.s.deliverRemote(n)
	case kindConnNotify:
		connID, frame, ok := readStr(e.body)
		if !ok {
			return
		}
		if conn := c.s.conns.byID(connID); conn != nil {
			conn.send(frame)
		}
	case kindUsage:
		var body ctlBody
		if err := json.Unmarshal(e.body, &body); err != nil {
			return
		}
		for id, n := range body.Req {
			c.s.reqLimit.Charge(string(id), n)
		}
		for id, n := range body.Msg {
			c.s.msgLimit.Charge(string(id), n)
		}
	case kindSyncReq:
		c.publishState()
	}
}

// flushUsage sends what the per-agent limiters admitted since the last flush to the other
// nodes holding the same agents, which charge it to their buckets.
func (c *cluster) flushUsage() {
	if c.live.Load() == 0 {
		return
	}
	req, msg := c.s.reqLimit.TakeUsage(), c.s.msgLimit.TakeUsage()
	if req == nil && msg == nil {
		return
	}
	per := map[string]*ctlBody{}
	add := func(usage map[string]int, pick func(*ctlBody) map[protocol.AgentID]int) {
		for key, n := range usage {
			for _, node := range c.routesOf(protocol.AgentID(key)) {
				b := per[node]
				if b == nil {
					b = &ctlBody{Req: map[protocol.AgentID]int{}, Msg: map[protocol.AgentID]int{}}
					per[node] = b
				}
				pick(b)[protocol.AgentID(key)] += n
			}
		}
	}
	add(req, func(b *ctlBody) map[protocol.AgentID]int { return b.Req })
	add(msg, func(b *ctlBody) map[protocol.AgentID]int { return b.Msg })
	for node, b := range per {
		raw, err := json.Marshal(b)
		if err == nil {
			c.publish(subjNodePrefix+node, kindUsage, raw)
		}
	}
}

// routesOf returns the remote nodes holding agentID.
func (c *cluster) routesOf(agentID protocol.AgentID) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.byAgent[agentID]...)
}

// initCluster sets up the bus side of New: Config.Bus (a cluster) or a private in-process
// bus (solo), the presence engine that goes with it, the conn manager's view of remote
// agents and the readiness check "bus".
func (s *Server) initCluster() {
	b, solo := s.cfg.Bus, false
	if b == nil {
		b, solo = bus.New(), true
	}
	s.cluster = newCluster(s, b, solo)
	if s.cluster.solo {
		s.presence = presence.New(s.emitPresence)
	} else {
		s.apps.cl = s.cluster
		s.presence = presence.NewWithLocal(s.emitPresence, s.cluster.localPresence)
		s.conns.elsewhere = s.cluster.holds
	}
	checks := make(map[string]func(context.Context) error, len(s.cfg.ReadinessChecks)+1)
	checks["bus"] = b.Ping
	for name, f := range s.cfg.ReadinessChecks {
		checks[name] = f // an embedder's own "bus" check wins
	}
	s.cfg.ReadinessChecks = checks
}

// newConnID mints a connection id: the node id, a dot and a random UUID, so that a lease
// or callback addressed to a connection can be routed to its node.
func (s *Server) newConnID() string { return s.cfg.NodeID + "." + uuid.NewString() }
