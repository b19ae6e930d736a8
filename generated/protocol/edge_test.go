// Hand-written tests of the generated package (this file is not generated).
package protocol_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol/protocoltest"
)

// synthCorpus is a corpus of JSON edge cases (numbers, literals, strings, arrays, objects,
// formats, syntax errors, deep nesting), run against every generated type.
var synthCorpus = func() []string {
	c := []string{
		// numbers
		`0`, `-0`, `1`, `1.0`, `1e2`, `1E2`, `1e+2`, `1e-2`, `0.1e1`, `10e-1`, `100e-2`, `1.5`, `1.4999999999999999999999`,
		`2`, `3`, `3.0`, `2.9999999999999999999`, `-5`, `-6`, `-5.0`, `-5.0000000000000000001`, `100`, `100.0`,
		`100.00000000000000000001`, `101`, `1e400`, `-1e400`, `1e1000000`, `1e1000001`, `1e-1000001`, `0e1000001`,
		`1.0e1000000`, `1.5e1000000`, `10e999999`, `10e-1000001`, `123456789012345678901234567890`, `123456789012345678901234567891`,
		`-1e30`, `-1.0000000000000000000000001e30`, `9223372036854775807`, `9223372036854775808`,
		`-9223372036854775808`, `-9223372036854775809`, `1e9223372036854775807`, `1e9223372036854775808`,
		`1e-9223372036854775808`, `1e-9223372036854775809`, `0e-9223372036854775809`, `0.00000000000000000000000001`,
		`000`, `0.0e-0`, `1e0000000000000000000000000000001`,
		// literals
		`null`, `true`, `false`,
		// strings
		`""`, `"a"`, `"ab"`, `"abcd"`, `"abcde"`, `"éé"`, `"😀😀"`, `"😀😀😀😀"`, `"😀😀😀😀😀"`, `"\ud83d\ude00\ud83d\ude00"`,
		`"\ud83d"`, `"\ude00\ud83d"`, `"\ud83d\ud83d"`, `"\ud83dx"`, "\"\xff\xff\"", "\"ab\xc3\"", "\"\xed\xa0\x80\"", `"\uFFFD"`, "\"\xef\xbf\xbd\"",
		`"ab\u0000"`, `"\u0000"`, `"a\"b"`, `"x\/y"`, `"x/y"`, `"\u00e9"`, `"\u00E9"`, `"e\u0301"`, `"\u0061"`, `"a\n"`, `"\b\f\n\r\t"`,
		// arrays
		`[]`, `[1]`, `[1,1]`, `[1,1.0]`, `[1,"1"]`, `[[1],[1.0]]`, `[{"a":1},{"a":1.0}]`, `[{"a":1,"a":2},{"a":2}]`,
		`[{"a":1},{"a":1,"b":2}]`, `[1e1000001,"a"]`, `["a",1e1000001]`, `[1e1000001,1e1000001]`, `[1e1000001,1]`,
		`[1,2,3]`, `[1,2,3,4]`, `[-1]`, `[0,1.0,2e0]`, `[null,null]`, `[true,false]`, `[{"a":[1]},{"a":[1.0]}]`,
		`["a","\u0061"]`, `[1,[1]]`, `[[1e1000001],[1e1000001,2]]`,
		// objects
		`{}`, `{"a":1}`, `{"a":"x"}`, `{"a":1,"a":"x"}`, `{"a":"x","a":1}`, `{"a":1e1000001,"a":1}`, `{"a":1,"a":1e1000001}`,
		`{"b":1}`, `{"a":1,"b":2}`, `{"x":"abcd"}`, `{"x":"abcd","x":"ab"}`, `{"x":"ab","x":"abcd"}`, `{"x":1e1000001,"x":"ab"}`,
		`{"\u0061":1}`, `{"a\u0000":1}`, `{"kind":"a"}`, `{"kind":"b"}`, `{"kind":"a","n":1}`, `{"kind":"a","n":1.5}`,
		`{"kind":"b","s":"x"}`, `{"kind":"b","n":1}`, `{"kind":"c"}`, `{"kind":"\u0061","n":2e0}`, `{"kind":"a","n":1e1000001}`,
		`{"kind":"b","n":1e1000001}`, `{"kind":"b","kind":"a","n":1}`,
		`{"a":1,"b":true}`, `{"a":1,"b":null}`, `{"a":true}`, `{"b":false}`,
		`{"u":"0190a1b2-0000-7000-8000-000000000001"}`, `{"u":"0190A1B2-0000-7000-8000-00000000000F"}`,
		`{"u":"0190A1B2-0000-7000-8000-00000000000G"}`, `{"u":"\u0030190a1b2-0000-7000-8000-000000000001"}`,
		`{"u":"0190a1b2-0000-7000-8000-0000000000011"}`, `{"u":"0190a1b2_0000-7000-8000-000000000001"}`, `{"u":1}`,
		`{"d":"2026-05-25T10:15:30.123Z"}`, `{"d":"2026-02-29T10:15:30Z"}`, `{"d":"2024-02-29T10:15:30Z"}`,
		`{"d":"2024-02-29T23:59:60Z"}`, `{"d":"2024-02-29T23:59:60+00:00"}`, `{"d":"2024-02-29T22:59:60-01:00"}`,
		`{"d":"2024-02-29t10:15:30.1z"}`, `{"d":"2024-02-29 10:15:30Z"}`, `{"d":"2024-02-29T10:15:30"}`,
		`{"d":"2024-13-01T10:15:30Z"}`, `{"d":"2024-12-01T24:00:00Z"}`, `{"d":"2024-12-01T23:59:59.Z"}`,
		`{"d":"2024-12-01T+1:00:00Z"}`, `{"d":"2024-12-01T23:59:59+24:00"}`, `{"d":"0000-01-01T00:00:00Z"}`,
		`{"d":"2024-12-01T23:59:59\u002B01:00"}`,
		`{"i":"https://x"}`, `{"i":"rel/path"}`, `{"i":"http://[::1]:80/"}`, `{"i":"http://::1/"}`, `{"i":"http://a b"}`,
		`{"i":"urn:isbn:0451450523"}`, `{"i":"h\u0074tp://x/\u00e9"}`, `{"i":""}`,
		`{"p0":0,"p39":39}`, `{"p0":0,"p39":38}`, `{"p0":0,"p39":39,"p20":19}`, `{"p0":0,"p39":39,"p40":1}`, `{"p39":39}`,
		`{"p0":0,"p39":39,"p20":1e1000001,"p20":20}`,
		`{"a":{"a":{"a":{}}}}`, `{"a":{"a":{"a":1}}}`,
		// syntax
		`[1,]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{1:1}`, `[01]`, `01`, `-`, `-a`, `1.`, `.5`, `+1`, `1e`, `1e+`, `1.e1`,
		`tru`, `nul`, `nulx`, `fals`, `"\x"`, `"\u12G4"`, "\"\t\"", "\"\x00\"", `"abc`, `"\`, `"\u12`, `{`, `[`, `]`, `}`,
		`1 2`, `1]`, `1}`, `{}}`, `{}]`, `[]]]]`, `{} {}`, `{},`, `nullx`, `null x`, `1x`, `"a"x`, `"a" "b"`, `1 ]`,
		"\t\r\n 1 \t\r\n", "\f1", "\v1", "\u00a01", "1\u00a0", "", " ", `[1 2]`, `{"a":1 "b":2}`, `[,]`, `{,}`,
		`{"a":1}x`, `{"a":1}]garbage`, `{"a":1}}}}`, `[1]{`, "1\x00",
	}
	var big21, big21dup, big21bad, big21badAfterDup []string
	for i := 0; i < 21; i++ {
		big21 = append(big21, fmt.Sprint(i))
		big21dup = append(big21dup, fmt.Sprint(i%20))
		big21bad = append(big21bad, fmt.Sprint(i))
		big21badAfterDup = append(big21badAfterDup, fmt.Sprint(i%20))
	}
	big21bad[10] = `1e1000001`
	big21badAfterDup = append(big21badAfterDup, `1e1000001`)
	for _, arr := range [][]string{big21, big21dup, big21bad, big21badAfterDup} {
		c = append(c, "["+strings.Join(arr, ",")+"]")
	}
	for _, d := range []int{200, 9999, 10000, 10001} {
		c = append(c, strings.Repeat("[", d)+strings.Repeat("]", d))
		c = append(c, strings.Repeat(`{"a":`, d)+"{}"+strings.Repeat("}", d))
		c = append(c, strings.Repeat(`{"a":`, d-1)+"[]"+strings.Repeat("}", d-1))
		c = append(c, `{"x":`+strings.Repeat("[", d-1)+strings.Repeat("]", d-1)+`}`)
	}
	return c
}()

// TestAgreementCorpus: every document of the corpus against every generated type. The
// deepest documents (nesting 9999 to 10001) go to a few types only: the reference is slow
// on them, and the nesting limit is the decoder's, not the type's.
func TestAgreementCorpus(t *testing.T) {
	deep := map[string]bool{"#/$defs/MessagesSendParams": true, "#/$defs/Tags": true, "#/$defs/MessageParts": true, "#/$defs/Part": true}
	st := &stats{}
	t.Cleanup(func() { t.Logf("%v", st) })
	for _, ref := range allRefs() {
		t.Run(strings.TrimPrefix(ref, defsPrefix), func(t *testing.T) {
			t.Parallel()
			for _, doc := range synthCorpus {
				if len(doc) > 5000 && !deep[ref] {
					continue
				}
				agree(t, st, ref, []byte(doc))
			}
		})
	}
}

// TestAgreementProtocolEdges: hand-written edge cases on the real bundle.
func TestAgreementProtocolEdges(t *testing.T) {
	st := &stats{}
	t.Cleanup(func() { t.Logf("%v", st) })
	const (
		id1 = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f"
		id2 = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0"
	)
	send := func(parts string) string {
		return `{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":` + parts + `}`
	}
	cases := map[string][]string{
		"#/$defs/AgentsListParams": {`{"limit":1}`, `{"limit":200}`, `{"limit":0}`, `{"limit":201}`, `{"limit":1.0}`, `{"limit":2e2}`, `{"limit":2.01e2}`, `{"limit":-0}`, `{"limit":1e400}`, `{"limit":1e1000001}`, `{"limit":200.000000000000000000001}`, `{"limit":99999999999999999999999}`, `{"limit":"5"}`, `{"limit":null}`, `{"limit":50 }`, `{"limit": 50}`, `{"limit":50]}`, `{"limit":50}}`, `{"limit":50x}`, `{"limit":5 0}`},
		"#/$defs/MessagesSendParams": {
			send(`[{"type":"text","text":"hi"}]`),
			send(`[{"type":"t\u0065xt","text":"hi"}]`),
			send(`[{"type":"text","text":""}]`),
			send(`[{"type":"text","text":"\ud83d\ude00"}]`),
			send(`[{"type":"text","text":"\ud83d"}]`),
			send(`[{"type":"text","text":"` + strings.Repeat("😀", 32768) + `"}]`),
			send(`[{"type":"text","text":"` + strings.Repeat("😀", 32769) + `"}]`),
			send(`[{"type":"text","text":"` + strings.Repeat(`\ud83d\ude00`, 32768) + `"}]`),
			send(`[{"type":"text","text":"` + strings.Repeat(`\ud83d\ude00`, 32769) + `"}]`),
			send(`[{"type":"text","text":"` + strings.Repeat("\xff", 32768) + `"}]`),
			send(`[{"type":"text","text":"` + strings.Repeat("\xff", 32769) + `"}]`),
			send(`[]`), send(`[null]`), send(`{}`), send(`null`),
			send(`[{"type":"image","url":"https://example.com/a.png","mimeType":"image/png"}]`),
			send(`[{"type":"text","text":"a","type":"image"}]`),
			send(`[{"type":"image","text":"a","type":"text"}]`),
			send(`[{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"}]`),
			send(`[{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"},{"type":"text","text":"a"}]`),
			`{"taskId":"` + strings.ToUpper(id1) + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}`,
			`{"taskId":"\u0030` + id1[1:] + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}`,
			`{"taskId":"` + id1 + `","taskId":"nope","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}`,
			`{"taskId":"nope","taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}`,
			`{"taskId":"` + id1 + `","conversationId":"` + id2 + `","replyToId":null,"parts":[{"type":"text","text":"a"}]}`,
			`{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}],"extra":1}`,
			`{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]} `,
			`{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}{}`,
			`{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}]`,
		},
		"#/$defs/DispatchAdmissionDecision": {
			`{"decision":"grant"}`, `{"decision":"grant","leaseTimeoutMs":1}`, `{"decision":"grant","leaseTimeoutMs":0}`,
			`{"decision":"grant","leaseTimeoutMs":1.0}`, `{"decision":"grant","leaseTimeoutMs":1e1000001}`,
			`{"decision":"deny"}`, `{"decision":"hold"}`, `{"decision":"hold","reason":"x"}`, `{"decision":"maybe"}`,
			`{"decision":"hold","reason":1e1000001}`, `{"decision":"hold","leaseTimeoutMs":1e1000001}`, `{}`, `null`, `[]`,
			`{"decision":"grant","decision":"hold","reason":"x"}`,
		},
		"#/$defs/DispatchReleaseNotification": {
			`{"dispatchId":"` + id1 + `","leaseId":"` + id2 + `","verdict":{"decision":"grant","leaseTimeoutMs":5},"leaseTimeoutMs":5}`,
			`{"dispatchId":"` + id1 + `","leaseId":"` + id2 + `","verdict":{"decision":"grant","leaseTimeoutMs":1e1000001},"leaseTimeoutMs":5}`,
			`{"dispatchId":"` + id1 + `","leaseId":"` + id2 + `","verdict":{"decision":"hold","leaseTimeoutMs":1e1000001},"leaseTimeoutMs":5}`,
			`{"dispatchId":"` + id1 + `","leaseId":"` + id2 + `","verdict":null}`,
		},
	}
	for ref, docs := range cases {
		for _, doc := range docs {
			agree(t, st, ref, []byte(doc))
		}
	}
}

// TestDeliberateDifferences asserts each named difference with the reference: the
// reference accepts (or panics on) the document and the generated decoder rejects it with
// an error, and the harness classifies it under its name.
func TestDeliberateDifferences(t *testing.T) {
	const (
		id1 = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f"
		id2 = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0"
	)
	send := func(parts string) string {
		return `{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":` + parts + `}`
	}
	image := func(url string) string {
		return send(`[{"type":"image","url":"` + url + `","altText":"a"}]`)
	}
	for _, tc := range []struct {
		kind     diffKind
		ref, doc string
	}{
		// (a) duplicate object keys.
		{diffDuplicateKey, "#/$defs/MessagesSendParams", `{"taskId":"nope","taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":[{"type":"text","text":"a"}]}`},
		{diffDuplicateKey, "#/$defs/MessagesSendParams", send(`[{"type":"text","text":"a","text":"b"}]`)},
		{diffDuplicateKey, "#/$defs/DispatchAdmissionDecision", `{"decision":"grant","decision":"hold","reason":"x"}`},
		{diffDuplicateKey, "#/$defs/Tags", `{"a":"x","\u0061":"y"}`},
		// (b) strict RFC 3986 uri.
		{diffStrictURI, "#/$defs/MessagesSendParams", image("https://example.com/a b.png")},
		{diffStrictURI, "#/$defs/MessagesSendParams", image("https://example.com/<a>.png")},
		{diffStrictURI, "#/$defs/MessagesSendParams", image("https://example.com/a|b.png")},
		// (c) integers outside int64 where the schema has no maximum.
		{diffInt64, "#/$defs/DispatchAdmissionDecision", `{"decision":"grant","leaseTimeoutMs":1e30}`},
		{diffInt64, "#/$defs/DispatchAdmissionDecision", `{"decision":"grant","leaseTimeoutMs":9223372036854775808}`},
		// (d) numbers v5 panics on.
		{diffRefPanic, "#/$defs/AgentsListParams", `{"limit":1e1000001}`},
		// A zero with an exponent beyond int64: v5 panics (its big.Rat conversion fails), the
		// generated decoder must return an error.
		{diffRefPanic, "#/$defs/AgentsListParams", `{"cursor":"c","limit":0e99999999999999999999}`},
		{diffRefPanic, "#/$defs/RateLimitedData", `{"retryAfterMs":0e99999999999999999999}`},
		{diffRefPanic, "#/$defs/DispatchAdmissionDecision", `{"decision":"grant","leaseTimeoutMs":1e1000001}`},
	} {
		rerr, rpanic := refVerdict(tc.ref, []byte(tc.doc))
		if tc.kind == diffRefPanic {
			if !rpanic {
				t.Errorf("%s %s: the reference no longer panics (%v)", tc.ref, tc.doc, rerr)
			}
		} else if rerr != nil {
			t.Errorf("%s %s: the reference rejects it (%v): not a deliberate difference", tc.ref, tc.doc, rerr)
		}
		_, gerr, gpanic := genDecode(typeByRef()[tc.ref], []byte(tc.doc))
		if gpanic || gerr == nil {
			t.Errorf("%s %s: generated decoder: err=%v panicked=%v, want an error", tc.ref, tc.doc, gerr, gpanic)
			continue
		}
		if got := agree(t, nil, tc.ref, []byte(tc.doc)); got != tc.kind {
			t.Errorf("%s %s: classified %q, want %q (generated: %v)", tc.ref, tc.doc, got, tc.kind, gerr)
		}
	}
	// The generated uri check is only ever stricter: what it accepts, the reference accepts.
	for _, u := range []string{"https://x", "urn:isbn:0451450523", "http://[::1]:80/", "mailto:a@b.c", "https://example.com/a%20b?q=1#f"} {
		if err := protocoltest.ValidateReference("#/$defs/MessagesSendParams", []byte(image(u))); err != nil {
			t.Errorf("reference rejects %q: %v", u, err)
		}
		agree(t, nil, "#/$defs/MessagesSendParams", []byte(image(u)))
	}
}
