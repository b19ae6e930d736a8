package wire

import (
	"encoding/json"
	"testing"
)

var benchRequest = []byte(`{"jsonrpc":"2.0","id":"a1b2c3d4-42","method":"messages/send","params":{"conversationId":"0b9f6a4e-2f4c-4d8e-9a51-3c1f1f0e8b7a","parts":[{"type":"text","text":"hello, world \u00e9"}],"replyToId":"6a1e0d0f-7b8e-4a3e-9a51-000000000001"}}`)

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	for b.Loop() {
		f, err := Parse(benchRequest)
		if err != nil || f.Kind != KindRequest {
			b.Fatal("bad parse")
		}
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	params := json.RawMessage(`{"conversationId":"0b9f6a4e-2f4c-4d8e-9a51-3c1f1f0e8b7a","parts":[{"type":"text","text":"hi"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodeRequest("a1b2c3d4-42", "messages/send", params)
	}
}
