package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

var validityCorpus = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `-1.5e+10`,
	`true`, `tru`, `false`, `null`, `nul`, `nullx`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1}{}`,
	`"\u00e9"`, `"\u00g9"`, `"\x"`, `"\/"`, "\"\x01\"", "\"\xff\"", `"abc`, `[1 2]`, `{"a":[{"b":{}}]}`,
	` {"a" : [ 1 , { } ] } `, `[[[[]]]]`, `[[[]]`, `{"a":}`, `{"a"}`, `{,}`, `[-]`, `[1e1.5]`, `"\ud800"`,
}

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	cases := append([]string{}, validityCorpus...)
	for _, tc := range parseCases() {
		cases = append(cases, tc.in)
	}
	cases = append(cases,
		strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth),
		strings.Repeat("[", maxDepth+1)+strings.Repeat("]", maxDepth+1),
		strings.Repeat(`{"a":`, maxDepth)+"1"+strings.Repeat("}", maxDepth),
		strings.Repeat(`{"a":`, maxDepth+1)+"1"+strings.Repeat("}", maxDepth+1),
	)
	for _, s := range cases {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid = %v", s, got, want)
		}
	}
}

func TestParseDepthLimit(t *testing.T) {
	ok := `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("depth %d rejected: %v", MaxDepth, err)
	}
	for _, n := range []int{MaxDepth + 1, 5000, maxDepth, maxDepth + 1, 20000} {
		req := `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat(`{"a":[`, n/2) + strings.Repeat("]}", n/2) + `,"id":"x"}`
		if n%2 == 1 {
			req = `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,"id":"x"}`
		}
		f, err := Parse([]byte(req))
		if err == nil || err.Code != CodeInvalidRequest || !f.HasID || f.ID != "x" {
			t.Fatalf("request nested %d: frame %+v err %v, want -32600 with id x", n, f, err)
		}
		// A notification nested as deep (the frame is deeper than encoding/json accepts)
		// stays invalid JSON; below that it is a notification.
		note := `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		_, err = Parse([]byte(note))
		if n >= maxDepth && (err == nil || err.Code != CodeParseError) || n < maxDepth && err != nil {
			t.Fatalf("notification nested %d: err %v", n, err)
		}
		// So does a response.
		resp := `{"jsonrpc":"2.0","id":"r","result":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		f, err = Parse([]byte(resp))
		if n >= maxDepth && (err == nil || err.Code != CodeParseError) || n < maxDepth && (err != nil || f.Kind != KindResponse) {
			t.Fatalf("response nested %d: err %v", n, err)
		}
	}
}

func TestScanValueFlatAgrees(t *testing.T) {
	for _, s := range []string{`1`, `"a"`, `[]`, `{}`, `[1,[2,{"a":[{}]}]]`, `{"a":1,"b":{"c":[true,false,null]}}`, ` [ 1 , 2 ] `,
		`[1,]`, `{"a"}`, `{"a":1,}`, `[`, `{`, `]`, `[1 2]`, `{"a":1 "b":2}`, `{1:2}`, `[-]`, `tru`, `[[]]]`, `{"a":[}`} {
		end, d := scanValueFlat([]byte(s), skipWS([]byte(s), 0))
		flatOK := end >= 0 && skipWS([]byte(s), end) == len(s)
		if flatOK != json.Valid([]byte(s)) {
			t.Errorf("scanValueFlat(%q) = %d, %d; json.Valid %v", s, end, d, json.Valid([]byte(s)))
		}
	}
	if _, d := scanValueFlat([]byte(`[1,[2,{"a":[{}]}]]`), 0); d != 5 {
		t.Errorf("depth %d, want 5", d)
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validityCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
		end, d := scanValueFlat(b, skipWS(b, 0))
		if flat := end >= 0 && skipWS(b, end) == len(b) && d <= maxDepth; flat != json.Valid(b) {
			t.Fatalf("scanValueFlat(%q) = %d, %d; json.Valid = %v", b, end, d, json.Valid(b))
		}
	})
}
