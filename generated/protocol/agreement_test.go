// Hand-written tests of the generated package (this file is not generated).
package protocol_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/gen/examples"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
)

// This file proves agreement with jsonschema/v5 on the real protocol bundle: for every
// $defs entry, the synthesised valid instances (every mode and union arm), the
// gen/examples mutations, and systematic rewrites of every location of the instances
// (type confusion, numeric edge cases around every bound of the bundle, string lengths
// around every length bound of the bundle, escaped / invalid UTF-8 / surrogate strings,
// duplicate keys, whitespace and trailing data).

// edit describes a rewrite of one location while rendering an instance.
type edit struct {
	ptr    string // location
	value  string // raw JSON replacing the value at ptr ("" keeps it)
	prefix string // raw members inserted first in the object at ptr
	suffix string // raw members appended to the object at ptr
}

// render writes v as JSON with sorted keys, applying ed.
func render(v any, ed *edit) []byte {
	var buf bytes.Buffer
	renderTo(&buf, v, "", ed)
	return buf.Bytes()
}

func renderTo(buf *bytes.Buffer, v any, ptr string, ed *edit) {
	if ed != nil && ed.ptr == ptr && ed.value != "" {
		buf.WriteString(ed.value)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		buf.WriteByte('{')
		n := 0
		if ed != nil && ed.ptr == ptr && ed.prefix != "" {
			buf.WriteString(ed.prefix)
			n++
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if n > 0 {
				buf.WriteByte(',')
			}
			n++
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			renderTo(buf, x[k], ptr+"/"+escapeToken(k), ed)
		}
		if ed != nil && ed.ptr == ptr && ed.suffix != "" {
			if n > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(ed.suffix)
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			renderTo(buf, e, ptr+"/"+strconv.Itoa(i), ed)
		}
		buf.WriteByte(']')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			panic(err)
		}
		buf.Write(b)
	}
}

// location is one value inside an instance.
type location struct {
	ptr string
	val any
}

func locations(v any, ptr string, out []location) []location {
	out = append(out, location{ptr, v})
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = locations(x[k], ptr+"/"+escapeToken(k), out)
		}
	case []any:
		for i, e := range x {
			out = locations(e, ptr+"/"+strconv.Itoa(i), out)
		}
	}
	return out
}

// schemaTree is the bundle decoded with UseNumber, to find the schemas of a location.
type schemaTree struct {
	defs map[string]any
}

func newSchemaTree(t testing.TB) *schemaTree {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(protocol.SchemaJSON()))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return &schemaTree{defs: doc["$defs"].(map[string]any)}
}

// expand follows $ref and oneOf: every schema that applies in place.
func (st *schemaTree) expand(n any, out []map[string]any) []map[string]any {
	m, ok := n.(map[string]any)
	if !ok {
		return out
	}
	out = append(out, m)
	if r, ok := m["$ref"].(string); ok {
		out = st.expand(st.defs[strings.TrimPrefix(r, defsPrefix)], out)
	}
	if arms, ok := m["oneOf"].([]any); ok {
		for _, a := range arms {
			out = st.expand(a, out)
		}
	}
	return out
}

// at returns the schemas that may apply to the instance location ptr of ref.
func (st *schemaTree) at(ref, ptr string) []map[string]any {
	cur := st.expand(st.defs[strings.TrimPrefix(ref, defsPrefix)], nil)
	for _, tok := range strings.Split(ptr, "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next []map[string]any
		for _, m := range cur {
			if props, ok := m["properties"].(map[string]any); ok && props[tok] != nil {
				next = st.expand(props[tok], next)
			} else if ap, ok := m["additionalProperties"].(map[string]any); ok {
				next = st.expand(ap, next)
			}
			if items, ok := m["items"]; ok {
				if _, err := strconv.Atoi(tok); err == nil {
					next = st.expand(items, next)
				}
			}
		}
		cur = next
	}
	return cur
}

// bounds returns numeric literals around every numeric bound, and string lengths around
// every length bound, of the schemas at a location.
func bounds(schemas []map[string]any) (nums []string, lengths []int) {
	for _, m := range schemas {
		for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
			n, ok := m[k].(json.Number)
			if !ok {
				continue
			}
			i, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				nums = append(nums, string(n))
				continue
			}
			s := string(n)
			nums = append(nums,
				strconv.FormatInt(i-1, 10), s, strconv.FormatInt(i+1, 10),
				s+".0", s+"e0", s+".5", strconv.FormatInt(i-1, 10)+".999999999999999999999999",
				s+".0000000000000000000000001", s+"0e-1", s+"00000000000000000000e-20")
		}
		for _, k := range []string{"minLength", "maxLength"} {
			n, ok := m[k].(json.Number)
			if !ok {
				continue
			}
			l, _ := strconv.Atoi(string(n))
			for _, d := range []int{-1, 0, 1} {
				if l+d >= 0 {
					lengths = append(lengths, l+d)
				}
			}
		}
	}
	return nums, lengths
}

// confusions replace any location: every JSON type and the numeric edge cases.
var confusions = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `1.0`, `1.5`, `1e2`, `1E+2`, `1e-2`, `-0.0`, `0e5`,
	`1e400`, `-1e400`, `1e1000001`, `0e99999999999999999999`, `9223372036854775807`,
	`9223372036854775808`, `-9223372036854775809`, `123456789012345678901234567890`,
	`""`, `"x"`, `[]`, `{}`, `[null]`, `{"a":1}`,
}

// stringVariants rewrites a valid string: escaped forms that decode to the same value,
// and forms that decode to something else.
func stringVariants(s string) []string {
	var out []string
	esc := func(r rune) string {
		if r > 0xFFFF {
			r1, r2 := utf16Pair(r)
			return fmt.Sprintf(`\u%04x\u%04X`, r1, r2)
		}
		return fmt.Sprintf(`\u%04X`, r)
	}
	var all strings.Builder
	for _, r := range s {
		all.WriteString(esc(r))
	}
	out = append(out, `"`+all.String()+`"`)
	if s != "" {
		r, size := utf8.DecodeRuneInString(s)
		out = append(out, `"`+esc(r)+s[size:]+`"`)
		out = append(out, `"`+s[:len(s)-1]+`\/"`, `"`+s+"\xff"+`"`, `"`+s+`\ud800"`, `"`+s+`\udc00x"`,
			`"`+s+`\ud83d\ude00"`, `"`+s+"😀"+`"`, `"`+strings.ToUpper(s)+`"`, `"`+s[:len(s)-1]+"\xc3"+`"`,
			`"`+s+`\u0000"`, `"`+s+`\t"`, `"`+s+"\x7f"+`"`, `"`+s+"\xed\xa0\x80"+`"`)
	}
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

// lengthVariants are strings of exactly n code points built from multi-byte characters,
// raw and escaped.
func lengthVariants(n int) []string {
	out := []string{
		`"` + strings.Repeat("😀", n) + `"`,
		`"` + strings.Repeat(`\ud83d\ude00`, n) + `"`,
	}
	if n <= 1024 { // the long ones cost the reference milliseconds each
		out = append(out,
			`"`+strings.Repeat("é", n)+`"`,
			`"`+strings.Repeat("\xff", n)+`"`,
			`"`+strings.Repeat(`a`, n)+`"`)
	}
	return out
}

// TestAgreementBundle compares, for every generated type, the generated decoder with the
// reference on: the synthesised valid instances, every gen/examples mutation, whole-document
// byte rewrites, and systematic rewrites of every location of the first full and minimal
// instances. Valid documents are round tripped.
func TestAgreementBundle(t *testing.T) {
	s := examplesSchema(t)
	tree := newSchemaTree(t)
	refs := allRefs()
	if len(refs) < 100 {
		t.Fatalf("only %d types", len(refs))
	}
	st := &stats{}
	t.Cleanup(func() { t.Logf("%d types: %v", len(refs), st) })
	for _, ref := range refs {
		t.Run(strings.TrimPrefix(ref, defsPrefix), func(t *testing.T) {
			t.Parallel()
			agreementForRef(t, st, s, tree, ref)
		})
	}
}

func agreementForRef(t *testing.T, st *stats, s *examples.Schema, tree *schemaTree, ref string) {
	check := func(raw []byte) { agree(t, st, ref, raw) }
	for i, inst := range synth(t, s, ref) {
		raw := render(inst, nil)
		if err := protocoltest.ValidateReference(ref, raw); err != nil {
			t.Errorf("%s: synthesised instance %s rejected by the reference: %v", ref, raw, err)
		}
		if _, err := typeByRef()[ref].Decode(raw); err != nil {
			t.Errorf("%s: synthesised instance %s rejected by the generated decoder: %v", ref, raw, err)
		}
		check(raw)
		// gen/examples mutations: all invalid, for both.
		if _, isObj := inst.(map[string]any); isObj {
			muts, err := s.Mutations(ref, inst)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range muts {
				bad := render(normalize(m.Instance), nil)
				if err := protocoltest.ValidateReference(ref, bad); err == nil {
					t.Errorf("%s: %s mutation at %s accepted by the reference: %s", ref, m.Kind, m.Pointer, bad)
				}
				check(bad)
			}
		}
		// Whole-document byte rewrites.
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, raw, "", "\t")
		for _, doc := range [][]byte{
			pretty.Bytes(), []byte(" \t\r\n" + string(raw) + " \n"),
			append(append([]byte{}, raw...), ']'), append(append([]byte{}, raw...), '}'),
			append(append([]byte{}, raw...), " ]x"...), append(append([]byte{}, raw...), 'x'),
			append(append([]byte{}, raw...), " {}"...), append(append([]byte{}, raw...), ',', '1'),
			append(append([]byte{}, raw...), 0), []byte("\xef\xbb\xbf" + string(raw)),
			raw[:len(raw)-1], []byte("[" + string(raw) + "]"), []byte(""), []byte("   "),
		} {
			check(doc)
		}
		if i > 1 || (testing.Short() && i > 0) {
			continue // systematic rewrites on the first full and minimal instances only
		}
		for _, loc := range locations(inst, "", nil) {
			nums, lengths := bounds(tree.at(ref, loc.ptr))
			for _, c := range confusions {
				check(render(inst, &edit{ptr: loc.ptr, value: c}))
			}
			switch x := loc.val.(type) {
			case string:
				for _, sv := range stringVariants(x) {
					check(render(inst, &edit{ptr: loc.ptr, value: sv}))
				}
				for _, n := range lengths {
					for _, lv := range lengthVariants(n) {
						check(render(inst, &edit{ptr: loc.ptr, value: lv}))
					}
				}
			case json.Number:
				for _, n := range nums {
					check(render(inst, &edit{ptr: loc.ptr, value: n}))
				}
			case map[string]any:
				for _, k := range slices.Sorted(maps.Keys(x)) {
					kb, _ := json.Marshal(k)
					vb := render(x[k], nil)
					// An invalid first occurrence overridden by the valid value (v5: valid,
					// generated: duplicate key, or reference panic).
					check(render(inst, &edit{ptr: loc.ptr, prefix: string(kb) + `:{"bogus":[1e1000001]}`}))
					check(render(inst, &edit{ptr: loc.ptr, prefix: string(kb) + `:1e1000001`}))
					// A valid value overridden by an invalid one: invalid.
					check(render(inst, &edit{ptr: loc.ptr, suffix: string(kb) + `:12345`}))
					// The same value twice.
					check(render(inst, &edit{ptr: loc.ptr, suffix: string(kb) + `:` + string(vb)}))
					// The key spelt with escapes.
					check(render(inst, &edit{ptr: loc.ptr, suffix: stringVariants(k)[0] + `:` + string(vb)}))
				}
				check(render(inst, &edit{ptr: loc.ptr, suffix: `"zzUnexpected":null`}))
				check(render(inst, &edit{ptr: loc.ptr, suffix: `"zzUnexpected":1e1000001`}))
			case []any:
				if len(x) > 0 {
					check(render(inst, &edit{ptr: loc.ptr, value: string(render(append(append([]any{}, x...), x...), nil))}))
				}
			}
		}
	}
}

// TestAgreementTruncations checks every prefix of realistic documents: unterminated JSON
// is invalid for both, and no prefix may crash.
func TestAgreementTruncations(t *testing.T) {
	s := examplesSchema(t)
	for _, ref := range []string{"#/$defs/MessagesSendParams", "#/$defs/DispatchReleaseNotification", "#/$defs/NetworkConnectParams", "#/$defs/TaskRequestParams"} {
		for _, inst := range synth(t, s, ref) {
			raw := render(inst, nil)
			for i := 0; i <= len(raw); i++ {
				agree(t, nil, ref, raw[:i])
			}
		}
	}
	for i := 0; i <= len(benchSendParams); i++ {
		agree(t, nil, "#/$defs/MessagesSendParams", benchSendParams[:i])
	}
}
