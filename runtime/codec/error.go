package codec

import (
	"strconv"
	"strings"
)

// Error is a document that does not match its schema: the JSON pointer of the offending value,
// the keyword it fails ("type", "required", "maxLength", "format", ...) and why.
type Error struct {
	Pointer    string // RFC 6901 pointer into the document; "" is the whole document
	Constraint string // the JSON Schema keyword that failed, or "syntax" for malformed JSON
	Reason     string // a sentence for people
}

// Error formats the problem as "<pointer>: <reason>", with "/" for the document itself.
func (e *Error) Error() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + e.Reason
}

func fail(constraint, reason string) *Error {
	return &Error{Constraint: constraint, Reason: reason}
}

// atKey prefixes the pointer of err with an object member name.
func atKey(err error, key string) error {
	if e, ok := err.(*Error); ok {
		e.Pointer = "/" + escapePointer(key) + e.Pointer
	}
	return err
}

// atIndex prefixes the pointer of err with an array index.
func atIndex(err error, i int) error {
	if e, ok := err.(*Error); ok {
		e.Pointer = "/" + strconv.Itoa(i) + e.Pointer
	}
	return err
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// ErrorData is the JSON error data of a decoding failure, sent with -32602:
// {"pointer": ..., "constraint": ..., "reason": ...}.
func ErrorData(e *Error) []byte {
	b := append([]byte(`{"pointer":`), AppendString(nil, e.Pointer)...)
	b = append(append(b, `,"constraint":`...), AppendString(nil, e.Constraint)...)
	b = append(append(b, `,"reason":`...), AppendString(nil, e.Reason)...)
	return append(b, '}')
}
