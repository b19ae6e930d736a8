package codec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// The errors of ParseInteger and ParseNumber; callers map them to the "type" and range
// constraints.
var (
	// ErrNotInteger is a number whose value is not integral (1.5, 1e-1).
	ErrNotInteger = errors.New("must be an integer")
	// ErrOutOfRange is a number that does not fit the Go type: an integral value outside
	// int64, or a number whose magnitude overflows float64.
	ErrOutOfRange = errors.New("out of range")
)

// numLiteral is a JSON number literal split into its parts.
type numLiteral struct {
	neg        bool
	intDigits  []byte // "0" or [1-9][0-9]*
	fracDigits []byte // digits after '.', possibly empty
	exp        int64  // decimal exponent, clamped to ±numExpClamp
	// expOverflow: the exponent does not fit int64. jsonschema/v5 (big.Rat.SetString) cannot
	// read such a literal and panics; the codec rejects it, whatever the mantissa.
	expOverflow bool
}

// digit returns digit k of the mantissa intDigits+fracDigits.
func (n numLiteral) digit(k int) byte {
	if k < len(n.intDigits) {
		return n.intDigits[k]
	}
	return n.fracDigits[k-len(n.intDigits)]
}

// significant returns the number of mantissa digits and the indexes of its first and last
// non-zero digits; first == total when the value is zero (last is then meaningless).
func (n numLiteral) significant() (total, first, last int) {
	total = len(n.intDigits) + len(n.fracDigits)
	for first < total && n.digit(first) == '0' {
		first++
	}
	last = total - 1
	for last > first && n.digit(last) == '0' {
		last--
	}
	return total, first, last
}

// numExpClamp bounds the exponents numSplit keeps: any larger magnitude already decides the
// verdict (a literal cannot have 2^60 digits), and the clamp keeps exponent arithmetic from
// overflowing int64.
const numExpClamp = 1 << 60

// numSplit parses lit with the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and reports whether it matched.
func numSplit(lit []byte) (n numLiteral, ok bool) {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		n.neg = true
		i++
	}
	start := i
	if i < len(lit) && lit[i] == '0' {
		i++
	} else {
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
	}
	if i == start {
		return n, false
	}
	n.intDigits = lit[start:i]
	if i < len(lit) && lit[i] == '.' {
		i++
		start = i
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
		if i == start {
			return n, false
		}
		n.fracDigits = lit[start:i]
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		eneg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			eneg = lit[i] == '-'
			i++
		}
		start = i
		var e int64
		var u uint64
		limit := uint64(math.MaxInt64)
		if eneg {
			limit++
		}
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			if d := uint64(lit[i] - '0'); !n.expOverflow && u > (limit-d)/10 {
				n.expOverflow = true
			} else {
				u = u*10 + d
			}
			if e <= numExpClamp/10 {
				e = e*10 + int64(lit[i]-'0')
			} else {
				e = numExpClamp
			}
			i++
		}
		if i == start {
			return n, false
		}
		e = min(e, numExpClamp)
		if eneg {
			e = -e
		}
		n.exp = e
	}
	return n, i == len(lit)
}

// numErrSyntax reports a literal that is not a JSON number; the decoder never passes one.
func numErrSyntax(lit []byte) error {
	const max = 32
	if len(lit) > max {
		return errors.New("codec: malformed number literal " + strconv.Quote(string(lit[:max])) + "...")
	}
	return errors.New("codec: malformed number literal " + strconv.Quote(string(lit)))
}

// ParseInteger returns the value of a JSON number literal for a JSON Schema "integer": as in
// draft 2020-12, any number with an integral value is an integer, whatever its spelling (1.0,
// 1e2, -0 and 120e-1 are integers; 1.5 and 1e-1 are not). The conversion is exact, without
// float64 rounding. A value that is not integral is ErrNotInteger, an integral value outside
// int64 is ErrOutOfRange.
//
// lit must be a JSON number literal (what the decoder's scanner accepts); anything else is
// an error of its own. The work is linear in len(lit), however large the exponent is.
func ParseInteger(lit []byte) (int64, error) {
	// Fast path: a plain integer of at most 18 digits always fits.
	if d := lit; len(d) > 0 && len(d) <= 19 {
		neg := d[0] == '-'
		if neg {
			d = d[1:]
		}
		if len(d) > 0 && len(d) <= 18 && (d[0] != '0' || len(d) == 1) {
			var v int64
			plain := true
			for _, c := range d {
				if c < '0' || c > '9' {
					plain = false
					break
				}
				v = v*10 + int64(c-'0')
			}
			if plain {
				if neg {
					v = -v
				}
				return v, nil
			}
		}
	}
	n, ok := numSplit(lit)
	if !ok {
		return 0, numErrSyntax(lit)
	}
	// The mantissa is the digit sequence intDigits+fracDigits; value = mantissa * 10^e with
	// e = exp - len(fracDigits).
	total, first, last := n.significant()
	if first == total {
		if n.expOverflow {
			return 0, ErrOutOfRange // 0e99999999999999999999: see numLiteral.expOverflow
		}
		return 0, nil // zero, whatever the exponent (-0 and 0e999 are the integer 0)
	}
	// value = sig * 10^e, sig = digits[first..last] (no leading or trailing zeros).
	e := n.exp - int64(len(n.fracDigits)) + int64(total-1-last)
	if e < 0 {
		return 0, ErrNotInteger
	}
	sigLen := int64(last - first + 1)
	if sigLen+e > 19 { // |value| >= 10^19 > 2^63
		return 0, ErrOutOfRange
	}
	var u uint64 // < 10^19 < 2^64: no overflow
	for k := first; k <= last; k++ {
		u = u*10 + uint64(n.digit(k)-'0')
	}
	for ; e > 0; e-- {
		u *= 10
	}
	if n.neg {
		if u > 1<<63 {
			return 0, ErrOutOfRange
		}
		return int64(-u), nil // -u wraps to math.MinInt64 for u == 1<<63
	}
	if u > math.MaxInt64 {
		return 0, ErrOutOfRange
	}
	return int64(u), nil
}

// ParseNumber returns the float64 nearest to a JSON number literal, for a JSON Schema
// "number". A literal whose magnitude overflows float64 is ErrOutOfRange; one that underflows
// rounds to zero (or a subnormal), as strconv.ParseFloat does.
//
// lit must be a JSON number literal (what the decoder's scanner accepts); anything else is
// an error of its own, so spellings strconv.ParseFloat would take ("Inf", "0x1p3", "1_0")
// never get through. Short literals go to strconv.ParseFloat as they are. Longer ones are
// first rewritten as 0.<at most 800 significant digits>e<exponent>: strconv.ParseFloat
// misplaces the decimal point of a literal with more than 800 integer digits
// ("1" + 800 zeros + "e-800" parses as 0.1) and caps exponents near 10000 even when the
// digits make up for them (go.dev/issue/42436).
func ParseNumber(lit []byte) (float64, error) {
	n, ok := numSplit(lit)
	if !ok {
		return 0, numErrSyntax(lit)
	}
	if len(lit) <= 64 {
		return numParseFloat(lit)
	}
	total, first, last := n.significant()
	if first == total {
		if n.neg {
			return math.Copysign(0, -1), nil
		}
		return 0, nil
	}
	// value = 0.d[first..last] * 10^point
	point := int64(len(n.intDigits)-first) + n.exp
	switch {
	case point > 310: // >= 10^309
		return 0, ErrOutOfRange
	case point < -330: // < 10^-330, below half the smallest subnormal
		if n.neg {
			return math.Copysign(0, -1), nil
		}
		return 0, nil
	}
	const maxDigits = 800 // what strconv keeps; more only matter as "some digit is non-zero"
	var arr [maxDigits + 16]byte
	buf := arr[:0]
	if n.neg {
		buf = append(buf, '-')
	}
	buf = append(buf, '0', '.')
	k := first
	for ; k <= last && k < first+maxDigits; k++ {
		buf = append(buf, n.digit(k))
	}
	if k <= last {
		buf = append(buf, '1') // sticky digit: the value lies strictly above the kept digits
	}
	buf = append(buf, 'e')
	buf = strconv.AppendInt(buf, point, 10)
	return numParseFloat(buf)
}

func numParseFloat(lit []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) { // overflow: f is ±Inf
			return 0, ErrOutOfRange
		}
		return 0, fmt.Errorf("codec: number literal: %w", err)
	}
	return f, nil
}
