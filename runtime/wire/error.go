package wire

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Error is a JSON-RPC error object (REFERENCE 5.1). It implements error, so a
// handler may return it directly and a caller receives it from an error
// response.
type Error struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error returns "jsonrpc error <code>: <message>".
func (e Error) Error() string {
	return "jsonrpc error " + strconv.FormatInt(e.Code, 10) + ": " + e.Message
}

// WireError returns e itself, so Error satisfies Coded.
func (e Error) WireError() Error { return e }

// Coded is implemented by errors that know their wire form, such as the
// generated typed errors of the error registry.
type Coded interface {
	WireError() Error
}

// ToError maps err to the error object sent on the wire. An error in err's
// chain implementing Coded (including Error and *Error) yields its wire form;
// anything else, including nil, yields -32603 "Internal error" so that
// internal details never leak to the peer.
func ToError(err error) Error {
	var c Coded
	if err != nil && errors.As(err, &c) {
		if pe, ok := c.(*Error); ok && pe == nil {
			return InternalError()
		}
		return c.WireError()
	}
	return InternalError()
}

// NewError returns an error object with the given code and message.
func NewError(code int64, message string) *Error {
	return &Error{Code: code, Message: message}
}

// ParseError returns the -32700 "Invalid JSON" error object.
func ParseError() Error { return Error{Code: CodeParseError, Message: MessageParseError} }

// InvalidRequest returns the -32600 "Invalid request frame" error object.
func InvalidRequest() Error {
	return Error{Code: CodeInvalidRequest, Message: MessageInvalidRequest}
}

// InternalError returns the -32603 "Internal error" error object.
func InternalError() Error {
	return Error{Code: CodeInternalError, Message: MessageInternalError}
}

// MethodNotFound returns the -32601 error object with the message
// "Unknown method: <method>" (REFERENCE 2.4).
func MethodNotFound(method string) *Error {
	return &Error{Code: CodeMethodNotFound, Message: "Unknown method: " + method}
}
