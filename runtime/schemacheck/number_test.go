package schemacheck

import (
	"math/big"
	"math/rand"
	"strings"
	"testing"
)

// TestAnalyzeNumber compares the literal analysis and the bound comparison with big.Rat.
func TestAnalyzeNumber(t *testing.T) {
	lits := []string{
		"0", "-0", "1", "-1", "1.0", "1.5", "1e2", "1E+2", "1e-2", "10e-1", "100e-2", "0.0", "-0.0", "0e5", "0e-5",
		"1e400", "-1e400", "1e1000000", "1e1000001", "-1e1000001", "1e-1000000", "1e-1000001", "10e-1000001",
		"1.5e1000000", "15e999999", "0.0000001e1000006", "0e99999999999999999999", "0e-99999999999999999999",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"999999999999999999", "1000000000000000000", "1e9223372036854775807", "1e9223372036854775808",
		"1e-9223372036854775808", "1e-9223372036854775809", "123.456e3", "123.4567e3", "0.001e3", "0.0010e3",
		"2.9999999999999999999", "200.0000000000000000000001", "199.99999999999999999999", "5e-1", "-5e-1",
		"1e18", "1e19", "1e20", "9.9e18", "9.9e19", "-9.3e18", "0.00000000000000000000000000000001",
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		var b strings.Builder
		if rng.Intn(2) == 0 {
			b.WriteByte('-')
		}
		n := rng.Intn(25) + 1
		if rng.Intn(3) == 0 {
			b.WriteByte('0')
		} else {
			b.WriteByte(byte('1' + rng.Intn(9)))
			for j := 1; j < n; j++ {
				b.WriteByte(byte('0' + rng.Intn(10)))
			}
		}
		if rng.Intn(2) == 0 {
			b.WriteByte('.')
			for j := rng.Intn(25) + 1; j > 0; j-- {
				b.WriteByte(byte('0' + rng.Intn(10)))
			}
		}
		if rng.Intn(2) == 0 {
			b.WriteString([]string{"e", "E", "e+", "e-", "E-"}[rng.Intn(5)])
			b.WriteString(big.NewInt(rng.Int63n(40)).String())
		}
		lits = append(lits, b.String())
	}
	bounds := []*big.Rat{big.NewRat(0, 1), big.NewRat(1, 1), big.NewRat(-5, 1), big.NewRat(200, 1), big.NewRat(3, 2),
		new(big.Rat).SetInt64(1 << 62), new(big.Rat).SetInt64(-1 << 62)}
	huge, _ := new(big.Rat).SetString("123456789012345678901234567890")
	bounds = append(bounds, huge)
	for _, lit := range lits {
		info := analyzeNumber([]byte(lit))
		r, ok := new(big.Rat).SetString(lit)
		if info.ratOK != ok {
			t.Errorf("%s: ratOK %v, big.Rat %v", lit, info.ratOK, ok)
			continue
		}
		if !ok {
			continue
		}
		if info.integral != r.IsInt() {
			t.Errorf("%s: integral %v, big.Rat %v", lit, info.integral, r.IsInt())
		}
		for _, bd := range bounds {
			c, ok := cmpBound([]byte(lit), &info, newBound(bd))
			if !ok || c != r.Cmp(bd) {
				t.Errorf("%s vs %s: cmp %d %v, big.Rat %d", lit, bd.RatString(), c, ok, r.Cmp(bd))
			}
		}
	}
}
