// Hand-written tests of the generated package (this file is not generated).
package protocol_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/moltzap/moltzap-go/gen/examples"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
)

func bundle(t *testing.T) *examples.Schema {
	t.Helper()
	s, err := examples.Parse(protocol.SchemaJSON())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// instances synthesises the valid instances of a type: full and minimal, every union arm.
func instances(t *testing.T, s *examples.Schema, ref string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, mode := range []examples.Mode{examples.Full, examples.Minimal} {
		for v := 0; v < s.Variants(ref); v++ {
			inst, err := s.Instance(ref, mode, v)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			raw, err := json.Marshal(inst)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, raw)
		}
	}
	return out
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestRoundTrip: for every schema-backed type, decode(encode(x)) == x over valid instances,
// and the re-encoded JSON equals the input.
func TestRoundTrip(t *testing.T) {
	s := bundle(t)
	types := protocoltest.Types()
	if len(types) < 100 {
		t.Fatalf("only %d types registered", len(types))
	}
	for _, ti := range types {
		t.Run(ti.Name, func(t *testing.T) {
			for _, raw := range instances(t, s, ti.Schema) {
				if err := protocoltest.ValidateReference(ti.Schema, raw); err != nil {
					t.Fatalf("synthesised instance %s is invalid: %v", raw, err)
				}
				v, err := ti.Decode(raw)
				if err != nil {
					t.Fatalf("decode %s: %v", raw, err)
				}
				enc, err := json.Marshal(v)
				if err != nil {
					t.Fatalf("encode %#v: %v", v, err)
				}
				if !jsonEqual(raw, enc) {
					t.Fatalf("re-encoding changed the value:\n in  %s\n out %s", raw, enc)
				}
				v2, err := ti.Decode(enc)
				if err != nil {
					t.Fatalf("decode re-encoded %s: %v", enc, err)
				}
				if !reflect.DeepEqual(v, v2) {
					t.Fatalf("decode(encode(x)) != x:\n x  %#v\n x' %#v", v, v2)
				}
			}
		})
	}
}

// TestValidatorsAgree: for every method's params and result, every notification and callback,
// valid instances pass and every mutation fails, with the same verdict from the generated
// decoder and from an independently compiled jsonschema/v5 validator.
func TestValidatorsAgree(t *testing.T) {
	s := bundle(t)
	ref := protocoltest.ValidateReference
	decoders := map[string]func([]byte) (any, error){}
	for _, ti := range protocoltest.Types() {
		decoders[ti.Schema] = ti.Decode
	}
	var refs []string
	cat := protocol.Catalog()
	for _, m := range append(cat.Methods, cat.Callbacks...) {
		refs = append(refs, m.ParamsSchema, m.ResultSchema)
	}
	for _, n := range cat.Notifications {
		refs = append(refs, n.ParamsSchema)
	}
	kinds := map[string]int{}
	for _, r := range refs {
		decode, ok := decoders[r]
		if !ok {
			t.Fatalf("no decoder for %s", r)
		}
		for _, raw := range instances(t, s, r) {
			if err := ref(r, raw); err != nil {
				t.Fatalf("%s: reference rejects valid %s: %v", r, raw, err)
			}
			if _, err := decode(raw); err != nil {
				t.Fatalf("%s: generated decoder rejects valid %s: %v", r, raw, err)
			}
			var valid any
			_ = json.Unmarshal(raw, &valid)
			muts, err := s.Mutations(r, valid)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range muts {
				bad, _ := json.Marshal(m.Instance)
				refErr := ref(r, bad)
				_, genErr := decode(bad)
				if refErr == nil || genErr == nil {
					t.Fatalf("%s %s at %s: reference error %v, generated error %v for %s", r, m.Kind, m.Pointer, refErr, genErr, bad)
				}
				kinds[m.Kind]++
			}
		}
	}
	for _, k := range []string{"missing-required", "extra-property", "wrong-type", "bound", "bad-enum", "bad-format"} {
		if kinds[k] == 0 {
			t.Errorf("no %s mutation was exercised", k)
		}
	}
	t.Logf("mutations checked: %v", kinds)
}

// TestParamsErrorsAreInvalidParams: a bad request is answered with -32602.
func TestParamsErrorsAreInvalidParams(t *testing.T) {
	_, err := protocol.DecodeMessagesSendParams([]byte(`{"taskId":"x"}`))
	var ip protocol.InvalidParamsError
	if !asErr(err, &ip) || ip.Code() != -32602 {
		t.Fatalf("got %v, want InvalidParamsError", err)
	}
	if _, err := protocol.Decode[protocol.MessagesSendResult]([]byte(`{}`)); err == nil || asErr(err, &ip) {
		t.Fatalf("a bad result must be a decode error, not -32602: %v", err)
	}
}
