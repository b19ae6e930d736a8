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
	ok := `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("depth %d rejected: %v", maxDepth, err)
	}
	tooDeep := `{"jsonrpc":"2.0","method":"m","params":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`
	if _, err := Parse([]byte(tooDeep)); err == nil || err.Code != CodeParseError {
		t.Fatalf("depth %d: err = %v, want parse error", maxDepth+1, err)
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
	})
}
