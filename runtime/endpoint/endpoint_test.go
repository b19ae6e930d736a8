package endpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/endpoint"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// The kinds of a small registry, declared the way the generated package declares them.
type (
	unauthorizedKind   struct{}
	forbiddenKind      struct{}
	methodNotFoundKind struct{}
	invalidParamsKind  struct{}
)

func (unauthorizedKind) Spec() endpoint.Spec {
	return endpoint.Spec{Code: -32000, Message: "Not authenticated. Send network/connect first."}
}
func (forbiddenKind) Spec() endpoint.Spec { return endpoint.Spec{Code: -32001, Message: "Forbidden"} }
func (methodNotFoundKind) Spec() endpoint.Spec {
	return endpoint.Spec{Code: -32601, Message: "Method not found"}
}
func (invalidParamsKind) Spec() endpoint.Spec {
	return endpoint.Spec{Code: -32602, Message: "Invalid params"}
}

// forbiddenData is typed error data with its own encoder and decoder.
type forbiddenData struct{ Reason string }

func (d forbiddenData) AppendJSON(b []byte) []byte {
	return append(append(append(b, `{"reason":`...), strconv.Quote(d.Reason)...), '}')
}

func decodeForbiddenData(raw []byte) (forbiddenData, error) {
	var v struct {
		Reason *string `json:"reason"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Reason == nil {
		return forbiddenData{}, fmt.Errorf("decode forbiddenData: bad %s", raw)
	}
	return forbiddenData{Reason: *v.Reason}, nil
}

type (
	unauthorizedError   = endpoint.Error[unauthorizedKind]
	forbiddenError      = endpoint.DataError[forbiddenKind, forbiddenData]
	methodNotFoundError = endpoint.Error[methodNotFoundKind]
	invalidParamsError  = endpoint.Error[invalidParamsKind]
)

var routerErrors = endpoint.RouterErrors{
	Unauthorized:   endpoint.New[unauthorizedKind],
	Forbidden:      endpoint.NewData[forbiddenKind, forbiddenData],
	MethodNotFound: endpoint.New[methodNotFoundKind],
}

var registry = endpoint.NewRegistry(
	endpoint.Plain[unauthorizedKind](),
	endpoint.Typed[forbiddenKind](decodeForbiddenData),
	endpoint.Plain[methodNotFoundKind](),
	endpoint.Plain[invalidParamsKind](),
)

// echo is a params and result type: {"n": <int>}, n in 0..99.
type echo struct{ N int }

func (e echo) AppendJSON(b []byte) []byte {
	return append(strconv.AppendInt(append(b, `{"n":`...), int64(e.N), 10), '}')
}

func decodeEcho(raw []byte) (echo, error) {
	var v struct {
		N *int `json:"n"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return echo{}, invalidParamsError{Message: "Invalid params: " + err.Error()}
	}
	if v.N == nil {
		return echo{}, invalidParamsError{Message: "Invalid params: /: missing n"}
	}
	if *v.N < 0 || *v.N > 99 {
		return echo{}, invalidParamsError{Message: "Invalid params: /n: out of range"}
	}
	return echo{N: *v.N}, nil
}

// shape is a union result: a nil shape is a handler bug.
type shape interface{ AppendJSON([]byte) []byte }

func decodeShape(raw []byte) (shape, error) { return decodeEcho(raw) }

type caller struct{ authed, active, owner bool }

func (c caller) Authenticated() bool { return c.authed }
func (c caller) Active() bool        { return c.active }
func (c caller) HasOwner() bool      { return c.owner }

var (
	errHandler = errors.New("handler failed")
	anyone     = caller{}
	agent      = caller{authed: true, active: true, owner: true}
)

// double answers 2n; n = 7 fails; n = 60 gives 120, which breaks the result's range.
func double(_ context.Context, _ caller, p echo) (echo, error) {
	if p.N == 7 {
		return echo{}, errHandler
	}
	return echo{N: 2 * p.N}, nil
}

func nilShape(context.Context, caller, echo) (shape, error) { return nil, nil }

func newRouter() *endpoint.Router[caller] {
	return endpoint.NewRouter(routerErrors,
		endpoint.Unary("public", endpoint.CallerUnauthenticated|endpoint.CallerAgent, double, decodeEcho, decodeEcho),
		endpoint.Unary("agent", endpoint.CallerAgent, double, decodeEcho, decodeEcho),
		endpoint.Unary("active", endpoint.CallerTaskMaster|endpoint.RequireActive, double, decodeEcho, decodeEcho),
		endpoint.Unary("owned", endpoint.CallerAgent|endpoint.RequireOwner, double, decodeEcho, decodeEcho),
		endpoint.Unary("both", endpoint.CallerAgent|endpoint.RequireActive|endpoint.RequireOwner, double, decodeEcho, decodeEcho),
		endpoint.Unary("nil", endpoint.CallerAgent, nilShape, decodeEcho, decodeShape),
	)
}

func TestRouterDispatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, params string
		caller               caller
		result               string // when the request succeeds
		code                 int64  // when it fails
		message              string // when it fails and the message matters
	}{
		{name: "ok", method: "agent", params: `{"n":2}`, caller: agent, result: `{"n":4}`},
		{name: "public admits anyone", method: "public", params: `{"n":1}`, caller: anyone, result: `{"n":2}`},
		{name: "unknown method", method: "no/such", caller: agent, code: -32601, message: "Unknown method: no/such"},
		{name: "unknown before access", method: "no/such", caller: anyone, code: -32601},
		{name: "unauthenticated", method: "agent", params: `{"n":1}`, caller: anyone, code: -32000,
			message: "Not authenticated. Send network/connect first."},
		{name: "access before params", method: "agent", params: `{"bad":1}`, caller: anyone, code: -32000},
		{name: "inactive", method: "active", params: `{"n":1}`, caller: caller{authed: true, owner: true}, code: -32001,
			message: endpoint.MessageNotClaimed},
		{name: "no owner", method: "owned", params: `{"n":1}`, caller: caller{authed: true, active: true}, code: -32000,
			message: endpoint.MessageNoOwner},
		{name: "active checked before owner", method: "both", params: `{}`, caller: caller{authed: true}, code: -32001},
		{name: "active and owner", method: "both", params: `{"n":3}`, caller: agent, result: `{"n":6}`},
		{name: "unauthenticated before active", method: "active", caller: anyone, code: -32000},
		{name: "empty params are {}", method: "agent", caller: agent, code: -32602, message: "Invalid params: /: missing n"},
		{name: "bad params", method: "agent", params: `{"n":100}`, caller: agent, code: -32602,
			message: "Invalid params: /n: out of range"},
		{name: "handler error", method: "agent", params: `{"n":7}`, caller: agent, code: -32603},
		{name: "invalid result", method: "agent", params: `{"n":60}`, caller: agent, code: -32603, message: "Internal error"},
		{name: "nil union result", method: "nil", params: `{"n":1}`, caller: agent, code: -32603},
	}
	r := newRouter()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := r.Dispatch(context.Background(), c.caller, c.method, json.RawMessage(c.params))
			if c.code == 0 {
				if err != nil || string(res) != c.result {
					t.Fatalf("got %s, %v; want %s", res, err, c.result)
				}
				return
			}
			w := wire.ToError(err)
			if err == nil || res != nil || w.Code != c.code || (c.message != "" && w.Message != c.message) {
				t.Fatalf("got %s, %v (%+v); want code %d %q", res, err, w, c.code, c.message)
			}
		})
	}
}

func TestRouterPassesErrorsThrough(t *testing.T) {
	t.Parallel()
	r := newRouter()
	ctx := context.Background()
	if _, err := r.Dispatch(ctx, agent, "agent", json.RawMessage(`{"n":7}`)); err != errHandler {
		t.Errorf("handler error: got %v, want it unchanged", err)
	}
	_, err := r.Dispatch(ctx, agent, "agent", json.RawMessage(`{"n":-1}`))
	if ip, ok := err.(invalidParamsError); !ok || ip.Message != "Invalid params: /n: out of range" {
		t.Errorf("decode error: got %#v, want the decoder's InvalidParams unchanged", err)
	}
	_, err = r.Dispatch(ctx, agent, "agent", json.RawMessage(`{"n":60}`))
	var bad *endpoint.InvalidResultError
	if !errors.As(err, &bad) || bad.Method != "agent" || !strings.Contains(bad.Error(), "invalid result for agent: Invalid params: /n: out of range") {
		t.Errorf("invalid result: got %v", err)
	}
	if !errors.As(err, new(invalidParamsError)) {
		t.Error("InvalidResultError must unwrap to its cause")
	}
	_, err = r.Dispatch(ctx, caller{authed: true}, "active", nil)
	var fe forbiddenError
	if !errors.As(err, &fe) || fe.Message != endpoint.MessageNotClaimed || fe.Data != nil {
		t.Errorf("refusal: got %#v, want the generated ForbiddenError type", err)
	}
}

type tmHandlers struct{}

func (tmHandlers) double(_ context.Context, p echo) (echo, error) { return echo{N: 2 * p.N}, nil }

func TestCallbackRouter(t *testing.T) {
	t.Parallel()
	r := endpoint.NewCallbackRouter(routerErrors, endpoint.Callback("cb/double", tmHandlers{}.double, decodeEcho, decodeEcho))
	ctx := context.Background()
	if res, err := r.Dispatch(ctx, "cb/double", json.RawMessage(`{"n":4}`)); err != nil || string(res) != `{"n":8}` {
		t.Errorf("callback: %s %v", res, err)
	}
	if _, err := r.Dispatch(ctx, "messages/send", nil); wire.ToError(err).Code != -32601 {
		t.Errorf("unknown callback: %v", err)
	}
	if _, err := r.Dispatch(ctx, "cb/double", nil); wire.ToError(err).Code != -32602 {
		t.Errorf("empty callback params: %v", err)
	}
}

func TestAccessString(t *testing.T) {
	t.Parallel()
	for a, want := range map[endpoint.Access]string{
		0: "none",
		endpoint.CallerUnauthenticated | endpoint.CallerAgent: "unauthenticated+agent",
		endpoint.CallerTaskMaster | endpoint.RequireActive:    "taskmaster+active",
		endpoint.CallerAgent | endpoint.RequireOwner:          "agent+owner",
	} {
		if got := a.String(); got != want {
			t.Errorf("%d: %q, want %q", a, got, want)
		}
	}
}

// invoker records the request and answers with a fixed result or error.
type invoker struct {
	method string
	params any
	result string
	err    error
}

func (i *invoker) Invoke(_ context.Context, method string, params any) (json.RawMessage, error) {
	i.method, i.params = method, params
	return json.RawMessage(i.result), i.err
}

func TestCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inv := &invoker{result: `{"n":6}`}
	got, err := endpoint.Call(ctx, inv, "x/double", echo{N: 3}, decodeEcho)
	raw, isRaw := inv.params.(json.RawMessage)
	if err != nil || got.N != 6 || inv.method != "x/double" || !isRaw || string(raw) != `{"n":3}` {
		t.Fatalf("call: %+v %v; sent %s %#v", got, err, inv.method, inv.params)
	}
	inv = &invoker{result: `{"n":600}`}
	if _, err := endpoint.Call(ctx, inv, "x/double", echo{N: 3}, decodeEcho); wire.ToError(err).Code != -32602 {
		t.Errorf("a result failing its decoder: %v", err)
	}
	inv = &invoker{err: registry.FromWire(wire.Error{Code: -32001, Message: "no", Data: json.RawMessage(`{"reason":"r"}`)})}
	var fe forbiddenError
	if _, err := endpoint.Call(ctx, inv, "x/double", echo{N: 3}, decodeEcho); !errors.As(err, &fe) || fe.Data.Reason != "r" {
		t.Errorf("invoker error: %v", err)
	}
	inv = &invoker{result: `{"n":1}`}
	if _, err := endpoint.Call[shape](ctx, inv, "x/union", nil, decodeEcho); err != nil || inv.params != nil {
		t.Errorf("nil union params: sent %#v, %v; want no params", inv.params, err)
	}
}

func TestErrorTypes(t *testing.T) {
	t.Parallel()
	e := unauthorizedError{}
	if e.Code() != -32000 || e.Text() != "Not authenticated. Send network/connect first." ||
		e.Error() != "Not authenticated. Send network/connect first. (-32000)" {
		t.Errorf("defaults: %d %q %q", e.Code(), e.Text(), e.Error())
	}
	e = unauthorizedError{Message: "Authentication failed", Data: json.RawMessage(`{"x":1}`)}
	if w := e.WireError(); w.Code != -32000 || w.Message != "Authentication failed" || string(w.Data) != `{"x":1}` {
		t.Errorf("wire form: %+v", w)
	}
	f := forbiddenError{Message: "nope", Data: &forbiddenData{Reason: "LeaseInvalid"}}
	if w := f.WireError(); w.Code != -32001 || w.Message != "nope" || string(w.Data) != `{"reason":"LeaseInvalid"}` {
		t.Errorf("typed wire form: %+v", w)
	}
	if w := (forbiddenError{}).WireError(); w.Message != "Forbidden" || w.Data != nil {
		t.Errorf("typed without data: %+v", w)
	}
	wrapped := fmt.Errorf("context: %w", forbiddenError{Message: "x"})
	if !errors.As(wrapped, &forbiddenError{}) || errors.As(wrapped, &unauthorizedError{}) || errors.As(wrapped, &methodNotFoundError{}) {
		t.Error("errors.As must tell the registry errors apart through wrapping")
	}
	if got := wire.ToError(wrapped); got.Code != -32001 || got.Message != "x" {
		t.Errorf("wire.ToError: %+v", got)
	}
	ir := &endpoint.InvalidResultError{Method: "m", Err: errHandler}
	if w := wire.ToError(ir); w.Code != -32603 || w.Message != "Internal error" || w.Data != nil {
		t.Errorf("invalid result wire form: %+v", w)
	}
}

func TestRegistryFromWire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    wire.Error
		check func(error) bool
	}{
		{"plain keeps message and data", wire.Error{Code: -32000, Message: "m", Data: json.RawMessage(`[1]`)}, func(err error) bool {
			e, ok := err.(unauthorizedError)
			return ok && e.Message == "m" && string(e.Data) == `[1]`
		}},
		{"typed data decoded", wire.Error{Code: -32001, Message: "m", Data: json.RawMessage(`{"reason":"r"}`)}, func(err error) bool {
			e, ok := err.(forbiddenError)
			return ok && e.Message == "m" && e.Data != nil && e.Data.Reason == "r"
		}},
		{"typed data failing its decoder dropped", wire.Error{Code: -32001, Message: "m", Data: json.RawMessage(`{"other":1}`)}, func(err error) bool {
			e, ok := err.(forbiddenError)
			return ok && e.Message == "m" && e.Data == nil
		}},
		{"typed without data", wire.Error{Code: -32001}, func(err error) bool {
			e, ok := err.(forbiddenError)
			return ok && e.Data == nil && e.Text() == "Forbidden"
		}},
		{"unknown code", wire.Error{Code: -31999, Message: "?"}, func(err error) bool {
			e, ok := err.(endpoint.UnknownError)
			return ok && e.Wire.Code == -31999 && e.Error() == "? (-31999)" && e.WireError().Message == "?"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if err := registry.FromWire(c.in); !c.check(err) {
				t.Errorf("got %#v", err)
			}
		})
	}
}

func TestCatalogClone(t *testing.T) {
	t.Parallel()
	c := endpoint.CatalogInfo{
		Version: "1",
		Methods: []endpoint.MethodInfo{{Name: "m", Callers: []string{"agent"}}},
		Errors:  []endpoint.ErrorInfo{{Name: "E"}},
	}
	d := c.Clone()
	d.Methods[0].Callers[0] = "x"
	d.Methods[0].Name = "y"
	d.Errors[0].Name = "z"
	if c.Methods[0].Callers[0] != "agent" || c.Methods[0].Name != "m" || c.Errors[0].Name != "E" || d.Version != "1" {
		t.Fatalf("the clone shares memory with the original: %+v", c)
	}
}
