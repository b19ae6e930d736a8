// Hand-written benchmarks of the generated package (this file is not generated).
package protocol_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
	v5 "github.com/santhosh-tekuri/jsonschema/v5"
)

// The benchmarks compare, on the same realistic input, the generated one-pass codecs with
// encoding/json. Decoding messages/send params (BenchmarkDecodeMessagesSendParams):
//
//	generated         protocol.DecodeMessagesSendParams (typed decode, every constraint checked)
//	map               json.Unmarshal into map[string]any (no validation)
//	map+jsonschema-v5 json.Unmarshal into map[string]any, then jsonschema/v5 Validate
//	plain-struct      json.Unmarshal into a plain struct mirror (no validation)
//
// Encoding a messages/received notification (BenchmarkEncodeMessagesReceivedNotification):
//
//	generated    AppendJSON into a reused buffer
//	plain-struct json.Marshal of a plain struct mirror

// benchSendParams is a realistic messages/send params object (about 1 KB): three text parts
// of different sizes and a reply target.
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

// benchReleaseNotification is a dispatch release notification with a grant verdict.
var benchReleaseNotification = []byte(`{"dispatchId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f","leaseId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0",` +
	`"leaseTimeoutMs":30000,"verdict":{"decision":"grant","leaseTimeoutMs":30000}}`)

// benchParts extracts the parts array of benchSendParams.
func benchParts() []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(benchSendParams, &m); err != nil {
		panic(err)
	}
	return m["parts"]
}

// plainPart, plainSendParams, plainMessage and plainReceived mirror the protocol types
// with plain Go fields: what encoding/json does without any validation.
type plainPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type plainSendParams struct {
	TaskID          string      `json:"taskId"`
	ConversationID  string      `json:"conversationId"`
	Parts           []plainPart `json:"parts"`
	ReplyToID       *string     `json:"replyToId,omitempty"`
	DispatchLeaseID *string     `json:"dispatchLeaseId,omitempty"`
}

type plainMessage struct {
	ID             string      `json:"id"`
	ConversationID string      `json:"conversationId"`
	SenderID       string      `json:"senderId"`
	Seq            string      `json:"seq"`
	ReplyToID      *string     `json:"replyToId,omitempty"`
	Parts          []plainPart `json:"parts"`
	TaggedEntities []string    `json:"taggedEntities,omitempty"`
	PatchedBy      *string     `json:"patchedBy,omitempty"`
	CreatedAt      string      `json:"createdAt"`
}

type plainReceived struct {
	TaskID  string       `json:"taskId"`
	Message plainMessage `json:"message"`
}

// baselineSchema compiles the bundled schema with jsonschema/v5 on its own.
func baselineSchema(b *testing.B, name string) *v5.Schema {
	b.Helper()
	c := v5.NewCompiler()
	c.Draft = v5.Draft2020
	c.AssertFormat = true
	if err := c.AddResource("bench.json", bytes.NewReader(protocol.SchemaJSON())); err != nil {
		b.Fatalf("add schema: %v", err)
	}
	s, err := c.Compile("bench.json#/$defs/" + name)
	if err != nil {
		b.Fatalf("compile %s: %v", name, err)
	}
	return s
}

func runBench(b *testing.B, n int, f func() error) {
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMessagesSendParams: the server's inbound hot path.
func BenchmarkDecodeMessagesSendParams(b *testing.B) {
	raw := benchSendParams
	s := baselineSchema(b, "MessagesSendParams")
	if err := protocoltest.ValidateReference("#/$defs/MessagesSendParams", raw); err != nil {
		b.Fatal(err)
	}
	b.Run("generated", func(b *testing.B) {
		runBench(b, len(raw), func() error {
			_, err := protocol.DecodeMessagesSendParams(raw)
			return err
		})
	})
	b.Run("map", func(b *testing.B) {
		runBench(b, len(raw), func() error {
			var m map[string]any
			return json.Unmarshal(raw, &m)
		})
	})
	b.Run("map+jsonschema-v5", func(b *testing.B) {
		runBench(b, len(raw), func() error {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			return s.Validate(m)
		})
	})
	b.Run("plain-struct", func(b *testing.B) {
		runBench(b, len(raw), func() error {
			var p plainSendParams
			return json.Unmarshal(raw, &p)
		})
	})
}

// BenchmarkEncodeMessagesReceivedNotification: the server's outbound hot path.
func BenchmarkEncodeMessagesReceivedNotification(b *testing.B) {
	n, err := protocol.Decode[protocol.MessagesReceivedNotification](benchReceived)
	if err != nil {
		b.Fatal(err)
	}
	var p plainReceived
	if err := json.Unmarshal(benchReceived, &p); err != nil {
		b.Fatal(err)
	}
	g := n.AppendJSON(nil)
	m, err := json.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	if !jsonEqual(g, m) || !jsonEqual(g, benchReceived) {
		b.Fatalf("encodings differ:\n%s\n%s", g, m)
	}
	b.Run("generated", func(b *testing.B) {
		buf := make([]byte, 0, 2048)
		runBench(b, len(g), func() error {
			buf = n.AppendJSON(buf[:0])
			return nil
		})
	})
	b.Run("plain-struct", func(b *testing.B) {
		runBench(b, len(m), func() error {
			_, err := json.Marshal(p)
			return err
		})
	})
}
