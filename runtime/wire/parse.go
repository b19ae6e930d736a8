package wire

import (
	"encoding/json"
	"math"
	"strconv"
)

// Frame is one classified inbound JSON-RPC object.
//
// Params, Result and Error.Data are raw slices of the input passed to Parse:
// they are not copied, so a caller that keeps them after reusing the input
// buffer must copy them first.
type Frame struct {
	// Kind is the classification; KindInvalid when Parse returns an error.
	Kind Kind
	// ID is the frame's id when HasID is true.
	ID string
	// HasID reports that the frame has an id member holding a string. It is
	// also set for invalid frames whose string id could be extracted, so the
	// receiver can answer with that id. A response with "id": null has
	// Kind KindResponse and HasID false.
	HasID bool
	// Method is the method name of a request or notification.
	Method string
	// Params is the raw params value; nil when absent (absent means {}).
	Params json.RawMessage
	// Result is the raw result value of a success response.
	Result json.RawMessage
	// Error is the error object of an error response.
	Error *Error
}

// MaxDepth is the deepest nesting of arrays and objects a request's members may have: its
// params object counts as level 1, so params may nest 64 levels. A request nested deeper
// (however deep: the frame size is the only bound) is answered -32600 with its id. Responses
// and notifications are not limited beyond what encoding/json accepts (10000 levels for the
// whole frame). The protocol's own params nest fewer than 10 levels.
const MaxDepth = 64

// rawMembers holds the raw values of the recognised top-level members; a nil
// slice means the member is absent.
type rawMembers struct {
	jsonrpc, id, method, params, result, err []byte
	unknown                                  bool
}

// Parse classifies one inbound frame strictly per REFERENCE 2.3/2.4.
//
//   - Invalid JSON (including empty input) returns a -32700 "Invalid JSON" error.
//   - Valid JSON that is not a single JSON-RPC object returns a -32600
//     "Invalid request frame" error: arrays (batches), scalars, a jsonrpc
//     member other than the string "2.0", a non-string id (a null id is only
//     allowed in responses), an empty or non-string method, both or neither of
//     result/error, a malformed error object (integer code and string message
//     required, data optional, nothing else), members that do not belong to
//     the frame's kind, and unknown top-level members.
//   - A request (method and id members) whose members nest deeper than MaxDepth returns a
//     -32600 error with the request's id, whatever the depth; so does a request deeper than
//     encoding/json's 10000 levels, which is otherwise treated as invalid JSON.
//
// Member names are matched exactly (case-sensitive, JSON escapes resolved).
// When a member is repeated the last occurrence wins, like encoding/json.
// When the frame is invalid but has a string id, Frame.ID and Frame.HasID
// carry it so the caller can answer with that id. Params and result are not
// decoded; they are returned raw (see Frame).
func Parse(b []byte) (Frame, *Error) {
	m, depth, res := collect(b)
	switch res {
	case notJSON:
		e := ParseError()
		return Frame{}, &e
	case notObject:
		e := InvalidRequest()
		return Frame{}, &e
	}
	var f Frame
	if m.id != nil && isString(m.id) {
		f.ID, f.HasID = unquote(m.id)
	}
	if depth > MaxDepth {
		switch {
		case m.method != nil && m.id != nil:
			e := Error{Code: CodeInvalidRequest, Message: MessageInvalidRequest + ": nested deeper than " + strconv.Itoa(MaxDepth) + " levels"}
			return Frame{Kind: KindInvalid, ID: f.ID, HasID: f.HasID}, &e
		case depth >= maxDepth: // the frame is deeper than encoding/json accepts
			e := ParseError()
			return Frame{}, &e
		}
	}
	if !classify(&f, &m) {
		e := InvalidRequest()
		return Frame{Kind: KindInvalid, ID: f.ID, HasID: f.HasID}, &e
	}
	return f, nil
}

// collectResult tells what collect found.
type collectResult int

const (
	isObject  collectResult = iota // valid JSON object; members collected
	notObject                      // valid JSON, but not an object
	notJSON                        // not valid JSON
)

// collect validates b as JSON and gathers its top-level members in the same
// pass. depth is the deepest nesting of a member value when it exceeds MaxDepth (the
// members are then found by a second, iterative pass), else 0.
func collect(b []byte) (m rawMembers, depth int, res collectResult) {
	start := skipWS(b, 0)
	it, ok := newObjectIter(b, start)
	if !ok {
		if validJSON(b) {
			return m, 0, notObject
		}
		return m, 0, notJSON
	}
	// Fast path: member values may nest MaxDepth levels before the scanner gives up.
	it.depth = maxDepth - MaxDepth
	if m, ok := collectMembers(&it); ok {
		return m, 0, isObject
	}
	// Invalid, or nested deeper: rescan iteratively to tell which and find the id.
	it, _ = newObjectIter(b, start)
	it.flat = true
	m, ok = collectMembers(&it)
	if !ok || it.deepest <= MaxDepth {
		return rawMembers{}, 0, notJSON
	}
	return m, it.deepest, isObject
}

// collectMembers gathers the members of the object it is positioned on and checks that
// only whitespace follows it; ok is false when the input is not valid JSON.
func collectMembers(it *objectIter) (m rawMembers, ok bool) {
	b := it.b
	for {
		key, val, more, failed := it.next()
		if failed {
			return m, false
		}
		if !more {
			break
		}
		switch string(decodeKey(key)) {
		case "jsonrpc":
			m.jsonrpc = val
		case "id":
			m.id = val
		case "method":
			m.method = val
		case "params":
			m.params = val
		case "result":
			m.result = val
		case "error":
			m.err = val
		default:
			m.unknown = true
		}
	}
	if skipWS(b, it.i) != len(b) {
		return m, false
	}
	return m, true
}

// classify fills f from m and reports whether m is a valid frame. f.ID and
// f.HasID are already set by the caller.
func classify(f *Frame, m *rawMembers) bool {
	if m.unknown || !isVersion(m.jsonrpc) {
		return false
	}
	if m.method != nil {
		if m.result != nil || m.err != nil {
			return false
		}
		method, ok := unquote(m.method)
		if !ok || method == "" {
			return false
		}
		switch {
		case m.id == nil:
			f.Kind = KindNotification
		case f.HasID:
			f.Kind = KindRequest
		default: // null, number, object, ... id
			return false
		}
		f.Method = method
		f.Params = m.params
		return true
	}
	// Response.
	if m.params != nil || m.id == nil || (!f.HasID && !isNull(m.id)) {
		return false
	}
	switch {
	case m.result != nil && m.err == nil:
		f.Result = m.result
	case m.err != nil && m.result == nil:
		e, ok := parseErrorObject(m.err)
		if !ok {
			return false
		}
		f.Error = e
	default:
		return false
	}
	f.Kind = KindResponse
	return true
}

// isVersion reports whether raw is the JSON string "2.0".
func isVersion(raw []byte) bool {
	if string(raw) == `"`+Version+`"` {
		return true
	}
	s, ok := unquote(raw) // escaped spelling, e.g. "\u0032.0"
	return ok && s == Version
}

// parseErrorObject decodes a strict error object: integer code, string
// message, optional data, no other members.
func parseErrorObject(raw []byte) (*Error, bool) {
	it, ok := newObjectIter(raw, 0)
	if !ok {
		return nil, false
	}
	var code, msg, data []byte
	for {
		key, val, more, failed := it.next()
		if failed {
			return nil, false
		}
		if !more {
			break
		}
		switch string(decodeKey(key)) {
		case "code":
			code = val
		case "message":
			msg = val
		case "data":
			data = val
		default:
			return nil, false
		}
	}
	c, ok := parseInteger(code)
	if !ok {
		return nil, false
	}
	message, ok := unquote(msg)
	if !ok {
		return nil, false
	}
	return &Error{Code: c, Message: message, Data: data}, true
}

// parseInteger accepts a JSON number with an integral value that fits in
// int64 ("-32600", and also "-32600.0" or "-3.26e4", which JSON-based peers
// consider integers).
func parseInteger(raw []byte) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	s := string(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}
