package endpoint

import (
	"encoding/json"
	"strconv"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Spec is what the registry states about one wire error.
type Spec struct {
	// Code is the JSON-RPC error code.
	Code int64
	// Message is the default message, sent when the error's own Message is empty.
	Message string
}

// Kind is implemented by the marker types the generated registry declares, one per wire
// error; its zero value's Spec names the error.
type Kind interface {
	Spec() Spec
}

// Data is the constraint on typed error data: the generated data types encode themselves.
type Data interface {
	AppendJSON(b []byte) []byte
}

// Error is a registry error whose data, if any, is free-form JSON. The generated package
// declares each such error as an alias: type NotFoundError = endpoint.Error[notFoundKind].
type Error[K Kind] struct {
	// Message overrides the default message of the registry when set.
	Message string
	// Data is optional free-form error data, sent as is.
	Data json.RawMessage
}

// Code returns the registry code.
func (Error[K]) Code() int64 { return spec[K]().Code }

// Text returns the message sent on the wire: Message, or the registry's default.
func (e Error[K]) Text() string { return text[K](e.Message) }

// Error returns "<text> (<code>)".
func (e Error[K]) Error() string { return describe(e.Text(), e.Code()) }

// WireError returns the JSON-RPC error object.
func (e Error[K]) WireError() wire.Error {
	return wire.Error{Code: e.Code(), Message: e.Text(), Data: e.Data}
}

// DataError is a registry error with typed data D. The generated package declares each
// such error as an alias: type ForbiddenError = endpoint.DataError[forbiddenKind, ForbiddenData].
type DataError[K Kind, D Data] struct {
	// Message overrides the default message of the registry when set.
	Message string
	// Data is the typed error data; nil when absent.
	Data *D
}

// Code returns the registry code.
func (DataError[K, D]) Code() int64 { return spec[K]().Code }

// Text returns the message sent on the wire: Message, or the registry's default.
func (e DataError[K, D]) Text() string { return text[K](e.Message) }

// Error returns "<text> (<code>)".
func (e DataError[K, D]) Error() string { return describe(e.Text(), e.Code()) }

// WireError returns the JSON-RPC error object, with Data encoded by its AppendJSON.
func (e DataError[K, D]) WireError() wire.Error {
	w := wire.Error{Code: e.Code(), Message: e.Text()}
	if e.Data != nil {
		w.Data = (*e.Data).AppendJSON(nil)
	}
	return w
}

func spec[K Kind]() Spec {
	var k K
	return k.Spec()
}

func text[K Kind](message string) string {
	if message != "" {
		return message
	}
	return spec[K]().Message
}

func describe(text string, code int64) string {
	return text + " (" + strconv.FormatInt(code, 10) + ")"
}

// New returns the Error of kind K with the message ("" = the default). Its type fits
// RouterErrors.
func New[K Kind](message string) error { return Error[K]{Message: message} }

// NewData returns the DataError of kind K with the message ("" = the default) and no data.
// Its type fits RouterErrors.
func NewData[K Kind, D Data](message string) error { return DataError[K, D]{Message: message} }

// UnknownError is a wire error whose code is not in the registry.
type UnknownError struct {
	// Wire is the error object as received.
	Wire wire.Error
}

// Error returns "<message> (<code>)".
func (e UnknownError) Error() string { return describe(e.Wire.Message, e.Wire.Code) }

// WireError returns the error object as received.
func (e UnknownError) WireError() wire.Error { return e.Wire }

// InvalidResultError is a handler result that failed its own decoder: a bug of the
// handler, answered as -32603 "Internal error" on the wire; servers log it with its cause.
type InvalidResultError struct {
	// Method is the wire name of the method or callback.
	Method string
	// Err is why the result was refused.
	Err error
}

// Error names the method and the cause.
func (e *InvalidResultError) Error() string {
	return "invalid result for " + e.Method + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *InvalidResultError) Unwrap() error { return e.Err }

// WireError returns the generic -32603 "Internal error" object: the cause stays local.
func (e *InvalidResultError) WireError() wire.Error { return wire.InternalError() }

// Entry is one row of a Registry: a code and how to rebuild its typed error.
type Entry struct {
	code     int64
	fromWire func(wire.Error) error
}

// Plain is the registry entry of an Error of kind K: the message and data are kept as
// received.
func Plain[K Kind]() Entry {
	return Entry{code: spec[K]().Code, fromWire: func(w wire.Error) error {
		return Error[K]{Message: w.Message, Data: w.Data}
	}}
}

// Typed is the registry entry of a DataError of kind K: its data is decoded with decode
// (the generated DecodeXData); data that fails is dropped, the code and message are kept.
func Typed[K Kind, D Data](decode func([]byte) (D, error)) Entry {
	return Entry{code: spec[K]().Code, fromWire: func(w wire.Error) error {
		e := DataError[K, D]{Message: w.Message}
		if len(w.Data) > 0 {
			if d, err := decode(w.Data); err == nil {
				e.Data = &d
			}
		}
		return e
	}}
}

// Registry maps a wire error object back to its typed error, so that errors.As works on
// the calling side.
type Registry struct {
	byCode map[int64]func(wire.Error) error
}

// NewRegistry returns the registry of the entries; of two entries with one code the later
// wins.
func NewRegistry(entries ...Entry) *Registry {
	r := &Registry{byCode: make(map[int64]func(wire.Error) error, len(entries))}
	for _, e := range entries {
		r.byCode[e.code] = e.fromWire
	}
	return r
}

// FromWire returns the typed error of w's code, or an UnknownError holding w.
func (r *Registry) FromWire(w wire.Error) error {
	if build, ok := r.byCode[w.Code]; ok {
		return build(w)
	}
	return UnknownError{Wire: w}
}
