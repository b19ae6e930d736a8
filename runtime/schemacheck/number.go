package schemacheck

import (
	"math"
	"math/big"
)

// The reference validator turns a JSON number into a *big.Rat with
// new(big.Rat).SetString(literal) whenever a keyword needs its value ("type": "integer",
// the bounds, uniqueItems). SetString fails for literals whose decimal exponent is too
// large (|exponent - fraction digits| > 1e6 with a non-zero mantissa, or an exponent that
// overflows int64); the reference then dereferences a nil *big.Rat and panics. This
// package reports such a number as invalid ("fatal": it also fails any enclosing oneOf),
// which is the only verdict that is never less strict than a crash.

// numInfo is the exact analysis of a number literal.
type numInfo struct {
	ratOK    bool // big.Rat.SetString accepts the literal
	integral bool // the value is an integer (only meaningful when ratOK)
	small    bool // plain integer literal that fits int64 exactly
	i64      int64
	neg      bool  // the literal has a minus sign
	zero     bool  // the value is zero
	top      int64 // for a non-zero value: 10^(top-1) <= |value| < 10^top
}

// analyzeNumber analyses a syntactically valid JSON number literal.
func analyzeNumber(lit []byte) numInfo {
	i := 0
	neg := false
	if lit[0] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(lit) && lit[i] == '.' {
		i++
		fracStart = i
		for i < len(lit) && lit[i] >= '0' && lit[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	if i == len(lit) && fracStart == fracEnd && intEnd-intStart <= 18 {
		// Plain integer: always exact.
		var n int64
		for _, c := range lit[intStart:intEnd] {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return numInfo{ratOK: true, integral: true, small: true, i64: n, neg: neg, zero: n == 0}
	}
	// Exponent, parsed like strconv.ParseInt (the sign '+' is dropped, '-' kept).
	var exp int64
	if i < len(lit) { // 'e' or 'E'
		i++
		eneg := false
		if lit[i] == '+' || lit[i] == '-' {
			eneg = lit[i] == '-'
			i++
		}
		var u uint64
		limit := uint64(math.MaxInt64)
		if eneg {
			limit++
		}
		for ; i < len(lit); i++ {
			d := uint64(lit[i] - '0')
			if u > (limit-d)/10 {
				return numInfo{} // exponent overflows int64: SetString fails
			}
			u = u*10 + d
		}
		if eneg {
			exp = int64(-u) // -u wraps correctly for u == 1<<63
		} else {
			exp = int64(u)
		}
	}
	// Mantissa digits: int part then fraction part.
	zero := true
	trailingZeros, lead, k := 0, 0, 0
	count := func(ds []byte) {
		for _, c := range ds {
			if c == '0' {
				trailingZeros++
				if zero {
					lead++
				}
			} else {
				zero = false
				trailingZeros = 0
			}
			k++
		}
	}
	count(lit[intStart:intEnd])
	count(lit[fracStart:fracEnd])
	if zero {
		return numInfo{ratOK: true, integral: true, neg: neg, zero: true}
	}
	fracDigits := int64(fracEnd - fracStart)
	if exp > 1e15 || exp < -1e15 {
		return numInfo{} // |exp5| > 1e6 however it wraps
	}
	exp5 := exp - fracDigits
	if exp5 > 1e6 || exp5 < -1e6 {
		return numInfo{}
	}
	return numInfo{ratOK: true, integral: exp5 >= 0 || int64(trailingZeros) >= -exp5, neg: neg,
		top: int64(k-lead) + exp5}
}

// bound is a compiled numeric bound.
type bound struct {
	rat   *big.Rat
	small bool // rat is an integer that fits int64
	i64   int64
}

func newBound(r *big.Rat) *bound {
	b := &bound{rat: r}
	if r.IsInt() && r.Num().IsInt64() {
		b.small, b.i64 = true, r.Num().Int64()
	}
	return b
}

// cmpBound compares the number literal with the bound: -1, 0, +1; ok is false when the
// literal cannot be converted (the reference panics).
func cmpBound(lit []byte, info *numInfo, b *bound) (c int, ok bool) {
	if info.small && b.small {
		switch {
		case info.i64 < b.i64:
			return -1, true
		case info.i64 > b.i64:
			return 1, true
		}
		return 0, true
	}
	if !info.ratOK {
		return 0, false
	}
	if b.small {
		// Decide by magnitude where possible: it spares big.Rat a 10^exponent that can
		// have a million digits.
		sign := 1
		if info.neg {
			sign = -1
		}
		switch {
		case info.zero:
			return cmpInt(0, b.i64), true
		case info.top >= 20: // |value| >= 10^19 > any int64
			return sign, true
		case info.top <= 0: // 0 < |value| < 1
			if b.i64 == 0 {
				return sign, true
			}
			return cmpInt(0, b.i64), true
		}
	}
	r, ok := new(big.Rat).SetString(string(lit))
	if !ok {
		return 0, false
	}
	return r.Cmp(b.rat), true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
