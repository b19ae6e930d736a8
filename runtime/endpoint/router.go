package endpoint

import (
	"context"
	"encoding/json"
)

// Encoder is the constraint on results and params: the generated types encode themselves.
type Encoder interface {
	AppendJSON(b []byte) []byte
}

// RouterErrors build the registry errors a Router answers with itself; each takes the
// message ("" = the registry's default). The generated package fills it with New and
// NewData of its own kinds.
type RouterErrors struct {
	// Unauthorized refuses an unauthenticated caller and a caller without owner.
	Unauthorized func(message string) error
	// Forbidden refuses an inactive caller.
	Forbidden func(message string) error
	// MethodNotFound answers a wire name outside the table.
	MethodNotFound func(message string) error
}

// Method is one row of a dispatch table: the wire name, the caller rule and the typed
// handler behind a byte-level signature. Build rows with Unary or Callback.
type Method[C Caller] struct {
	// Name is the wire name.
	Name string
	// Access is the caller rule, checked before the params are decoded.
	Access Access
	serve  func(ctx context.Context, caller C, params []byte) (json.RawMessage, error)
}

// Unary is the row of a method with params P and result R: decode decodes the params (the
// generated DecodeXParams), handle runs the request, check decodes the encoded result (the
// generated DecodeXResult) to prove it is valid before it is sent.
func Unary[C Caller, P any, R Encoder](
	name string, access Access,
	handle func(context.Context, C, P) (R, error),
	decode func([]byte) (P, error), check func([]byte) (R, error),
) Method[C] {
	serve := func(ctx context.Context, caller C, params []byte) (json.RawMessage, error) {
		p, err := decode(params)
		if err != nil {
			return nil, err
		}
		r, err := handle(ctx, caller, p)
		if err != nil {
			return nil, err
		}
		return encodeChecked(name, r, check)
	}
	return Method[C]{Name: name, Access: access, serve: serve}
}

// Callback is the row of a callback served by a CallbackRouter (no caller, no access rule);
// the arguments are those of Unary.
func Callback[P any, R Encoder](
	name string,
	handle func(context.Context, P) (R, error),
	decode func([]byte) (P, error), check func([]byte) (R, error),
) Method[Trusted] {
	withCaller := func(ctx context.Context, _ Trusted, p P) (R, error) { return handle(ctx, p) }
	return Unary(name, 0, withCaller, decode, check)
}

// encodeChecked encodes r and decodes the bytes again with check; a nil union result or a
// failing check is an *InvalidResultError.
func encodeChecked[R Encoder](method string, r R, check func([]byte) (R, error)) (json.RawMessage, error) {
	if any(r) == nil {
		return nil, &InvalidResultError{Method: method, Err: errNilResult}
	}
	b := r.AppendJSON(nil)
	if _, err := check(b); err != nil {
		return nil, &InvalidResultError{Method: method, Err: err}
	}
	return b, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNilResult = constError("the handler returned a nil result")

// emptyObject stands for absent params.
var emptyObject = []byte("{}")

// Router dispatches requests to the rows of a table; see the package documentation for
// the order of the steps. The table is read-only once built, so a Router is safe for
// concurrent use.
type Router[C Caller] struct {
	methods map[string]Method[C]
	errs    RouterErrors
}

// NewRouter returns the router of the rows; of two rows with one name the later wins.
func NewRouter[C Caller](errs RouterErrors, methods ...Method[C]) *Router[C] {
	r := &Router[C]{methods: make(map[string]Method[C], len(methods)), errs: errs}
	for _, m := range methods {
		r.methods[m.Name] = m
	}
	return r
}

// Dispatch runs one request. Its errors are the router's refusals (MethodNotFound,
// Unauthorized, Forbidden), the params decoder's, the handler's as returned, or an
// *InvalidResultError.
func (r *Router[C]) Dispatch(ctx context.Context, caller C, method string, params json.RawMessage) (json.RawMessage, error) {
	m, ok := r.methods[method]
	if !ok {
		return nil, r.errs.MethodNotFound("Unknown method: " + method)
	}
	if err := m.Access.check(caller, r.errs); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		params = emptyObject
	}
	return m.serve(ctx, caller, params)
}

// CallbackRouter dispatches the callbacks a server sends to a TaskMaster.
type CallbackRouter struct {
	r *Router[Trusted]
}

// NewCallbackRouter returns the router of the callback rows (built with Callback).
func NewCallbackRouter(errs RouterErrors, methods ...Method[Trusted]) *CallbackRouter {
	return &CallbackRouter{r: NewRouter(errs, methods...)}
}

// Dispatch runs one callback; a name outside the table is answered with MethodNotFound.
func (c *CallbackRouter) Dispatch(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	return c.r.Dispatch(ctx, Trusted{}, method, params)
}
