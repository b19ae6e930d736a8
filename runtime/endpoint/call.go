package endpoint

import (
	"context"
	"encoding/json"
)

// Invoker sends one request and returns the raw result. Call passes params as a
// json.RawMessage holding the encoded params, so an implementation may send those bytes as
// they are. Implementations turn a wire error response into its registry type (the
// generated ErrorFromWire).
type Invoker interface {
	Invoke(ctx context.Context, method string, params any) (json.RawMessage, error)
}

// Call sends method with params p through inv and decodes the result with decode (the
// generated DecodeXResult). Errors are inv's as returned and decode's.
func Call[P Encoder, R any](ctx context.Context, inv Invoker, method string, p P, decode func([]byte) (R, error)) (R, error) {
	var params any // a nil union sends no params
	if any(p) != nil {
		params = json.RawMessage(p.AppendJSON(nil))
	}
	raw, err := inv.Invoke(ctx, method, params)
	if err != nil {
		var zero R
		return zero, err
	}
	return decode(raw)
}
