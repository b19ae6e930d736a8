// Hand-written tests of the generated package (this file is not generated).
package protocol_test

import (
	"testing"
)

// fuzzRefs are the types FuzzAgreement mutates instances of.
var fuzzRefs = []string{
	"#/$defs/MessagesSendParams",
	"#/$defs/NetworkConnectParams",
	"#/$defs/DispatchReleaseNotification",
	"#/$defs/TaskRequestParams",
	"#/$defs/MessagesReceivedNotification",
	"#/$defs/Tags",
}

// FuzzAgreement: on arbitrary bytes, the generated decoder and jsonschema/v5 give the same
// verdict (up to the deliberate differences), the generated decoder never panics, and
// valid documents round trip. Seeded with the synthesised instances and mutations of
// fuzzRefs (sel picks the type).
//
//	go test -run '^$' -fuzz FuzzAgreement -fuzztime 60s ./generated/protocol/
func FuzzAgreement(f *testing.F) {
	s := examplesSchema(f)
	for i, ref := range fuzzRefs {
		for _, inst := range synth(f, s, ref) {
			f.Add(uint8(i), render(inst, nil))
			obj, ok := inst.(map[string]any)
			if !ok {
				continue
			}
			muts, err := s.Mutations(ref, inst)
			if err != nil {
				f.Fatal(err)
			}
			for _, m := range muts {
				f.Add(uint8(i), render(normalize(m.Instance), nil))
			}
			// Duplicate keys and numbers the reference cannot convert.
			for k, val := range obj {
				kb := `"` + k + `"`
				f.Add(uint8(i), render(inst, &edit{prefix: kb + `:1e1000001`}))
				f.Add(uint8(i), render(inst, &edit{suffix: kb + `:` + string(render(val, nil))}))
				f.Add(uint8(i), render(inst, &edit{suffix: kb + `:1.0`}))
			}
		}
	}
	f.Add(uint8(0), benchSendParams)
	f.Add(uint8(2), benchReleaseNotification)
	f.Add(uint8(4), benchReceived)
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		agree(t, nil, fuzzRefs[int(sel)%len(fuzzRefs)], data)
	})
}

// FuzzAgreementCorpus is FuzzAgreement seeded with the edge-case corpus, over every type.
func FuzzAgreementCorpus(f *testing.F) {
	refs := allRefs()
	for i, doc := range synthCorpus {
		if len(doc) < 2000 {
			f.Add(uint16(i), []byte(doc))
		}
	}
	f.Fuzz(func(t *testing.T, sel uint16, data []byte) {
		agree(t, nil, refs[int(sel)%len(refs)], data)
	})
}
