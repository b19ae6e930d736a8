package client_test

import (
	"context"
	"errors"
	"github.com/moltzap/moltzap-go/runtime/client/internal/clienttest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
)

// tmHandlers is a TaskMaster handler table: task/create runs create (accept when nil),
// the other callbacks are permissive.
type tmHandlers struct {
	create func(context.Context, protocol.TaskCreateParams) (protocol.TaskCreateResult, error)
}

func (h *tmHandlers) DispatchAuthorize(context.Context, protocol.DispatchAuthorizeParams) (protocol.DispatchAuthorizeResult, error) {
	return protocol.DispatchAuthorizeResult{}, protocol.ForbiddenError{}
}

func (h *tmHandlers) MessagesAuthorize(_ context.Context, p protocol.MessagesAuthorizeParams) (protocol.MessagesAuthorizeResult, error) {
	return protocol.MessagesAuthorizeResult{}, protocol.ForbiddenError{}
}

func (h *tmHandlers) TaskCreate(ctx context.Context, p protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
	if h.create == nil {
		return protocol.TaskCreateResult{Verdict: protocol.TaskCreateAccept{}}, nil
	}
	return h.create(ctx, p)
}

func newAppID() protocol.AppID { return protocol.AppID(uuid.NewString()) }

// dialTM connects a TaskMaster for appID; it is closed at cleanup.
func dialTM(t *testing.T, url string, reg client.Registration, h protocol.TaskMasterHandlers, appID protocol.AppID, mod ...func(*client.Options)) *client.TaskMaster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tm, err := client.DialTaskMaster(ctx, options(url, reg, mod...), h, protocol.AppManifest{AppID: appID, Name: "test app"})
	if err != nil {
		t.Fatalf("dial TaskMaster: %v", err)
	}
	t.Cleanup(func() { _ = tm.Close() })
	return tm
}

// TestTaskMaster covers app registration, accept and reject verdicts driving task/request,
// and re-registration after a reconnect.
func TestTaskMaster(t *testing.T) {
	e := newEnv(t)
	rtm, ra, rb := e.agent("tm"), e.agent("req"), e.agent("guest")
	appID := newAppID()
	var creates atomic.Int32
	h := &tmHandlers{create: func(_ context.Context, p protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
		creates.Add(1)
		if p.InitialConversation != nil && p.InitialConversation.Name != nil && *p.InitialConversation.Name == "no" {
			return protocol.TaskCreateResult{Verdict: protocol.TaskCreateReject{Reason: ptr("not today")}}, nil
		}
		return protocol.TaskCreateResult{Verdict: protocol.TaskCreateAccept{}}, nil
	}}
	px := clienttest.NewProxy(t, e.url)
	reconnected := make(chan protocol.HelloOk, 1)
	tm := dialTM(t, px.URL(), rtm, h, appID, func(o *client.Options) {
		o.OnReconnect = func(hello protocol.HelloOk) { reconnected <- hello }
	})
	a := e.dial(ra)
	ctx := ctxFor(t, 15*time.Second)

	request := func(name string) (protocol.TaskRequestResult, error) {
		return a.TaskRequest(ctx, protocol.TaskRequestParams{
			AppID:               appID,
			InvitedAgentIDs:     []protocol.AgentID{protocol.AgentID(rb.AgentID)},
			InitialConversation: &protocol.InitialConversation{Name: ptr(name)},
		})
	}
	res, err := request("yes")
	if err != nil || res.Task.Status != protocol.TaskStatusActive || res.Conversation == nil {
		t.Fatalf("accepted task/request = %+v, %v", res, err)
	}
	_, err = request("no")
	var rej protocol.TaskRejectedError
	if !errors.As(err, &rej) || rej.Data == nil || rej.Data.Reason == nil || *rej.Data.Reason != "not today" {
		t.Fatalf("rejected task/request: err = %v (%+v)", err, rej.Data)
	}

	// A second TaskMaster cannot take the app while the first holds it.
	other := e.agent("tm2")
	_, err = client.DialTaskMaster(ctx, options(e.url, other), h, protocol.AppManifest{AppID: appID, Name: "dup"})
	var fb protocol.ForbiddenError
	if !errors.As(err, &fb) {
		t.Fatalf("duplicate registration: err = %v, want ForbiddenError", err)
	}

	px.Cut()
	recv(t, reconnected, "TaskMaster reconnect")
	if tm.State() != client.Connected {
		t.Fatalf("state after reconnect = %v", tm.State())
	}
	before := creates.Load()
	res, err = request("after")
	if err != nil || res.Task.Status != protocol.TaskStatusActive {
		t.Fatalf("task/request after reconnect = %+v, %v", res, err)
	}
	if creates.Load() != before+1 {
		t.Fatalf("task/create calls %d -> %d, want one more", before, creates.Load())
	}
}
