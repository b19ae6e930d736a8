// Hand-written tests of the generated package (this file is not generated).
package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/gen/examples"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
	"github.com/moltzap/moltzap-go/runtime/codec"
)

// This file is the agreement harness: it compares the verdict of the generated one-pass
// decoders (protocoltest.Types()[i].Decode) with the jsonschema/v5 reference
// (protocoltest.ValidateReference) on the same bytes. The deliberate differences are
// named (diffKind) and counted; any other difference fails the test.

const defsPrefix = "#/$defs/"

// diffKind names a deliberate difference between the generated decoders and v5.
type diffKind string

const (
	// diffDuplicateKey: v5 (through encoding/json) keeps the last of duplicate object
	// keys; the generated decoders reject duplicates.
	diffDuplicateKey diffKind = "duplicate-key"
	// diffStrictURI: the generated "uri" format is RFC 3986 strict (no spaces, <, >, |, ...).
	diffStrictURI diffKind = "strict-uri"
	// diffInt64: integers that do not fit int64 are rejected by the generated decoders.
	diffInt64 diffKind = "int64-range"
	// diffRefPanic: v5 panics (numbers such as 1e1000001); the generated side must return
	// an error.
	diffRefPanic diffKind = "reference-panic"
)

// typeByRef maps "#/$defs/Name" to its TypeInfo.
var typeByRef = sync.OnceValue(func() map[string]protocoltest.TypeInfo {
	m := map[string]protocoltest.TypeInfo{}
	for _, ti := range protocoltest.Types() {
		m[ti.Schema] = ti
	}
	return m
})

// refVerdict runs the reference; a panic of v5 is reported, not propagated.
func refVerdict(ref string, raw []byte) (err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			err, panicked = fmt.Errorf("reference panicked: %v", p), true
		}
	}()
	return protocoltest.ValidateReference(ref, raw), false
}

// genDecode runs the generated decoder; a panic is turned into an error marked as such.
func genDecode(ti protocoltest.TypeInfo, raw []byte) (v any, err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			v, err, panicked = nil, fmt.Errorf("generated decoder panicked: %v", p), true
		}
	}()
	v, err = ti.Decode(raw)
	return v, err, false
}

// codecError extracts the *codec.Error of a generated decoding failure (directly wrapped,
// or carried as the data of InvalidParamsError).
func codecError(err error) (*codec.Error, bool) {
	var ce *codec.Error
	if errors.As(err, &ce) {
		return ce, true
	}
	var ip protocol.InvalidParamsError
	if errors.As(err, &ip) {
		var d struct{ Pointer, Constraint, Reason string }
		if json.Unmarshal(ip.Data, &d) == nil && strings.HasPrefix(ip.Message, "Invalid params: ") {
			return &codec.Error{Pointer: d.Pointer, Constraint: d.Constraint, Reason: d.Reason}, true
		}
	}
	return nil, false
}

// stats counts verdicts over a run.
type stats struct {
	mu                          sync.Mutex
	docs, valid, invalid, trips int
	diffs                       map[diffKind]int
}

func (s *stats) add(f func(s *stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.diffs == nil {
		s.diffs = map[diffKind]int{}
	}
	f(s)
}

func (s *stats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d documents (%d valid, %d invalid), %d round trips, deliberate differences %v",
		s.docs, s.valid, s.invalid, s.trips, s.diffs)
}

// agree compares the verdicts on raw for ref. It returns the deliberate difference found
// ("" when the verdicts are equal). Valid documents are round tripped.
func agree(tb testing.TB, st *stats, ref string, raw []byte) diffKind {
	tb.Helper()
	ti, ok := typeByRef()[ref]
	if !ok {
		tb.Fatalf("no generated type for %s", ref)
	}
	rerr, rpanic := refVerdict(ref, raw)
	v, gerr, gpanic := genDecode(ti, raw)
	var kind diffKind
	defer func() {
		if st != nil {
			st.add(func(s *stats) {
				s.docs++
				if gerr == nil {
					s.valid++
				} else {
					s.invalid++
				}
				if kind != "" {
					s.diffs[kind]++
				}
			})
		}
	}()
	if gpanic {
		tb.Errorf("%s: %v on %q", ref, gerr, clip(raw))
		return ""
	}
	if gerr != nil {
		if _, ok := codecError(gerr); !ok {
			tb.Errorf("%s: error %v (%T) carries no *codec.Error", ref, gerr, gerr)
		}
	}
	switch {
	case rpanic:
		kind = diffRefPanic
		if gerr == nil {
			tb.Errorf("%s: the reference panics on %q (%v) but the generated decoder accepts it", ref, clip(raw), rerr)
		}
		return kind
	case rerr == nil && gerr != nil:
		kind = allowedDiff(raw, gerr)
		if kind == "" {
			tb.Errorf("%s: DISAGREEMENT: the reference accepts, the generated decoder rejects %q: %v", ref, clip(raw), gerr)
		}
		return kind
	case rerr != nil && gerr == nil:
		tb.Errorf("%s: DISAGREEMENT: the generated decoder accepts, the reference rejects %q: %v", ref, clip(raw), rerr)
		return ""
	case gerr == nil:
		roundTrip(tb, st, ti, raw, v)
	}
	return ""
}

// roundTrip: Decode, Encode, Decode again; both encodings must be the same bytes, and
// valid for the reference.
func roundTrip(tb testing.TB, st *stats, ti protocoltest.TypeInfo, raw []byte, v any) {
	tb.Helper()
	enc, err := ti.Encode(v)
	if err != nil {
		tb.Errorf("%s: encode of %q: %v", ti.Name, clip(raw), err)
		return
	}
	v2, err, _ := genDecode(ti, enc)
	if err != nil {
		tb.Errorf("%s: decode of the re-encoded %q (from %q): %v", ti.Name, clip(enc), clip(raw), err)
		return
	}
	enc2, err := ti.Encode(v2)
	if err != nil {
		tb.Errorf("%s: second encode: %v", ti.Name, err)
		return
	}
	if !bytes.Equal(enc, enc2) {
		tb.Errorf("%s: re-encoding is not stable:\n in   %q\n enc1 %q\n enc2 %q", ti.Name, clip(raw), clip(enc), clip(enc2))
	}
	if err, _ := refVerdict(ti.Schema, enc); err != nil {
		tb.Errorf("%s: the reference rejects the encoding %q of %q: %v", ti.Name, clip(enc), clip(raw), err)
	}
	if st != nil {
		st.add(func(s *stats) { s.trips++ })
	}
}

// allowedDiff classifies a document the reference accepts and the generated decoder
// rejects: one of the deliberate differences, or "".
func allowedDiff(raw []byte, gerr error) diffKind {
	if hasDuplicateKey(raw) {
		return diffDuplicateKey
	}
	ce, ok := codecError(gerr)
	if !ok {
		return ""
	}
	doc, err := decodeNumbers(raw)
	if err != nil {
		return ""
	}
	val, found := at(doc, ce.Pointer)
	if !found {
		return ""
	}
	switch x := val.(type) {
	case string:
		if ce.Constraint == "format" && strings.Contains(ce.Reason, "uri") && !codec.IsURI(x) {
			return diffStrictURI
		}
	case json.Number:
		if bigInteger(string(x)) {
			return diffInt64
		}
	}
	return ""
}

// bigInteger reports whether lit is an integral number outside the int64 range.
func bigInteger(lit string) bool {
	mant, exp, _ := strings.Cut(strings.ToLower(lit), "e")
	if exp != "" {
		e, err := strconv.ParseInt(exp, 10, 64)
		if err != nil || e > 4000 || e < -4000 {
			// Exponents far out: a zero mantissa is 0, a negative exponent is no integer,
			// a positive one is out of range.
			return strings.Trim(mant, "-0.") != "" && !strings.HasPrefix(exp, "-")
		}
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok || !r.IsInt() {
		return false
	}
	return !r.Num().IsInt64()
}

// hasDuplicateKey reports whether some object of raw (a valid JSON document) has the same
// member name twice (after unescaping).
func hasDuplicateKey(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]bool
		expKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expKey {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.obj {
				top.expKey = true
			}
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expKey: true})
			continue
		case json.Delim('['):
			if top != nil && top.obj {
				top.expKey = true
			}
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expKey = true
			}
			continue
		}
		if top != nil && top.obj {
			top.expKey = true
		}
	}
}

// decodeNumbers decodes raw with json.Number numbers.
func decodeNumbers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// at returns the value at a JSON pointer.
func at(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	for _, tok := range strings.Split(ptr, "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := doc.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			doc = x[i]
		default:
			return nil, false
		}
	}
	return doc, true
}

// escapeToken escapes a JSON pointer token.
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

// allRefs lists the schema reference of every generated type, sorted.
func allRefs() []string {
	var refs []string
	for _, ti := range protocoltest.Types() {
		refs = append(refs, ti.Schema)
	}
	sort.Strings(refs)
	return refs
}

func examplesSchema(tb testing.TB) *examples.Schema {
	tb.Helper()
	s, err := examples.Parse(protocol.SchemaJSON())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// synth returns the valid instances of ref (decoded with UseNumber) from gen/examples:
// full and minimal, every union arm.
func synth(tb testing.TB, s *examples.Schema, ref string) []any {
	tb.Helper()
	var out []any
	for _, mode := range []examples.Mode{examples.Full, examples.Minimal} {
		for v := 0; v < s.Variants(ref); v++ {
			inst, err := s.Instance(ref, mode, v)
			if err != nil {
				tb.Fatalf("%s: %v", ref, err)
			}
			out = append(out, normalize(inst))
		}
	}
	return out
}

// normalize turns any Go value into the json.Decoder(UseNumber) representation.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out, err := decodeNumbers(b)
	if err != nil {
		panic(err)
	}
	return out
}
