package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/bus"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// serveApp starts answering the TaskMaster callbacks of appID on its subject (this node
// holds the app's connection). The caller holds pubMu, so the subscription precedes the
// announcement on the bus.
func (c *cluster) serveApp(appID protocol.AppID) {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if _, ok := c.appSubs[appID]; ok {
		return
	}
	sub, err := c.bus.Serve(appSubject(appID), c.onTMCall)
	if err != nil {
		c.s.log.Warn("cluster: serve TaskMaster callbacks", "app", appID, "err", err)
		return
	}
	c.appSubs[appID] = sub
}

// onTMCall answers one routed TaskMaster callback: it is sent to the local TaskMaster
// connection the caller bound (anything else is "unavailable": the caller fails closed)
// under the caller's remaining timeout, in a goroutine of its own.
func (c *cluster) onTMCall(r bus.Request) {
	e, ok := c.receive(bus.Msg{Subject: r.Subject, Data: r.Data})
	if !ok || e.kind != kindTMCall {
		return
	}
	var call tmCall
	if err := json.Unmarshal(e.body, &call); err != nil {
		c.reply(r, tmReply{Unavailable: "bad callback request: " + err.Error()})
		return
	}
	s := c.s
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.reply(r, c.callLocalTM(call))
	}()
}

// callLocalTM runs a routed callback against the local TaskMaster connection.
func (c *cluster) callLocalTM(call tmCall) tmReply {
	b, ok := c.s.apps.localBinding(call.AppID)
	if !ok || b.conn.id != call.ConnID {
		return tmReply{Unavailable: fmt.Sprintf("TaskMaster connection of app %s is not on node %s", call.AppID, c.node)}
	}
	timeout := time.Duration(call.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = c.s.cfg.HookTimeout
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, timeout)
	defer cancel()
	var params any
	if len(call.Params) > 0 {
		params = call.Params
	}
	res, err := callbackInvoker{b.conn}.Invoke(ctx, call.Method, params)
	var coded wire.Coded
	switch {
	case err == nil:
		return tmReply{Result: res}
	case errors.Is(err, context.DeadlineExceeded):
		return tmReply{Timeout: true}
	case errors.As(err, &coded):
		we := wire.ToError(err)
		return tmReply{Error: &we}
	default:
		return tmReply{Unavailable: err.Error()}
	}
}

func (c *cluster) reply(r bus.Request, rep tmReply) {
	raw, err := json.Marshal(rep)
	if err != nil {
		c.s.log.Error("cluster: encode callback reply", "err", err)
		return
	}
	b := appendHeader(make([]byte, 0, 16+len(c.node)+len(raw)), kindTMCall, c.node)
	if err := r.Reply(append(b, raw...)); err != nil {
		c.s.log.Debug("cluster: callback reply lost", "err", err)
		return
	}
	c.s.metrics.busPublished(kindName(kindTMCall))
}

// remoteInvoker sends TaskMaster callbacks to the node holding the app's connection (NATS
// request/reply); it is the transport of a remote binding's TaskMasterClient. The caller's
// ctx bounds the call (its deadline also travels, for the serving node); a timeout is
// context.DeadlineExceeded as for a local TaskMaster, every other failure (no responder,
// the connection gone, an error response) an error: the callers fail closed the same way.
type remoteInvoker struct {
	c      *cluster
	appID  protocol.AppID
	connID string
}

var _ protocol.Invoker = remoteInvoker{}

// Invoke sends one callback and waits for its result.
func (inv remoteInvoker) Invoke(ctx context.Context, method string, params any) (json.RawMessage, error) {
	call := tmCall{AppID: inv.appID, ConnID: inv.connID, Method: method, TimeoutMs: inv.c.s.cfg.HookTimeout.Milliseconds()}
	if d, ok := ctx.Deadline(); ok {
		call.TimeoutMs = max(time.Until(d).Milliseconds(), 1)
	}
	switch p := params.(type) {
	case nil:
	case json.RawMessage:
		call.Params = p
	default:
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("%s: encode params: %w", method, err)
		}
		call.Params = raw
	}
	body, err := json.Marshal(call)
	if err != nil {
		return nil, fmt.Errorf("%s: encode request: %w", method, err)
	}
	req := appendHeader(make([]byte, 0, 16+len(inv.c.node)+len(body)), kindTMCall, inv.c.node)
	inv.c.s.metrics.busPublished(kindName(kindTMCall))
	raw, err := inv.c.bus.Request(ctx, appSubject(inv.appID), append(req, body...))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", method, ctx.Err())
		}
		return nil, fmt.Errorf("%s via the cluster: %w", method, err)
	}
	e, err := parseEnvelope(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: reply: %w", method, err)
	}
	inv.c.s.metrics.busReceived(kindName(kindTMCall), time.Since(e.sentAt))
	var rep tmReply
	if err := json.Unmarshal(e.body, &rep); err != nil {
		return nil, fmt.Errorf("%s: decode reply: %w", method, err)
	}
	switch {
	case rep.Timeout:
		return nil, fmt.Errorf("%s on node %s: %w", method, e.from, context.DeadlineExceeded)
	case rep.Error != nil:
		return nil, fmt.Errorf("%s: %w", method, protocol.ErrorFromWire(*rep.Error))
	case rep.Unavailable != "":
		return nil, fmt.Errorf("%s: %s", method, rep.Unavailable)
	}
	return rep.Result, nil
}
