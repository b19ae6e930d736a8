package schemacheck_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/schemacheck"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// benchSendParams is the realistic messages/send params object of
// generated/protocol/bench_test.go: three text parts of different sizes and a reply target.
var benchSendParams = []byte(`{"taskId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f","conversationId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0",` +
	`"replyToId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8eb1","parts":[` +
	`{"type":"text","text":"Here is the summary you asked for."},` +
	`{"type":"text","text":"` + strings.Repeat("The build is green on all three platforms; the flaky socket test was fixed by waiting for the close handshake. ", 2) + `"},` +
	`{"type":"text","text":"` + strings.Repeat("Next steps: review the lease TTL defaults, profile the fan-out path, and write the performance notes. ", 5) + `"}]}`)

// benchReleaseNotification is a dispatch release notification with a grant verdict.
var benchReleaseNotification = []byte(`{"dispatchId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f","leaseId":"0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0",` +
	`"leaseTimeoutMs":30000,"verdict":{"decision":"grant","leaseTimeoutMs":30000}}`)

// BenchmarkValidate compares schemacheck with the reference path (json.Decoder into any
// with UseNumber, then jsonschema/v5), as protocol.Validate runs it today. The speed-up is
// reference ns/op divided by schemacheck ns/op.
func BenchmarkValidate(b *testing.B) {
	set, err := schemacheck.Compile(protocol.SchemaJSON())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, ref string
		raw       []byte
	}{
		{"MessagesSendParams", "#/$defs/MessagesSendParams", benchSendParams},
		{"DispatchReleaseNotification", "#/$defs/DispatchReleaseNotification", benchReleaseNotification},
	} {
		ref := newReference(b, protocol.SchemaJSON(), []string{bc.ref}).byRef[bc.ref]
		b.Run(bc.name+"/schemacheck", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.raw)))
			for b.Loop() {
				if err := set.Validate(bc.ref, bc.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/jsonschema-v5", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.raw)))
			for b.Loop() {
				dec := json.NewDecoder(bytes.NewReader(bc.raw))
				dec.UseNumber()
				var doc any
				if err := dec.Decode(&doc); err != nil {
					b.Fatal(err)
				}
				if dec.More() {
					b.Fatal("trailing data")
				}
				if err := ref.Validate(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestZeroAllocs: validating a typical valid message allocates nothing.
func TestZeroAllocs(t *testing.T) {
	set, err := schemacheck.Compile(protocol.SchemaJSON())
	if err != nil {
		t.Fatal(err)
	}
	for ref, raw := range map[string][]byte{
		"#/$defs/MessagesSendParams":          benchSendParams,
		"#/$defs/DispatchReleaseNotification": benchReleaseNotification,
	} {
		if err := set.Validate(ref, raw); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		allocs := testing.AllocsPerRun(200, func() { _ = set.Validate(ref, raw) })
		if allocs > 0 && !raceEnabled {
			t.Errorf("%s: %v allocations per Validate", ref, allocs)
		}
	}
	_ = jsonschema.Draft2020
}

// TestConcurrent validates from many goroutines at once (run with -race).
func TestConcurrent(t *testing.T) {
	set, err := schemacheck.Compile(protocol.SchemaJSON())
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte(`{"taskId":"x","conversationId":"y","parts":[{"type":"text","text":"\u00e9"}]}`)
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				if err := set.Validate("#/$defs/MessagesSendParams", benchSendParams); err != nil {
					done <- err
					return
				}
				if set.Validate("#/$defs/MessagesSendParams", bad) == nil {
					done <- errors.New("invalid document accepted")
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
