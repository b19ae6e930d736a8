package codec_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moltzap/moltzap-go/runtime/codec"
)

// jsonNumberLit is the grammar of a JSON number literal (RFC 8259).
var jsonNumberLit = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// ratVerdict is the JSON Schema "integer" verdict computed with big.Rat; ok is false when
// big.Rat cannot represent the literal (decimal exponents beyond about 1e6).
func ratVerdict(lit string) (v int64, err error, ok bool) {
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		return 0, nil, false
	}
	if !r.IsInt() {
		return 0, codec.ErrNotInteger, true
	}
	if !r.Num().IsInt64() {
		return 0, codec.ErrOutOfRange, true
	}
	return r.Num().Int64(), nil, true
}

// bigVerdict is the same verdict for any JSON literal, with the exponent as a big.Int:
// value = mantissa digits * 10^(exponent - fraction digits).
func bigVerdict(lit string) (int64, error) {
	m := jsonNumberLit.FindStringSubmatch(lit)
	digits := m[1] + strings.TrimPrefix(m[2], ".")
	exp := new(big.Int)
	if m[3] != "" {
		exp.SetString(strings.TrimPrefix(m[3][1:], "+"), 10)
	}
	exp.Sub(exp, big.NewInt(int64(len(m[2])-min(len(m[2]), 1))))
	sig := strings.TrimLeft(digits, "0")
	if sig == "" {
		if m[3] != "" && !exp.IsInt64() {
			// big.Rat.SetString cannot read an exponent beyond int64 (jsonschema/v5 then
			// panics): the codec rejects 0e99999999999999999999 rather than accept it.
			return 0, codec.ErrOutOfRange
		}
		return 0, nil
	}
	trimmed := strings.TrimRight(sig, "0")
	exp.Add(exp, big.NewInt(int64(len(sig)-len(trimmed))))
	if exp.Sign() < 0 {
		return 0, codec.ErrNotInteger
	}
	if exp.Cmp(big.NewInt(40)) > 0 || exp.Int64()+int64(len(trimmed)) > 40 {
		return 0, codec.ErrOutOfRange
	}
	v, _ := new(big.Int).SetString(trimmed, 10)
	v.Mul(v, new(big.Int).Exp(big.NewInt(10), exp, nil))
	if strings.HasPrefix(lit, "-") {
		v.Neg(v)
	}
	if !v.IsInt64() {
		return 0, codec.ErrOutOfRange
	}
	return v.Int64(), nil
}

// checkInteger compares ParseInteger with the big-number verdicts.
func checkInteger(t *testing.T, lit string) {
	t.Helper()
	got, err := codec.ParseInteger([]byte(lit))
	if !jsonNumberLit.MatchString(lit) {
		if err == nil || errors.Is(err, codec.ErrNotInteger) || errors.Is(err, codec.ErrOutOfRange) {
			t.Errorf("ParseInteger(%.40q) = %d, %v; want a malformed-literal error", lit, got, err)
		}
		return
	}
	want, wantErr := bigVerdict(lit)
	// big.Rat materialises 10^exponent: ask it only while that stays cheap.
	m := jsonNumberLit.FindStringSubmatch(lit)
	if len(strings.TrimLeft(m[3], "eE+-0")) > 4 || len(lit) > 2000 {
		// big.Rat gets slow beyond 10^9999 (and fails past about 10^1000000), and its
		// normalisation (a GCD) is quadratic in the number of digits.
	} else if rv, rerr, ok := ratVerdict(lit); ok && (rv != want || rerr != wantErr) {
		t.Fatalf("test oracles disagree on %.40q: big.Rat %d, %v; big.Int %d, %v", lit, rv, rerr, want, wantErr)
	}
	if got != want || err != wantErr {
		t.Errorf("ParseInteger(%.40q) = %d, %v; want %d, %v", lit, got, err, want, wantErr)
	}
}

func TestParseIntegerTable(t *testing.T) {
	for _, c := range []struct {
		lit  string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"-0", 0, nil},
		{"1", 1, nil},
		{"-1", -1, nil},
		{"1.0", 1, nil},
		{"1e2", 100, nil},
		{"1E+2", 100, nil},
		{"120e-1", 12, nil},
		{"1.5", 0, codec.ErrNotInteger},
		{"1e-1", 0, codec.ErrNotInteger},
		{"-0.5", 0, codec.ErrNotInteger},
		{"0.0", 0, nil},
		{"-0.0e-5", 0, nil},
		{"0e99999999999999999999", 0, codec.ErrOutOfRange},
		{"9007199254740993", 9007199254740993, nil},
		{"9007199254740993.0", 9007199254740993, nil},
		{"9.007199254740993e15", 9007199254740993, nil},
		{"999999999999999999", 999999999999999999, nil},
		{"1000000000000000000", 1000000000000000000, nil},
		{"9223372036854775807", math.MaxInt64, nil},
		{"9223372036854775808", 0, codec.ErrOutOfRange},
		{"-9223372036854775808", math.MinInt64, nil},
		{"-9223372036854775809", 0, codec.ErrOutOfRange},
		{"9.223372036854775807e18", math.MaxInt64, nil},
		{"92233720368547758070e-1", math.MaxInt64, nil},
		{"0.9223372036854775808e19", 0, codec.ErrOutOfRange},
		{"-0.9223372036854775808e19", math.MinInt64, nil},
		{"9223372036854775807.5", 0, codec.ErrNotInteger},
		{"1e18", 1e18, nil},
		{"1e19", 0, codec.ErrOutOfRange},
		{"-1e19", 0, codec.ErrOutOfRange},
		{"18446744073709551616", 0, codec.ErrOutOfRange},
		{"99999999999999999999", 0, codec.ErrOutOfRange},
		{"1e1000001", 0, codec.ErrOutOfRange},
		{"1e-1000001", 0, codec.ErrNotInteger},
		{"1e99999999999999999999", 0, codec.ErrOutOfRange},
		{"-1e99999999999999999999", 0, codec.ErrOutOfRange},
		{"1e-99999999999999999999", 0, codec.ErrNotInteger},
		{"1.5e9223372036854775807", 0, codec.ErrOutOfRange},
		{"15e-9223372036854775808", 0, codec.ErrNotInteger},
		{"1" + strings.Repeat("0", 100000), 0, codec.ErrOutOfRange},
		{"1" + strings.Repeat("0", 100000) + "e-100000", 1, nil},
		{"1" + strings.Repeat("0", 1000001) + "e-1000001", 1, nil},
		{"-42" + strings.Repeat("0", 100000) + "e-100000", -42, nil},
		{"0." + strings.Repeat("0", 100000) + "1", 0, codec.ErrNotInteger},
		{"0." + strings.Repeat("0", 100000) + "1e100001", 1, nil},
		{"7." + strings.Repeat("0", 100000), 7, nil},
		{strings.Repeat("7", 100000), 0, codec.ErrOutOfRange},
		{strings.Repeat("7", 100000) + "e-99999", 0, codec.ErrNotInteger},
		{strings.Repeat("7", 100000) + "e-99990", 0, codec.ErrNotInteger},
		{"7" + strings.Repeat("0", 99999) + "e-99990", 7000000000, nil},
	} {
		start := time.Now()
		got, err := codec.ParseInteger([]byte(c.lit))
		if got != c.want || err != c.err {
			t.Errorf("ParseInteger(%.40q) = %d, %v; want %d, %v", c.lit, got, err, c.want, c.err)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("ParseInteger(%.40q) took %v", c.lit, d)
		}
		if len(c.lit) < 1000 {
			checkInteger(t, c.lit)
		}
	}
	if codec.ErrNotInteger.Error() != "must be an integer" || codec.ErrOutOfRange.Error() != "out of range" {
		t.Errorf("error texts %q, %q", codec.ErrNotInteger, codec.ErrOutOfRange)
	}
}

// malformedNumbers are not JSON number literals.
var malformedNumbers = []string{
	"", "-", "+1", "01", "-01", "00", ".5", "1.", "1.e5", "1e", "1e+", "1e-", "1E+-1", "--1", "1..2",
	"1.2.3", "1e1e1", "0x10", "0x1p3", "1_000", "Inf", "-Inf", "NaN", "infinity", " 1", "1 ", "1\n",
	"１", "1e１", "true", "null", "\"1\"", "1,0", "1e1.5",
}

func TestParseIntegerMalformed(t *testing.T) {
	for _, lit := range malformedNumbers {
		checkInteger(t, lit)
		if _, err := codec.ParseInteger([]byte(lit)); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("ParseInteger(%q): error %v", lit, err)
		}
	}
}

// randomNumberLiteral builds a JSON number literal biased towards the interesting cases:
// integral values written with fractions and exponents, values near the int64 limits and
// exponents near the big.Rat limit.
func randomNumberLiteral(rng *rand.Rand) string {
	var b strings.Builder
	if rng.Intn(2) == 0 {
		b.WriteByte('-')
	}
	digits := func(n int, lead bool) {
		for i := 0; i < n; i++ {
			d := byte('0' + rng.Intn(10))
			if lead && i == 0 && d == '0' {
				d = '1'
			}
			if rng.Intn(4) == 0 {
				d = '0'
				if lead && i == 0 {
					d = '9'
				}
			}
			b.WriteByte(d)
		}
	}
	switch rng.Intn(6) {
	case 0: // near the int64 limits, possibly shifted by an exponent
		v := new(big.Int).SetUint64(1 << 63)
		v.Add(v, big.NewInt(rng.Int63n(4001)-2000))
		s := v.String()
		if k := rng.Intn(len(s) + 3); k < len(s) {
			// d.ddd...e+k spelling of the same value
			b.WriteString(s[:len(s)-k])
			if k > 0 {
				b.WriteString("." + s[len(s)-k:])
			}
			if k > 0 || rng.Intn(2) == 0 {
				b.WriteString("e" + strconv.Itoa(k))
			}
		} else {
			zeros := strings.Repeat("0", rng.Intn(5))
			b.WriteString(s + zeros + "e-" + strconv.Itoa(len(zeros)+rng.Intn(2)))
		}
		return b.String()
	case 1:
		b.WriteByte('0')
	default:
		digits(1+rng.Intn(25), true)
	}
	if rng.Intn(2) == 0 {
		b.WriteByte('.')
		digits(1+rng.Intn(12), false)
		if rng.Intn(3) == 0 {
			b.WriteString(strings.Repeat("0", rng.Intn(10)))
		}
	}
	if rng.Intn(3) != 0 {
		b.WriteByte("eE"[rng.Intn(2)])
		switch rng.Intn(3) {
		case 0:
			b.WriteByte('+')
		case 1:
			b.WriteByte('-')
		}
		switch rng.Intn(10) {
		case 0:
			b.WriteString(strconv.Itoa(999990 + rng.Intn(20)))
		case 1:
			b.WriteString(strings.Repeat("0", rng.Intn(3)) + strconv.FormatUint(rng.Uint64(), 10))
		default:
			b.WriteString(strconv.Itoa(rng.Intn(30)))
		}
	}
	return b.String()
}

func TestParseIntegerAgreesWithBigRat(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	counts := map[error]int{}
	for n := 0; n < 200000; n++ {
		lit := randomNumberLiteral(rng)
		if !jsonNumberLit.MatchString(lit) {
			t.Fatalf("generator produced %q", lit)
		}
		checkInteger(t, lit)
		_, err := codec.ParseInteger([]byte(lit))
		counts[err]++
	}
	for _, e := range []error{nil, codec.ErrNotInteger, codec.ErrOutOfRange} {
		if counts[e] < 10000 {
			t.Errorf("only %d random literals with verdict %v", counts[e], e)
		}
	}
	// Every integer near the limits in plain spelling.
	for d := int64(-3000); d <= 3000; d++ {
		v := new(big.Int).SetUint64(1 << 63)
		v.Add(v, big.NewInt(d))
		checkInteger(t, v.String())
		checkInteger(t, "-"+v.String())
		checkInteger(t, v.String()+".0")
	}
}

func FuzzParseInteger(f *testing.F) {
	for _, s := range []string{
		"0", "-0", "1.0", "1e2", "120e-1", "1.5", "1e-1", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "9007199254740993", "1e1000001", "1e99999999999999999999",
		"0.000e-99", "12345678901234567890e-2", "01", "1.", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		if len(lit) > 100000 {
			return
		}
		checkInteger(t, lit)
		if jsonNumberLit.MatchString(lit) {
			if _, err := codec.ParseNumber([]byte(lit)); err != nil && err != codec.ErrOutOfRange {
				t.Errorf("ParseNumber(%.40q): %v", lit, err)
			}
		}
	})
}

func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		lit  string
		want float64
		err  error
	}{
		{"0", 0, nil},
		{"-0", math.Copysign(0, -1), nil},
		{"1.5", 1.5, nil},
		{"-2.5e-3", -2.5e-3, nil},
		{"1E308", 1e308, nil},
		{"1.7976931348623157e308", math.MaxFloat64, nil},
		{"1.7976931348623159e308", 0, codec.ErrOutOfRange},
		{"1e309", 0, codec.ErrOutOfRange},
		{"-1e309", 0, codec.ErrOutOfRange},
		{"1e1000001", 0, codec.ErrOutOfRange},
		{"1e99999999999999999999", 0, codec.ErrOutOfRange},
		{"1e-400", 0, nil},
		{"4e-324", 5e-324, nil},
		{"1e-99999999999999999999", 0, nil},
		{"0e99999999999999999999", 0, nil},
		{"9007199254740993", 9007199254740992, nil},
		{"1" + strings.Repeat("0", 100000), 0, codec.ErrOutOfRange},
		{"1" + strings.Repeat("0", 100000) + "e-100000", 1, nil},
		{"0." + strings.Repeat("0", 100000) + "1", 0, nil},
	} {
		start := time.Now()
		got, err := codec.ParseNumber([]byte(c.lit))
		if err != c.err || got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("ParseNumber(%.40q) = %v, %v; want %v, %v", c.lit, got, err, c.want, c.err)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("ParseNumber(%.40q) took %v", c.lit, d)
		}
	}
	for _, lit := range malformedNumbers {
		if v, err := codec.ParseNumber([]byte(lit)); err == nil || err == codec.ErrOutOfRange {
			t.Errorf("ParseNumber(%q) = %v, %v; want a malformed-literal error", lit, v, err)
		}
	}
	rng := rand.New(rand.NewSource(5))
	for n := 0; n < 100000; n++ {
		lit := randomNumberLiteral(rng)
		want, werr := strconv.ParseFloat(lit, 64)
		got, err := codec.ParseNumber([]byte(lit))
		switch {
		case werr != nil:
			if err != codec.ErrOutOfRange || !math.IsInf(want, 0) {
				t.Errorf("ParseNumber(%q) = %v, %v; strconv: %v, %v", lit, got, err, want, werr)
			}
		case err != nil || got != want:
			t.Errorf("ParseNumber(%q) = %v, %v; strconv: %v", lit, got, err, want)
		}
	}
}

// ratFloat is the correctly rounded float64 of a literal, by big.Rat; inf reports overflow.
func ratFloat(t *testing.T, lit string) (f float64, inf bool) {
	t.Helper()
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		t.Fatalf("big.Rat cannot read %.40q", lit)
	}
	f, _ = r.Float64()
	return f, math.IsInf(f, 0)
}

func checkNumber(t *testing.T, lit string) {
	t.Helper()
	want, inf := ratFloat(t, lit)
	got, err := codec.ParseNumber([]byte(lit))
	if inf {
		if err != codec.ErrOutOfRange {
			t.Errorf("ParseNumber(%.60q...) = %v, %v; want out of range", lit, got, err)
		}
		return
	}
	if err != nil || got != want || math.Signbit(got) != math.Signbit(want) {
		t.Errorf("ParseNumber(%.60q...) (%d bytes) = %v, %v; want %v", lit, len(lit), got, err, want)
	}
}

// TestParseNumberLongLiterals: literals beyond strconv's 800 digits and 10000 exponent, and
// halfway cases, against big.Rat.
func TestParseNumberLongLiterals(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	randDigits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.Intn(10))
		}
		if n > 0 && b[0] == '0' {
			b[0] = '1'
		}
		return string(b)
	}
	for n := 0; n < 300; n++ {
		intPart := randDigits(600 + rng.Intn(700))
		lit := intPart
		if rng.Intn(2) == 0 {
			lit += "." + randDigits(rng.Intn(300))
			lit = strings.TrimSuffix(lit, ".")
		}
		lit += "e" + strconv.Itoa(-len(intPart)-rng.Intn(600)+300)
		checkNumber(t, lit)
		checkNumber(t, "-"+lit)
		checkNumber(t, "0."+strings.Repeat("0", rng.Intn(12000))+randDigits(1+rng.Intn(30))+"e"+strconv.Itoa(rng.Intn(12300)))
		checkNumber(t, "1"+strings.Repeat("0", 801+rng.Intn(11000))+"e-"+strconv.Itoa(800+rng.Intn(11300)))
	}
	// Long literals across the whole float64 range, subnormals and overflow included.
	for point := -345; point <= 320; point++ {
		sig := randDigits(70 + rng.Intn(900))
		checkNumber(t, "0."+sig+"e"+strconv.Itoa(point))
		checkNumber(t, "-"+sig[:1]+"."+sig[1:]+"e"+strconv.Itoa(point-1))
		checkNumber(t, "0.0000"+sig[:60+rng.Intn(10)]+"e"+strconv.Itoa(point+4))
	}
	checkNumber(t, "1.7976931348623157"+strings.Repeat("0", 100)+"e308")
	checkNumber(t, "1.7976931348623158"+strings.Repeat("0", 100)+"e308")
	checkNumber(t, "1.797693134862315807937289714053034150799341327710"+strings.Repeat("0", 100)+"1e308")
	checkNumber(t, "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324")
	checkNumber(t, "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125001e-324")
	// Exactly halfway between two adjacent float64 values, and just above and below.
	for n := 0; n < 300; n++ {
		f := math.Float64frombits(rng.Uint64() &^ (1 << 63))
		if math.IsInf(f, 0) || math.IsNaN(f) || f == math.MaxFloat64 {
			continue
		}
		g := math.Nextafter(f, math.Inf(1))
		mid := new(big.Float).SetPrec(1100).SetFloat64(f)
		mid.Add(mid, new(big.Float).SetPrec(1100).SetFloat64(g))
		mid.Quo(mid, big.NewFloat(2))
		exact := mid.Text('e', 1100) // enough digits to be exact
		mant, exp, _ := strings.Cut(exact, "e")
		mant = strings.TrimRight(mant, "0")
		checkNumber(t, mant+"e"+exp)
		checkNumber(t, mant+strings.Repeat("0", rng.Intn(900))+"1e"+exp)
		if i := strings.LastIndexAny(mant, "123456789"); i >= 0 {
			below := mant[:i] + string(mant[i]-1) + strings.Repeat("9", 50+rng.Intn(900))
			checkNumber(t, below+"e"+exp)
		}
	}
}

func TestNumbersDoNotAllocate(t *testing.T) {
	for _, lit := range []string{"12345", "-9223372036854775808", "1.0e3", "12.50e1", "1.5", "1e400"} {
		b := []byte(lit)
		if n := testing.AllocsPerRun(100, func() { _, _ = codec.ParseInteger(b) }); n != 0 {
			t.Errorf("ParseInteger(%q): %v allocations", lit, n)
		}
	}
	for _, lit := range []string{"12345", "-1.5e-3", "0.1"} {
		b := []byte(lit)
		if n := testing.AllocsPerRun(100, func() { _, _ = codec.ParseNumber(b) }); n != 0 {
			t.Errorf("ParseNumber(%q): %v allocations", lit, n)
		}
	}
}
