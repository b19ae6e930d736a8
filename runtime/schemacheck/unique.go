package schemacheck

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strconv"
)

// uniqueItems is rare (the protocol catalogs do not use it today) and is implemented on
// decoded values, replicating the reference's algorithm step by step: up to 20 items,
// pairwise comparison in the reference's order, stopping at the first equal pair; above
// 20, every item up to the first duplicate is hashed, which converts every number inside
// it. A number conversion that fails is fatal (the reference panics). The one unavoidable
// difference: the reference compares two objects in Go map order (random), so when two
// objects differ in one member and a number of another member cannot be converted, the
// reference sometimes panics and sometimes does not; here members are compared in sorted
// key order.
func (v *validator) uniqueItems(spans []span) (st status, i, j int) {
	items := make([]any, len(spans))
	for k, sp := range spans {
		dec := json.NewDecoder(bytes.NewReader(v.data[sp.start:sp.end]))
		dec.UseNumber()
		if err := dec.Decode(&items[k]); err != nil {
			return stFatal, 0, 0 // cannot happen: the bytes were scanned already
		}
	}
	if len(items) <= 20 {
		for i := 1; i < len(items); i++ {
			for j := 0; j < i; j++ {
				eq, fatal := equalValues(items[i], items[j])
				if fatal {
					return stFatal, 0, 0
				}
				if eq {
					return stFail, j, i
				}
			}
		}
		return stOK, 0, 0
	}
	seen := map[string]int{}
	var buf []byte
	for i, item := range items {
		var ok bool
		buf, ok = canonical(buf[:0], item)
		if !ok {
			return stFatal, 0, 0
		}
		if j, dup := seen[string(buf)]; dup {
			return stFail, j, i
		}
		seen[string(buf)] = i
	}
	return stOK, 0, 0
}

func ratOf(n json.Number) (*big.Rat, bool) {
	return new(big.Rat).SetString(string(n))
}

// equalValues is the reference's equals on decoded values; fatal means it would panic.
func equalValues(a, b any) (eq, fatal bool) {
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false, false
		}
		for i := range a {
			if eq, fatal := equalValues(a[i], b[i]); fatal || !eq {
				return false, fatal
			}
		}
		return true, false
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false, false
		}
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			bv, ok := b[k]
			if !ok {
				return false, false
			}
			if eq, fatal := equalValues(a[k], bv); fatal || !eq {
				return false, fatal
			}
		}
		return true, false
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false, false
		}
		ra, oka := ratOf(a)
		rb, okb := ratOf(b)
		if !oka || !okb {
			return false, true
		}
		return ra.Cmp(rb) == 0, false
	case string:
		b, ok := b.(string)
		return ok && a == b, false
	case bool:
		b, ok := b.(bool)
		return ok && a == b, false
	case nil:
		return b == nil, false
	}
	return false, false
}

// canonical appends an encoding of x such that two values are equal (in the reference's
// sense) exactly when their encodings are; ok is false when a number cannot be converted.
func canonical(buf []byte, x any) ([]byte, bool) {
	switch x := x.(type) {
	case nil:
		return append(buf, 'n'), true
	case bool:
		if x {
			return append(buf, 't'), true
		}
		return append(buf, 'f'), true
	case json.Number:
		r, ok := ratOf(x)
		if !ok {
			return buf, false
		}
		buf = append(buf, 'N')
		buf = append(buf, r.RatString()...)
		return append(buf, ';'), true
	case string:
		buf = append(buf, 'S')
		return strconv.AppendQuote(buf, x), true
	case []any:
		buf = append(buf, '[')
		for _, e := range x {
			var ok bool
			if buf, ok = canonical(buf, e); !ok {
				return buf, false
			}
			buf = append(buf, ',')
		}
		return append(buf, ']'), true
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		for _, k := range keys {
			buf = strconv.AppendQuote(buf, k)
			buf = append(buf, ':')
			var ok bool
			if buf, ok = canonical(buf, x[k]); !ok {
				return buf, false
			}
			buf = append(buf, ',')
		}
		return append(buf, '}'), true
	}
	return buf, false
}
