package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// This file holds a small validating JSON scanner. It accepts exactly what
// json.Valid accepts (RFC 8259 grammar, nesting limited to maxDepth, bytes
// of strings not checked for UTF-8 validity) but lets Parse validate and
// locate the top-level members in a single pass without allocating. Every
// function returns the index just past what it scanned, or -1 when the
// input is not valid JSON; indexes are bounds-checked so malformed input
// can never cause a panic.

// maxDepth is the deepest nesting of arrays and objects accepted; it is the
// same limit encoding/json applies.
const maxDepth = 10000

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString scans the string starting at b[i] == '"'.
func scanString(b []byte, i int) int {
	end, _ := scanStringPlain(b, i)
	return end
}

// scanStringPlain scans the string starting at b[i] == '"' and also reports whether its
// body is plain: printable ASCII without escapes, so that it can be used as it is. Runs of
// plain bytes are skipped eight at a time.
func scanStringPlain(b []byte, i int) (end int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return -1, false
	}
	i++
	for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			return i + 1, true
		}
		if c < 0x20 || c == '\\' || c >= 0x80 {
			break
		}
	}
	return scanStringRest(b, i)
}

// plainWord reports whether none of the eight bytes of w is a control character, '"',
// '\\' or non-ASCII.
func plainWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	special := (w - ones*0x20) & ^w & highs // a byte below 0x20
	special |= hasZero(w^ones*'"') | hasZero(w^ones*'\\') | w&highs
	return special == 0
}

// scanStringRest scans the rest of a string body from b[i], which is not plain.
func scanStringRest(b []byte, i int) (end int, plain bool) {
	end = scanStringBody(b, i)
	return end, false
}

// scanStringBody scans a string body from b[i] up to and including the closing quote.
func scanStringBody(b []byte, i int) int {
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanDigits scans one or more digits.
func scanDigits(b []byte, i int) int {
	if i >= len(b) || !isDigit(b[i]) {
		return -1
	}
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	if b[i] == '0' {
		i++
	} else if i = scanDigits(b, i); i < 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = scanDigits(b, i+1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = scanDigits(b, i); i < 0 {
			return -1
		}
	}
	return i
}

// scanLiteral scans the literal lit at b[i].
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanValue scans one JSON value at b[i] (no leading whitespace) nested
// depth levels deep.
func scanValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	default:
		return -1
	}
}

// scanArray scans the array at b[i] == '['; depth counts this array.
func scanArray(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i = scanValue(b, i, depth); i < 0 {
			return -1
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// scanObject scans the object at b[i] == '{'; depth counts this object.
func scanObject(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	it := objectIter{b: b, i: i + 1, depth: depth, first: true}
	for {
		_, _, more, failed := it.next()
		if failed {
			return -1
		}
		if !more {
			return it.i
		}
	}
}

// objectIter walks and validates the members of one JSON object.
type objectIter struct {
	b     []byte
	i     int // index after the last scanned token
	depth int // nesting depth of the object itself
	first bool
	// flat scans member values with scanValueFlat (no recursion, no depth limit) and
	// records the deepest member nesting in deepest.
	flat    bool
	deepest int
}

// newObjectIter positions an iterator on the object that starts at b[i]
// (no leading whitespace). ok is false if there is no object there.
func newObjectIter(b []byte, i int) (it objectIter, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return objectIter{}, false
	}
	return objectIter{b: b, i: i + 1, depth: 1, first: true}, true
}

// next returns the raw key (with quotes) and raw value of the next member.
// more is false after the closing brace, whose successor index is then in
// it.i; failed is true when the input is not valid JSON.
func (it *objectIter) next() (key, val []byte, more, failed bool) {
	b := it.b
	i := skipWS(b, it.i)
	if i >= len(b) {
		return nil, nil, false, true
	}
	if it.first {
		it.first = false
		if b[i] == '}' {
			it.i = i + 1
			return nil, nil, false, false
		}
	} else {
		switch b[i] {
		case '}':
			it.i = i + 1
			return nil, nil, false, false
		case ',':
			i = skipWS(b, i+1)
		default:
			return nil, nil, false, true
		}
	}
	ks := i
	if i = scanString(b, i); i < 0 {
		return nil, nil, false, true
	}
	key = b[ks:i]
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false, true
	}
	i = skipWS(b, i+1)
	vs := i
	if it.flat {
		var d int
		i, d = scanValueFlat(b, i)
		it.deepest = max(it.deepest, d)
	} else {
		i = scanValue(b, i, it.depth)
	}
	if i < 0 {
		return nil, nil, false, true
	}
	it.i = i
	return key, b[vs:i], true, false
}

// scanValueFlat scans one JSON value at b[i] (no leading whitespace) like scanValue, but
// iteratively, with no depth limit (the input length bounds the work) and reporting the
// value's nesting depth: 0 for a scalar, 1 for an array or object of scalars. It lets Parse
// find the members of a frame nested too deep for the recursive scanner, so that such a
// request is still answered with its id.
func scanValueFlat(b []byte, i int) (end, depth int) {
	var small [64]byte
	stack := small[:0] // the closing bracket of each open container
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return -1, 0
		}
		switch c := b[i]; c {
		case '{', '[':
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			stack = append(stack, closer)
			depth = max(depth, len(stack))
			i = skipWS(b, i+1)
			if i < len(b) && b[i] == closer {
				stack = stack[:len(stack)-1]
				i++
				break // an empty container is a complete value
			}
			if c == '{' {
				if i = scanMemberKey(b, i); i < 0 {
					return -1, 0
				}
			}
			continue // scan the first element or member value
		case '"':
			i = scanString(b, i)
		case 't':
			i = scanLiteral(b, i, "true")
		case 'f':
			i = scanLiteral(b, i, "false")
		case 'n':
			i = scanLiteral(b, i, "null")
		default:
			if c != '-' && !isDigit(c) {
				return -1, 0
			}
			i = scanNumber(b, i)
		}
		if i < 0 {
			return -1, 0
		}
		// After a complete value: close containers, or move on to the next element.
		for {
			if len(stack) == 0 {
				return i, depth
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return -1, 0
			}
			top := stack[len(stack)-1]
			if b[i] == top {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return -1, 0
			}
			i = skipWS(b, i+1)
			if top == '}' {
				if i = scanMemberKey(b, i); i < 0 {
					return -1, 0
				}
			}
			break
		}
	}
}

// scanMemberKey scans `"key" :` at b[i] and returns the index of the member's value.
func scanMemberKey(b []byte, i int) int {
	if i = scanString(b, i); i < 0 {
		return -1
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipWS(b, i+1)
}

// validJSON reports whether b is one valid JSON value surrounded by optional
// whitespace; it agrees with json.Valid.
func validJSON(b []byte) bool {
	i := scanValue(b, skipWS(b, 0), 0)
	return i >= 0 && skipWS(b, i) == len(b)
}

// isString reports whether the raw value is a JSON string.
func isString(raw []byte) bool { return len(raw) >= 2 && raw[0] == '"' }

// isNull reports whether the raw value is the JSON literal null.
func isNull(raw []byte) bool { return string(raw) == "null" }

// unquote decodes a raw JSON string. The fast path avoids encoding/json for
// strings without escapes; invalid UTF-8 goes through encoding/json so the
// result is the same as json.Unmarshal (U+FFFD replacement).
func unquote(raw []byte) (string, bool) {
	if !isString(raw) {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// decodeKey returns the inner bytes of a raw key with escapes resolved.
// Unescaped keys (the normal case) are returned without copying.
func decodeKey(raw []byte) []byte {
	if len(raw) < 2 {
		return nil
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	s, ok := unquote(raw)
	if !ok {
		return nil
	}
	return []byte(s)
}

// SkipSpace returns the index of the first byte of b at or after i that is not JSON
// whitespace. It is the scanner the generated codecs (runtime/codec) read with.
func SkipSpace(b []byte, i int) int { return skipWS(b, i) }

// ScanString returns the index just past the JSON string that starts at b[i], or -1 when
// there is no valid string there (the bytes are not checked for UTF-8 validity).
func ScanString(b []byte, i int) int { return scanString(b, i) }

// ScanNumber returns the index just past the JSON number that starts at b[i], or -1.
func ScanNumber(b []byte, i int) int { return scanNumber(b, i) }

// ScanLiteral returns the index just past lit ("true", "false" or "null") at b[i], or -1.
func ScanLiteral(b []byte, i int, lit string) int { return scanLiteral(b, i, lit) }

// ScanValue returns the index just past the JSON value that starts at b[i], or -1.
func ScanValue(b []byte, i int) int { return scanValue(b, i, 0) }

// ScanStringPlain is ScanString that also reports whether the string body is plain
// (printable ASCII, no escapes) and can be used without decoding.
func ScanStringPlain(b []byte, i int) (end int, plain bool) { return scanStringPlain(b, i) }
