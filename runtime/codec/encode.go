package codec

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Control characters, quotes and backslashes are
// escaped, invalid UTF-8 becomes U+FFFD and U+2028/U+2029 are escaped, as encoding/json
// does (it does not escape <, > and &, which JSON does not require).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	// Copy the string, then check the copy eight bytes at a time; most strings need no
	// escaping and are done here.
	n := len(b)
	b = append(b, s...)
	i := plainPrefix(b[n:])
	for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return append(b, '"')
	}
	b = b[:n+i]
	start := i
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
			}
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// quote is strconv.Quote, for error messages.
func quote(s string) string { return strconv.Quote(s) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func appendFloat(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// plainPrefix returns how many leading bytes of t, a multiple of 16, are surely plain: no
// control character, '"', '\\' or non-ASCII byte. Sixteen bytes are checked at once as two
// 64-bit words.
func plainPrefix(t []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n := 0
	for len(t) >= 16 {
		w, v := binary.LittleEndian.Uint64(t), binary.LittleEndian.Uint64(t[8:])
		qw, qv := w^(ones*'"'), v^(ones*'"')
		bw, bv := w^(ones*'\\'), v^(ones*'\\')
		special := (w-ones*0x20)&^w | (v-ones*0x20)&^v | // a byte below 0x20
			(qw-ones)&^qw | (qv-ones)&^qv | (bw-ones)&^bw | (bv-ones)&^bv | // '"' or '\\'
			w | v // non-ASCII
		if special&highs != 0 {
			break
		}
		t = t[16:]
		n += 16
	}
	return n
}
