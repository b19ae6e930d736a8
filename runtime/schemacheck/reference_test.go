package schemacheck_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/schemacheck"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// reference is jsonschema/v5 driven exactly like protocol.Validate: json.Decoder with
// UseNumber, rejection when dec.More() after the value, then Schema.Validate.
type reference struct {
	byRef map[string]*jsonschema.Schema
}

func newReference(tb testing.TB, bundle []byte, refs []string) *reference {
	tb.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource("ref.json", bytes.NewReader(bundle)); err != nil {
		tb.Fatal(err)
	}
	r := &reference{byRef: map[string]*jsonschema.Schema{}}
	for _, ref := range refs {
		s, err := c.Compile("ref.json" + ref)
		if err != nil {
			tb.Fatalf("reference compile %s: %v", ref, err)
		}
		r.byRef[ref] = s
	}
	return r
}

// verdict is the reference's answer: valid, or invalid; panicked reports that the
// reference panicked (counted as invalid).
func (r *reference) verdict(ref string, raw []byte) (valid, panicked bool, err error) {
	s := r.byRef[ref]
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return false, false, err
	}
	if dec.More() {
		return false, false, errors.New("trailing data after the JSON value")
	}
	defer func() {
		if p := recover(); p != nil {
			valid, panicked, err = false, true, fmt.Errorf("reference panicked: %v", p)
		}
	}()
	if err := s.Validate(doc); err != nil {
		return false, false, err
	}
	return true, false, nil
}

const defsPrefix = "#/$defs/"

// escapeToken escapes a JSON pointer token.
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// bundleRefs lists "#/$defs/Name" for every definition of a bundle.
func bundleRefs(tb testing.TB, bundle []byte) []string {
	tb.Helper()
	var doc struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(bundle, &doc); err != nil {
		tb.Fatal(err)
	}
	var refs []string
	for name := range doc.Defs {
		refs = append(refs, defsPrefix+name)
	}
	sort.Strings(refs)
	return refs
}

// pair is a compiled bundle with its reference.
type pair struct {
	set  *schemacheck.Set
	ref  *reference
	refs []string

	mu                     sync.Mutex
	valid, invalid, panics int
}

func newPair(tb testing.TB, bundle []byte) *pair {
	tb.Helper()
	set, err := schemacheck.Compile(bundle)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	refs := bundleRefs(tb, bundle)
	return &pair{set: set, ref: newReference(tb, bundle, refs), refs: refs}
}

var (
	protoPairOnce sync.Once
	protoPair     *pair
)

// proto is the pair of the real protocol bundle.
func proto(tb testing.TB) *pair {
	tb.Helper()
	protoPairOnce.Do(func() { protoPair = newPair(tb, protocol.SchemaJSON()) })
	if protoPair == nil {
		tb.Fatal("protocol bundle did not compile")
	}
	return protoPair
}

// agree asserts that schemacheck and the reference give the same verdict. When the
// reference panics, schemacheck must say invalid.
func (p *pair) agree(tb testing.TB, ref string, raw []byte) bool {
	tb.Helper()
	want, panicked, rerr := p.ref.verdict(ref, raw)
	err := p.set.Validate(ref, raw)
	got := err == nil
	p.mu.Lock()
	switch {
	case panicked:
		p.panics++
	case want:
		p.valid++
	default:
		p.invalid++
	}
	p.mu.Unlock()
	if panicked && got {
		tb.Errorf("%s: the reference panics on %q (%v) but schemacheck accepts it", ref, clip(raw), rerr)
		return false
	}
	if got != want {
		tb.Errorf("%s: verdict mismatch on %q\n schemacheck: %v\n reference:   %v (panicked=%v)", ref, clip(raw), err, rerr, panicked)
		return false
	}
	if err != nil {
		var e *schemacheck.Error
		if !errors.As(err, &e) {
			tb.Errorf("%s: error %v is not a *Error", ref, err)
			return false
		}
	}
	return true
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}
