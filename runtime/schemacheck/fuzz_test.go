package schemacheck_test

import (
	"testing"
)

// fuzzRefs are the real-bundle schemas FuzzAgreement mutates instances of.
var fuzzRefs = []string{
	"#/$defs/MessagesSendParams",
	"#/$defs/NetworkConnectParams",
	"#/$defs/DispatchReleaseNotification",
	"#/$defs/TaskRequestParams",
}

// FuzzAgreement: on arbitrary bytes, schemacheck and jsonschema/v5 (driven like
// protocol.Validate) give the same verdict. Seeded with the synthesised instances and
// mutations of fuzzRefs (sel picks the schema).
//
//	go test -run '^$' -fuzz FuzzAgreement -fuzztime 60s ./runtime/schemacheck/
func FuzzAgreement(f *testing.F) {
	p := proto(f)
	s := examplesSchema(f)
	for i, ref := range fuzzRefs {
		for _, inst := range synth(f, s, ref) {
			f.Add(uint8(i), render(inst, nil))
			muts, err := s.Mutations(ref, inst)
			if err != nil {
				f.Fatal(err)
			}
			for _, m := range muts {
				f.Add(uint8(i), render(normalize(m.Instance), nil))
			}
			// Duplicate keys and numbers the reference cannot convert.
			if obj, ok := inst.(map[string]any); ok {
				for k, val := range obj {
					kb := `"` + k + `"`
					f.Add(uint8(i), render(inst, &edit{prefix: kb + `:1e1000001`}))
					f.Add(uint8(i), render(inst, &edit{suffix: kb + `:` + string(render(val, nil))}))
					f.Add(uint8(i), render(inst, &edit{suffix: kb + `:1.0`}))
				}
			}
		}
	}
	f.Add(uint8(0), benchSendParams)
	f.Add(uint8(2), benchReleaseNotification)
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		p.agree(t, fuzzRefs[int(sel)%len(fuzzRefs)], data)
	})
}

// synthFuzzRefs are synthetic-bundle schemas covering the keywords the protocol does not
// use today. ("Uniq" is left out: the reference compares objects in random map order.)
var synthFuzzRefs = []string{
	"#/$defs/IntB", "#/$defs/Num", "#/$defs/NumBig", "#/$defs/Tags", "#/$defs/UniqNums", "#/$defs/Str",
	"#/$defs/Enum", "#/$defs/Nullable", "#/$defs/OverlapAny", "#/$defs/ReqOnly", "#/$defs/ReqTags",
	"#/$defs/Formats", "#/$defs/Many", "#/$defs/Items", "#/$defs/Union", "#/$defs/Open",
}

// FuzzAgreementKeywords is FuzzAgreement over the synthetic bundle.
func FuzzAgreementKeywords(f *testing.F) {
	p := synthPair(f)
	for i, doc := range synthCorpus {
		if len(doc) < 2000 {
			f.Add(uint8(i), []byte(doc))
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		p.agree(t, synthFuzzRefs[int(sel)%len(synthFuzzRefs)], data)
	})
}
