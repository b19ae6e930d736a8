// Hand-written tests of the generated package (this file is not generated).
package protocol_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func TestErrorRegistryRoundTrip(t *testing.T) {
	cat := protocol.Catalog()
	if len(cat.Errors) != 19 {
		t.Fatalf("%d errors in the registry, want 19", len(cat.Errors))
	}
	for _, info := range cat.Errors {
		w := wire.Error{Code: info.Code, Message: "custom " + info.Name}
		err := protocol.ErrorFromWire(w)
		coded, ok := err.(interface {
			Code() int64
			WireError() wire.Error
		})
		if !ok {
			t.Fatalf("%s: %T is not a registry error", info.Name, err)
		}
		if coded.Code() != info.Code || coded.WireError().Message != w.Message {
			t.Fatalf("%s: round trip gave %+v", info.Name, coded.WireError())
		}
		if got := wire.ToError(err); got.Code != info.Code {
			t.Fatalf("%s: wire.ToError gave %d", info.Name, got.Code)
		}
	}
	if _, ok := protocol.ErrorFromWire(wire.Error{Code: -31999, Message: "?"}).(protocol.UnknownError); !ok {
		t.Fatal("an unknown code must give UnknownError")
	}
}

func TestTypedErrorData(t *testing.T) {
	sent := protocol.TaskClosedError{Data: &protocol.TaskClosedData{Reason: "TaskClosed", TaskID: "0190a1b2-0000-7000-8000-000000000001", Status: protocol.TaskStatusClosed}}
	got := protocol.ErrorFromWire(sent.WireError())
	var tc protocol.TaskClosedError
	if !errors.As(got, &tc) || tc.Data == nil || tc.Data.TaskID != sent.Data.TaskID || tc.Text() != "Task is closed" {
		t.Fatalf("got %#v", got)
	}
	wrapped := errors.Join(errors.New("context"), protocol.ForbiddenError{Message: "nope"})
	if !errors.As(wrapped, &protocol.ForbiddenError{}) {
		t.Fatal("errors.As(err, &protocol.ForbiddenError{}) must work through wrapping")
	}
	if w := (protocol.UnauthorizedError{}).WireError(); w.Message != "Not authenticated. Send network/connect first." {
		t.Fatalf("default message %q", w.Message)
	}
}

// caller is a configurable protocol.Caller.
type caller struct{ authed, active, owner bool }

func (c caller) Authenticated() bool { return c.authed }
func (c caller) Active() bool        { return c.active }
func (c caller) HasOwner() bool      { return c.owner }

// handlers implements only what the dispatch test needs; the rest answer -32601.
type handlers struct {
	protocol.UnimplementedServerHandlers[caller]
	pingTs protocol.DateTime
}

func (h handlers) NetworkPing(context.Context, caller, protocol.NetworkPingParams) (protocol.NetworkPingResult, error) {
	return protocol.NetworkPingResult{Ts: h.pingTs}, nil
}

// A handler set that embeds UnimplementedServerHandlers satisfies ServerHandlers: compile-time.
var _ protocol.ServerHandlers[caller] = handlers{}

func TestServerDispatcher(t *testing.T) {
	d := protocol.NewServerDispatcher[caller](handlers{pingTs: "2026-05-25T10:15:30.123Z"})
	ctx := context.Background()
	code := func(err error) int64 { return wire.ToError(err).Code }
	agent := caller{authed: true, active: true, owner: true}

	if res, err := d.Dispatch(ctx, agent, "network/ping", nil); err != nil || string(res) != `{"ts":"2026-05-25T10:15:30.123Z"}` {
		t.Fatalf("ping: %s %v", res, err)
	}
	cases := []struct {
		name   string
		caller caller
		method string
		params string
		code   int64
	}{
		{"unknown method", agent, "no/such", `{}`, -32601},
		{"not connected", caller{}, "network/ping", `{}`, -32000},
		{"caller check before params", caller{}, "network/ping", `{"bad":1}`, -32000},
		{"inactive agent", caller{authed: true, owner: true}, "task/request", `{}`, -32001},
		{"no owner", caller{authed: true, active: true}, "contacts/list", `{}`, -32000},
		{"bad params", agent, "network/ping", `{"extra":true}`, -32602},
		{"unimplemented", agent, "agents/lookup", `{"agentIds":["0190a1b2-0000-7000-8000-000000000001"]}`, -32601},
	}
	for _, c := range cases {
		if _, err := d.Dispatch(ctx, c.caller, c.method, json.RawMessage(c.params)); code(err) != c.code {
			t.Errorf("%s: got %v (code %d), want %d", c.name, err, code(err), c.code)
		}
	}
	// A handler result that breaks its schema is an internal error, never sent as is.
	bad := protocol.NewServerDispatcher[caller](handlers{pingTs: "not a date"})
	_, err := bad.Dispatch(ctx, agent, "network/ping", nil)
	var ir *protocol.InvalidResultError
	if !errors.As(err, &ir) || code(err) != -32603 {
		t.Fatalf("invalid result: %v", err)
	}
}

// TestDispatchTableFollowsCatalog proves every row's access rule is the catalog's callers
// and requires: each refusal happens exactly when the catalog says it must.
func TestDispatchTableFollowsCatalog(t *testing.T) {
	d := protocol.NewServerDispatcher[caller](handlers{})
	ctx := context.Background()
	for _, m := range protocol.Catalog().Methods {
		probes := []struct {
			caller caller
			code   int64
			refuse bool
		}{
			{caller{}, -32000, !slices.Contains(m.Callers, "unauthenticated")},
			{caller{authed: true, owner: true}, -32001, slices.Contains(m.Requires, "active")},
			{caller{authed: true, active: true}, -32000, slices.Contains(m.Requires, "owner")},
		}
		for _, p := range probes {
			_, err := d.Dispatch(ctx, p.caller, m.Name, nil)
			if got := wire.ToError(err).Code; (got == p.code) != p.refuse {
				t.Errorf("%s with %+v: code %d (%v); catalog callers %v requires %v", m.Name, p.caller, got, err, m.Callers, m.Requires)
			}
		}
	}
}

// tmHandlers refuses every callback (the conventional vacuous deny).
type tmHandlers struct{}

func (tmHandlers) DispatchAuthorize(context.Context, protocol.DispatchAuthorizeParams) (protocol.DispatchAuthorizeResult, error) {
	return protocol.DispatchAuthorizeResult{}, protocol.ForbiddenError{}
}

func (tmHandlers) MessagesAuthorize(context.Context, protocol.MessagesAuthorizeParams) (protocol.MessagesAuthorizeResult, error) {
	return protocol.MessagesAuthorizeResult{}, protocol.ForbiddenError{}
}

func (tmHandlers) TaskCreate(context.Context, protocol.TaskCreateParams) (protocol.TaskCreateResult, error) {
	return protocol.TaskCreateResult{}, protocol.ForbiddenError{}
}

func TestTaskMasterDispatcher(t *testing.T) {
	d := protocol.NewTaskMasterDispatcher(tmHandlers{})
	ctx := context.Background()
	if _, err := d.Dispatch(ctx, "messages/send", nil); wire.ToError(err).Code != -32601 {
		t.Errorf("unknown callback: got %v, want -32601", err)
	}
	for _, cb := range protocol.Catalog().Callbacks {
		if _, err := d.Dispatch(ctx, cb.Name, nil); wire.ToError(err).Code != -32602 {
			t.Errorf("%s with no params: got %v, want -32602", cb.Name, err)
		}
	}
}

// recorder is an Invoker that records the request and answers with a fixed result.
type recorder struct {
	method string
	params any
	result string
}

func (r *recorder) Invoke(_ context.Context, method string, params any) (json.RawMessage, error) {
	r.method, r.params = method, params
	return json.RawMessage(r.result), nil
}

func TestClientStubs(t *testing.T) {
	ctx := context.Background()
	inv := &recorder{result: `{"ts":"2026-05-25T10:15:30.123Z"}`}
	res, err := protocol.NewClient(inv).NetworkPing(ctx, protocol.NetworkPingParams{})
	raw, _ := inv.params.(json.RawMessage)
	if err != nil || res.Ts != "2026-05-25T10:15:30.123Z" || inv.method != protocol.MethodNetworkPing || string(raw) != `{}` {
		t.Fatalf("ping stub: %+v %v; sent %s %#v", res, err, inv.method, inv.params)
	}
	inv.result = `{"ts":"yesterday"}`
	if _, err := protocol.NewClient(inv).NetworkPing(ctx, protocol.NetworkPingParams{}); err == nil {
		t.Fatal("a result failing its schema must be an error")
	}
	inv.result = `{}`
	if _, err := protocol.NewTaskMasterClient(inv).TaskCreate(ctx, protocol.TaskCreateParams{}); err == nil || inv.method != protocol.CallbackTaskCreate {
		t.Fatalf("callback stub: %v (sent %s)", err, inv.method)
	}
}

func TestDecodeNotification(t *testing.T) {
	n, err := protocol.DecodeNotification(protocol.NotificationPresenceChanged,
		[]byte(`{"agentId":"0190a1b2-0000-7000-8000-000000000001","status":"online"}`))
	if err != nil || n.Method() != protocol.NotificationPresenceChanged {
		t.Fatalf("presence/changed: %#v %v", n, err)
	}
	if pc, ok := n.(protocol.PresenceChangedNotification); !ok || pc.Status != "online" {
		t.Fatalf("presence/changed decoded as %#v", n)
	}
	if _, err := protocol.DecodeNotification(protocol.NotificationPresenceChanged, nil); err == nil {
		t.Error("empty params are {} and must fail the required properties")
	}
	if _, err := protocol.DecodeNotification("no/such", []byte(`{}`)); err == nil {
		t.Error("an unknown notification must be an error")
	}
	for _, info := range protocol.Catalog().Notifications {
		if _, err := protocol.DecodeNotification(info.Name, []byte(`{"unknown":1}`)); err == nil {
			t.Errorf("%s accepts an unknown property", info.Name)
		}
	}
}

// TestMissingHandlerDoesNotCompile builds a handler set that lacks exactly one method and
// checks that the compiler refuses it as a ServerHandlers.
func TestMissingHandlerDoesNotCompile(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "compilecheck")
	var b strings.Builder
	b.WriteString("package compilecheck\n\nimport (\n\t\"context\"\n\n\t\"github.com/moltzap/moltzap-go/generated/protocol\"\n)\n\n")
	b.WriteString("type c struct{}\n\nfunc (c) Authenticated() bool { return true }\nfunc (c) Active() bool { return true }\nfunc (c) HasOwner() bool { return true }\n\ntype missingOne struct{}\n\n")
	for _, m := range protocol.Catalog().Methods {
		if m.Name == "network/ping" {
			continue // the one left out
		}
		goName := goName(m.Name)
		b.WriteString("func (missingOne) " + goName + "(context.Context, c, protocol." + goName + "Params) (protocol." + goName + "Result, error) {\n\tvar r protocol." + goName + "Result\n\treturn r, nil\n}\n\n")
	}
	b.WriteString("var _ protocol.ServerHandlers[c] = missingOne{}\n")
	src := filepath.Join(t.TempDir(), "x.go")
	if err := os.WriteFile(src, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(dir, "x.go"): src}})
	ov := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", ov, "./compilecheck")
	cmd.Dir = filepath.Dir(here)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("a handler set missing NetworkPing compiled as ServerHandlers")
	}
	if !strings.Contains(string(out), "missing method NetworkPing") {
		t.Fatalf("compile failed for another reason:\n%s", out)
	}
	// The same file with the method present compiles: the failure is the missing method.
	full := b.String() + "\nfunc (missingOne) NetworkPing(context.Context, c, protocol.NetworkPingParams) (protocol.NetworkPingResult, error) {\n\treturn protocol.NetworkPingResult{}, nil\n}\n"
	if err := os.WriteFile(src, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("go", "build", "-overlay", ov, "./compilecheck")
	cmd.Dir = filepath.Dir(here)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the complete handler set does not compile:\n%s", out)
	}
}

// goName mirrors the generator's naming of wire names.
func goName(wireName string) string {
	var b strings.Builder
	for _, seg := range strings.Split(wireName, "/") {
		w := strings.ToUpper(seg[:1]) + seg[1:]
		w = strings.ReplaceAll(w, "ById", "ByID")
		b.WriteString(w)
	}
	return b.String()
}
