// Hand-written benchmarks of the generated package (this file is not generated).
package protocol_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	v5 "github.com/santhosh-tekuri/jsonschema/v5"
)

// The benchmarks compare, on the same input and in the same run, the generated decoders
// (protocol.DecodeXxx: validate + typed decode) followed by json.Marshal, against a
// baseline of encoding/json into map[string]any, an independently compiled jsonschema/v5
// validator and json.Marshal of the map. Sub-benchmarks:
//
//	generated        DecodeXxx + json.Marshal
//	baseline         json.Unmarshal(map) + v5 Validate + json.Marshal
//	generated_decode DecodeXxx only
//	baseline_decode  json.Unmarshal(map) + v5 Validate only
//
// The ratio baseline/generated (ns/op) is the speed-up of the generated code.

// benchSendParams is a realistic messages/send params object: three text parts of
// different sizes and a reply target.
var benchSendParams = []byte(`{"taskId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f","conversationId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0",` +
	`"replyToId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8eb1","parts":[` +
	`{"type":"text","text":"Here is the summary you asked for."},` +
	`{"type":"text","text":"` + strings.Repeat("The build is green on all three platforms; the flaky socket test was fixed by waiting for the close handshake. ", 2) + `"},` +
	`{"type":"text","text":"` + strings.Repeat("Next steps: review the lease TTL defaults, profile the fan-out path, and write the performance notes. ", 5) + `"}]}`)

// benchReceived is a realistic messages/received notification params object (the message
// carries the same three parts).
var benchReceived = []byte(`{"taskId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f","message":{"id":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ec2",` +
	`"conversationId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0","senderId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ed3","seq":"1042",` +
	`"replyToId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8eb1","parts":` + string(benchParts()) + `,"createdAt":"2026-11-23T10:15:30.123Z"}}`)

// benchParts extracts the parts array of benchSendParams.
func benchParts() []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(benchSendParams, &m); err != nil {
		panic(err)
	}
	return m["parts"]
}

// baselineSchema compiles the bundled schema with jsonschema/v5 on its own (not through the
// generated package's cache).
func baselineSchema(b *testing.B, name string) *v5.Schema {
	b.Helper()
	c := v5.NewCompiler()
	c.Draft = v5.Draft2020
	c.AssertFormat = true
	if err := c.AddResource(protocol.BundleURL, bytes.NewReader(protocol.SchemaJSON())); err != nil {
		b.Fatalf("add schema: %v", err)
	}
	s, err := c.Compile(protocol.BundleURL + "#/$defs/" + name)
	if err != nil {
		b.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// baseline decodes raw into a map, validates it with s and encodes it again.
func baseline(raw []byte, s *v5.Schema, encode bool) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if err := s.Validate(m); err != nil {
		return nil, err
	}
	if !encode {
		return nil, nil
	}
	return json.Marshal(m)
}

// sameJSON fails unless a and b hold the same JSON value.
func sameJSON(b *testing.B, a, c []byte) {
	b.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(c, &y); err != nil {
		b.Fatal(err)
	}
	if !reflect.DeepEqual(x, y) {
		b.Fatalf("paths disagree:\n%s\n%s", a, c)
	}
}

// benchPair runs the four sub-benchmarks for one schema and its generated decoder.
func benchPair[T any](b *testing.B, raw []byte, schema string, decode func([]byte) (T, error)) {
	s := baselineSchema(b, schema)
	gen := func(encode bool) ([]byte, error) {
		v, err := decode(raw)
		if err != nil || !encode {
			return nil, err
		}
		return json.Marshal(v)
	}
	// Both paths must accept the input and round-trip it to the same JSON value.
	g, err := gen(true)
	if err != nil {
		b.Fatalf("generated path: %v", err)
	}
	base, err := baseline(raw, s, true)
	if err != nil {
		b.Fatalf("baseline path: %v", err)
	}
	sameJSON(b, g, base)
	sameJSON(b, g, raw)

	for _, bc := range []struct {
		name string
		run  func() ([]byte, error)
	}{
		{"generated", func() ([]byte, error) { return gen(true) }},
		{"baseline", func() ([]byte, error) { return baseline(raw, s, true) }},
		{"generated_decode", func() ([]byte, error) { return gen(false) }},
		{"baseline_decode", func() ([]byte, error) { return baseline(raw, s, false) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMessagesSendParams: the server's inbound hot path (params of messages/send).
func BenchmarkMessagesSendParams(b *testing.B) {
	benchPair(b, benchSendParams, "MessagesSendParams", protocol.DecodeMessagesSendParams)
}

// BenchmarkMessagesReceivedNotification: the client's inbound hot path.
func BenchmarkMessagesReceivedNotification(b *testing.B) {
	benchPair(b, benchReceived, "MessagesReceivedNotification", protocol.DecodeMessagesReceivedNotification)
}
