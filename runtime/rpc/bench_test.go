package rpc

import (
	"context"
	"encoding/json"
	"testing"
)

var benchParams = json.RawMessage(`{"conversationId":"0b9f6a4e-2f4c-4d8e-9a51-3c1f1f0e8b7a","parts":[{"type":"text","text":"hello"}]}`)

func benchHandler() Handler {
	result := json.RawMessage(`{"messageId":"6a1e0d0f-7b8e-4a3e-9a51-000000000001","seq":"42"}`)
	return HandlerFuncs{Request: func(context.Context, string, json.RawMessage) (json.RawMessage, error) {
		return result, nil
	}}
}

// BenchmarkCallRoundTrip measures one Call through two back-to-back Peers:
// encode, in-memory send, parse, handler dispatch, reply, completion.
func BenchmarkCallRoundTrip(b *testing.B) {
	pr := newPair(b, Options{}, Options{}, nil, benchHandler())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pr.client.Call(ctx, "messages/send", benchParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallRoundTripParallel runs many concurrent callers on one Peer.
func BenchmarkCallRoundTripParallel(b *testing.B) {
	pr := newPair(b, Options{}, Options{}, nil, benchHandler())
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := pr.client.Call(ctx, "messages/send", benchParams); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
