package protocol_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
)

var updateVectors = flag.Bool("update-vectors", false, "rewrite testdata/vectors/protocol.json")

const vectorsFile = "../../testdata/vectors/protocol.json"

// vector is one document of the shared vector file with the Go decoder's verdict; the
// TypeScript and Python tests read the same file and must give the same verdicts.
type vector struct {
	Type  string `json:"type"`
	Valid bool   `json:"valid"`
	JSON  string `json:"json"`
}

// numberForms are the number literals whose verdict languages most often get wrong: integral
// forms of an integer, fractions, the int64 edges and a huge exponent.
var numberForms = []string{"1.0", "1e2", "1.5", "-0", "9223372036854775807", "9223372036854775808", "1e400", "0e99999999999999999999"}

// maxMutationsPerInstance keeps the file small enough to read in every language's tests.
const maxMutationsPerInstance = 8

// sharedVectors builds the vectors: for every struct, union and named list type, each
// synthesised valid instance, its gen/examples mutations (capped) and a few documents that
// every decoder must get right (trailing data, a duplicate key, not an object).
func sharedVectors(t *testing.T) []vector {
	s := examplesSchema(t)
	var out []vector
	for _, ti := range protocoltest.Types() {
		add := func(raw []byte) {
			_, err := ti.Decode(raw)
			out = append(out, vector{Type: ti.Name, Valid: err == nil, JSON: string(raw)})
		}
		for _, doc := range []string{`null`, `[]`, `"x"`, `1`} {
			add([]byte(doc))
		}
		for _, inst := range synth(t, s, ti.Schema) {
			raw := render(inst, nil)
			add(raw)
			add(append(append([]byte(nil), raw...), '}'))
			for _, loc := range locations(inst, "", nil) {
				if _, isNum := loc.val.(json.Number); isNum { // the first number: JSON Schema integer forms
					for _, lit := range numberForms {
						add(render(inst, &edit{ptr: loc.ptr, value: lit}))
					}
					break
				}
			}
			if obj, ok := inst.(map[string]any); ok && len(obj) > 0 {
				add(duplicateFirstKey(raw))
				muts, err := s.Mutations(ti.Schema, inst)
				if err != nil {
					t.Fatal(err)
				}
				bad := make([]string, len(muts))
				for i, m := range muts {
					bad[i] = string(render(normalize(m.Instance), nil))
				}
				sort.Strings(bad) // gen/examples walks maps: fix the order before capping
				for _, b := range bad[:min(len(bad), maxMutationsPerInstance)] {
					add([]byte(b))
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// duplicateFirstKey repeats the first member of a rendered object: {"a":1,...} -> {"a":1,"a":1,...}.
func duplicateFirstKey(raw []byte) []byte {
	var first json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return raw
	}
	key, err := dec.Token()
	if err != nil {
		return raw
	}
	if err := dec.Decode(&first); err != nil {
		return raw
	}
	k, _ := json.Marshal(key)
	member := append(append(k, ':'), first...)
	return append(append([]byte{'{'}, append(member, ',')...), raw[1:]...)
}

// TestSharedVectors keeps testdata/vectors/protocol.json equal to what the Go decoders say;
// `go test ./generated/protocol -run TestSharedVectors -args -update-vectors` rewrites it.
func TestSharedVectors(t *testing.T) {
	vs := sharedVectors(t)
	valid := 0
	for _, v := range vs {
		if v.Valid {
			valid++
		}
	}
	if valid == 0 || valid == len(vs) {
		t.Fatalf("%d of %d vectors valid: the file must hold both verdicts", valid, len(vs))
	}
	body, err := json.MarshalIndent(map[string]any{"vectors": vs}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	body = append(body, '\n')
	if *updateVectors {
		if err := os.WriteFile(vectorsFile, body, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("%v (run go test ./generated/protocol -run TestSharedVectors -args -update-vectors)", err)
	}
	if !bytes.Equal(old, body) {
		t.Fatalf("%s is stale: run go test ./generated/protocol -run TestSharedVectors -args -update-vectors", vectorsFile)
	}
	t.Logf("%d vectors (%d valid)", len(vs), valid)
}
