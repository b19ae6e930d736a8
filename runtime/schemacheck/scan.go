package schemacheck

import (
	"encoding/binary"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the byte-level JSON scanner. Its grammar is exactly the one of
// encoding/json's scanner (RFC 8259, nesting capped at maxDepth containers, invalid UTF-8
// tolerated inside strings) and its string decoding is exactly encoding/json's unquote
// (escapes resolved, lone surrogates and invalid UTF-8 replaced by U+FFFD), because the
// reference validator sees the value encoding/json decodes.

// maxDepth is encoding/json's maxNestingDepth: 10000 nested containers decode, 10001 do not.
const maxDepth = 10000

// strClass classifies string bytes: 0 plain ASCII, 1 quote or backslash, 2 control
// character (invalid), 3 non-ASCII (needs UTF-8 validation).
var strClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 2
	}
	t['"'] = 1
	t['\\'] = 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 3
	}
	return t
}()

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ws returns the position of the first non-whitespace byte at or after pos.
func (v *validator) ws(pos int) int {
	d := v.data
	for pos < len(d) && isSpace(d[pos]) {
		pos++
	}
	return pos
}

// at returns the byte at pos, or 0 at the end of the input (0 is never valid where a
// structural byte is expected, so callers need no separate bounds check).
func (v *validator) at(pos int) byte {
	if pos < len(v.data) {
		return v.data[pos]
	}
	return 0
}

// syntaxErr records a syntax error at pos and returns the syntax status.
func (v *validator) syntaxErr(pos int, context string) status {
	if v.synPos < 0 {
		v.synPos = pos
		v.synCtx = context
	}
	return stSyntax
}

// syntaxMessage renders the recorded syntax error the way encoding/json words it.
func (v *validator) syntaxMessage() string {
	if v.synCtx == "trailing" {
		return "trailing data after the JSON value"
	}
	if v.synCtx == "depth" {
		return "exceeded max depth"
	}
	if v.synPos >= len(v.data) {
		return "unexpected end of JSON input"
	}
	return "invalid character " + quoteChar(v.data[v.synPos]) + " " + v.synCtx + " (offset " + strconv.Itoa(v.synPos) + ")"
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// scanString scans the string starting at pos (at its opening quote). It returns the
// position after the closing quote, whether the decoded value differs from the raw bytes
// between the quotes (escapes or invalid UTF-8), and whether those bytes are all ASCII.
func (v *validator) scanString(pos int) (end int, decode, ascii bool, st status) {
	d := v.data
	i := pos + 1
	ascii = true
	for {
		// Fast path: plain ASCII, eight bytes at a time, then byte by byte.
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			if special(x) {
				break
			}
			i += 8
		}
		for i < len(d) && strClass[d[i]] == 0 {
			i++
		}
		if i >= len(d) {
			return 0, false, false, v.syntaxErr(i, "in string literal")
		}
		switch c := d[i]; strClass[c] {
		case 1:
			if c == '"' {
				return i + 1, decode, ascii, stOK
			}
			// Backslash escape.
			decode = true
			if i+1 >= len(d) {
				return 0, false, false, v.syntaxErr(i+1, "in string escape code")
			}
			switch d[i+1] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(d) || !isHex(d[i+k]) {
						return 0, false, false, v.syntaxErr(i+k, "in \\u hexadecimal character escape")
					}
				}
				i += 6
			default:
				return 0, false, false, v.syntaxErr(i+1, "in string escape code")
			}
		case 2:
			return 0, false, false, v.syntaxErr(i, "in string literal")
		case 3:
			ascii = false
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				decode = true
			}
			i += size
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special reports whether any of the eight bytes of x is a quote, a backslash, a control
// character or non-ASCII.
func special(x uint64) bool {
	hasZero := func(y uint64) uint64 { return (y - lsb) & ^y & msb }
	return (x&msb)|((x-lsb*0x20)&^x&msb)|hasZero(x^(lsb*'"'))|hasZero(x^(lsb*'\\')) != 0
}

// unquote decodes the body of a syntactically valid string (the bytes between the
// quotes) into v.scratch exactly as encoding/json does, and returns the decoded bytes.
// The result is only valid until the next call.
func (v *validator) unquote(s []byte) []byte {
	b := v.scratch[:0]
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	v.scratch = b
	return b
}

// getu4 decodes \uXXXX from the beginning of s, returning the hex value, or -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// stringValue scans the string at pos and returns its decoded value: a sub-slice of the
// input when no decoding is needed, else (decoded is true) v.scratch, valid until the
// next decoding. ascii reports that the value is plain ASCII.
func (v *validator) stringValue(pos int) (val []byte, end int, decoded, ascii bool, st status) {
	end, decoded, ascii, st = v.scanString(pos)
	if st != stOK {
		return nil, 0, false, false, st
	}
	body := v.data[pos+1 : end-1]
	if decoded {
		return v.unquote(body), end, true, false, stOK
	}
	return body, end, false, ascii, stOK
}

// scanNumber scans the number literal at pos and returns the position after it.
func (v *validator) scanNumber(pos int) (int, status) {
	d := v.data
	i := pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch c := v.at(i); {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return 0, v.syntaxErr(i, "in numeric literal")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if c := v.at(i); c < '0' || c > '9' {
			return 0, v.syntaxErr(i, "after decimal point in numeric literal")
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if c := v.at(i); c < '0' || c > '9' {
			return 0, v.syntaxErr(i, "in exponent of numeric literal")
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	return i, stOK
}

// scanLiteral checks the literal word (true, false, null) at pos.
func (v *validator) scanLiteral(pos int, word string) (int, status) {
	d := v.data
	for k := 1; k < len(word); k++ {
		if pos+k >= len(d) || d[pos+k] != word[k] {
			return 0, v.syntaxErr(pos+k, "in literal "+word+" (expecting "+quoteChar(word[k])+")")
		}
	}
	return pos + len(word), stOK
}

// skip scans the value at pos (syntax only) and returns the position after it.
func (v *validator) skip(pos, depth int) (int, status) {
	switch c := v.at(pos); c {
	case '{':
		depth++
		if depth > maxDepth {
			return 0, v.depthErr(pos)
		}
		pos = v.ws(pos + 1)
		if v.at(pos) == '}' {
			return pos + 1, stOK
		}
		for {
			if v.at(pos) != '"' {
				return 0, v.syntaxErr(pos, "looking for beginning of object key string")
			}
			end, _, _, st := v.scanString(pos)
			if st != stOK {
				return 0, st
			}
			pos = v.ws(end)
			if v.at(pos) != ':' {
				return 0, v.syntaxErr(pos, "after object key")
			}
			if pos, st = v.skip(v.ws(pos+1), depth); st != stOK {
				return 0, st
			}
			pos = v.ws(pos)
			switch v.at(pos) {
			case ',':
				pos = v.ws(pos + 1)
			case '}':
				return pos + 1, stOK
			default:
				return 0, v.syntaxErr(pos, "after object key:value pair")
			}
		}
	case '[':
		depth++
		if depth > maxDepth {
			return 0, v.depthErr(pos)
		}
		pos = v.ws(pos + 1)
		if v.at(pos) == ']' {
			return pos + 1, stOK
		}
		for {
			var st status
			if pos, st = v.skip(pos, depth); st != stOK {
				return 0, st
			}
			pos = v.ws(pos)
			switch v.at(pos) {
			case ',':
				pos = v.ws(pos + 1)
			case ']':
				return pos + 1, stOK
			default:
				return 0, v.syntaxErr(pos, "after array element")
			}
		}
	case '"':
		end, _, _, st := v.scanString(pos)
		return end, st
	case 't':
		return v.scanLiteral(pos, "true")
	case 'f':
		return v.scanLiteral(pos, "false")
	case 'n':
		return v.scanLiteral(pos, "null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return v.scanNumber(pos)
		}
		return 0, v.syntaxErr(pos, "looking for beginning of value")
	}
}

func (v *validator) depthErr(pos int) status {
	if v.synPos < 0 {
		v.synPos = pos
		v.synCtx = "depth"
	}
	return stSyntax
}
