package schemacheck_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/schemacheck"
)

// synthBundle exercises every supported keyword, including the ones the protocol
// catalogs do not use today (uniqueItems, exclusive bounds, number, boolean schemas,
// additionalProperties schemas, $ref with siblings, recursion).
var synthBundle = func() []byte {
	var many strings.Builder
	many.WriteString(`{"type":"object","additionalProperties":false,"required":["p0","p39"],"properties":{`)
	for i := 0; i < 40; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		fmt.Fprintf(&many, `"p%d":{"type":"integer","minimum":%d}`, i, i)
	}
	many.WriteString(`}}`)
	return []byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"https://example.com/synth.json","$defs":{
	"Int": {"type":"integer"},
	"IntB": {"type":"integer","minimum":-5,"maximum":100},
	"Num": {"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1.5},
	"NumBig": {"type":"number","minimum":-1e30,"maximum":123456789012345678901234567890},
	"Bounded": {"minimum":3},
	"Any": {},
	"AnyDesc": {"description":"anything","title":"Any","examples":[1],"default":null,"$comment":"c","deprecated":true},
	"Always": true,
	"Never": false,
	"Open": {"type":"object"},
	"Tags": {"type":"object","additionalProperties":{"type":"string","maxLength":3}},
	"Uniq": {"type":"array","uniqueItems":true},
	"UniqNums": {"type":"array","uniqueItems":true,"items":{"type":"number"}},
	"Str": {"type":"string","minLength":2,"maxLength":4,"pattern":"^[a-z\u00e9😀\uFFFD]+$"},
	"Enum": {"enum":["a","\u00e9","😀","a\"b","\u0000","\uFFFD"]},
	"Const": {"const":"x/y"},
	"Nullable": {"oneOf":[{"$ref":"#/$defs/Str"},{"type":"null"}]},
	"Overlap": {"oneOf":[{"type":"integer"},{"type":"number"}]},
	"OverlapAny": {"oneOf":[{"type":"integer"},{}]},
	"AnyFirst": {"oneOf":[{},{"type":"integer"}]},
	"Nested": {"oneOf":[{"$ref":"#/$defs/Nullable"},{"type":"array","items":{"$ref":"#/$defs/Nested"}}]},
	"RefSibling": {"$ref":"#/$defs/Str","maxLength":3},
	"ReqOnly": {"type":"object","required":["a","b"],"properties":{"a":{"type":"integer"}},"additionalProperties":false},
	"ReqOnlyOpen": {"type":"object","required":["b"]},
	"ReqTags": {"type":"object","required":["a"],"additionalProperties":{"type":"integer","maximum":5}},
	"Formats": {"type":"object","properties":{"u":{"format":"uuid"},"d":{"format":"date-time"},"i":{"format":"uri"}}},
	"Many": ` + many.String() + `,
	"Deep": {"type":"array","items":{"$ref":"#/$defs/Deep"}},
	"DeepObj": {"type":"object","properties":{"a":{"$ref":"#/$defs/DeepObj"}}},
	"Items": {"type":"array","items":{"type":"integer","minimum":0},"minItems":1,"maxItems":3},
	"FalseItems": {"type":"array","items":false},
	"AddlFalse": {"type":"object","properties":{"a":true,"b":false},"additionalProperties":false},
	"Union": {"oneOf":[
		{"type":"object","additionalProperties":false,"required":["kind"],"properties":{"kind":{"const":"a"},"n":{"type":"integer"}}},
		{"type":"object","additionalProperties":false,"required":["kind"],"properties":{"kind":{"const":"b"},"s":{"type":"string"}}}]}
}}`)
}()

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

var (
	synthPairOnce sync.Once
	synthPairV    *pair
)

func synthPair(t testing.TB) *pair {
	t.Helper()
	synthPairOnce.Do(func() { synthPairV = newPair(t, synthBundle) })
	if synthPairV == nil {
		t.Fatal("synthetic bundle did not compile")
	}
	return synthPairV
}

// TestAgreementKeywords: every document of the corpus against every schema of the
// synthetic bundle.
func TestAgreementKeywords(t *testing.T) {
	p := synthPair(t)
	// The deepest documents (nesting 9999 to 10001) go to a few schemas only: the limit is
	// the decoder's, and the reference is quadratic in the depth of recursive schemas.
	deep := map[string]bool{"#/$defs/Any": true, "#/$defs/Open": true, "#/$defs/Tags": true, "#/$defs/AddlFalse": true,
		"#/$defs/Never": true, "#/$defs/Str": true, "#/$defs/Uniq": true, "#/$defs/Formats": true}
	for _, ref := range p.refs {
		for _, doc := range synthCorpus {
			if len(doc) > 5000 && !deep[ref] {
				continue
			}
			p.agree(t, ref, []byte(doc))
		}
	}
}

// TestAgreementProtocolEdges: hand-written edge cases on the real bundle.
func TestAgreementProtocolEdges(t *testing.T) {
	p := proto(t)
	const (
		id1 = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f"
		id2 = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8ea0"
	)
	send := func(parts string) string {
		return `{"taskId":"` + id1 + `","conversationId":"` + id2 + `","parts":` + parts + `}`
	}
	cases := map[string][]string{
		"#/$defs/PageLimit": {`1`, `200`, `0`, `201`, `1.0`, `2e2`, `2.01e2`, `-0`, `1e400`, `1e1000001`, `200.000000000000000000001`,
			`99999999999999999999999`, `"5"`, `null`, `50 `, ` 50`, `50]`, `50}`, `50x`, `5 0`},
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
			p.agree(t, ref, []byte(doc))
		}
	}
}

// TestErrors checks the error values: a pointer to the offending value and a reason.
func TestErrors(t *testing.T) {
	p := proto(t)
	const id = "0192f3a4-7b1c-7d2e-8f30-4a5b6c7d8e9f"
	for _, tc := range []struct {
		ref, doc, pointer, reason string
	}{
		{"#/$defs/MessagesSendParams", `{"taskId":"` + id + `","conversationId":"` + id + `","parts":[{"type":"text","text":""}]}`, "/parts/0/text", "length must be >= 1"},
		{"#/$defs/MessagesSendParams", `{"taskId":"` + id + `","conversationId":"x","parts":[{"type":"text","text":"a"}]}`, "/conversationId", "is not valid \"uuid\""},
		{"#/$defs/MessagesSendParams", `{"taskId":"` + id + `","parts":[{"type":"text","text":"a"}]}`, "", `missing properties: "conversationId"`},
		{"#/$defs/MessagesSendParams", `{"taskId":"` + id + `","conversationId":"` + id + `","parts":[{"type":"image","url":"nope"}]}`, "/parts/0/url", "oneOf failed"},
		{"#/$defs/MessagesSendParams", `{"taskId":1}`, "", "not valid JSON"},
		{"#/$defs/MessagesSendParams", `{"taskId":1}x`, "", "not valid JSON: trailing data"},
		{"#/$defs/PageLimit", `1e1000001`, "", "too large"},
		{"#/$defs/PageLimit", `"1"`, "", "expected integer, but got string"},
	} {
		err := p.set.Validate(tc.ref, []byte(tc.doc))
		e, ok := err.(*schemacheck.Error)
		if !ok {
			t.Errorf("%s %s: error %v is not a *Error", tc.ref, tc.doc, err)
			continue
		}
		if tc.doc == `{"taskId":1}` {
			// Valid JSON, schema failure.
			if e.Pointer != "/taskId" && e.Pointer != "" {
				t.Errorf("%s: pointer %q", tc.doc, e.Pointer)
			}
			continue
		}
		if e.Pointer != tc.pointer || !strings.Contains(e.Reason, tc.reason) {
			t.Errorf("%s %s: got %q %q, want %q containing %q", tc.ref, clip([]byte(tc.doc)), e.Pointer, e.Reason, tc.pointer, tc.reason)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ bundle, want string }{
		{`{"$defs":{"A":{"type":"string","minProperties":1}}}`, `/$defs/A/minProperties: unsupported schema keyword "minProperties"`},
		{`{"$defs":{"A":{"type":"object","properties":{"x~/y":{"allOf":[]}}}}}`, `/$defs/A/properties/x~0~1y/allOf`},
		{`{"$defs":{"A":{"items":{"anyOf":[]}}}}`, `/$defs/A/items/anyOf`},
		{`{"$defs":{"A":{"oneOf":[{"type":"string"},{"not":{}}]}}}`, `/$defs/A/oneOf/1/not`},
		{`{"$defs":{"A":{"additionalProperties":{"patternProperties":{}}}}}`, `/$defs/A/additionalProperties/patternProperties`},
		{`{"$defs":{"A":{"$ref":"#/$defs/B"}}}`, `unknown schema #/$defs/B`},
		{`{"$defs":{"A":{"$ref":"other.json#/x"}}}`, `/$defs/A/$ref`},
		{`{"$defs":{"A":{"type":["string","null"]}}}`, `/$defs/A/type: type must be a single string`},
		{`{"$defs":{"A":{"format":"email"}}}`, `/$defs/A/format`},
		{`{"$defs":{"A":{"pattern":"("}}}`, `/$defs/A/pattern`},
		{`{"$defs":{"A":{"minLength":-1}}}`, `/$defs/A/minLength`},
		{`{"$defs":{"A":{"enum":[1]}}}`, `/$defs/A/enum`},
		{`{"$defs":{"A":{"$ref":"#/$defs/B"},"B":{"oneOf":[{"$ref":"#/$defs/A"}]}}}`, `reference cycle`},
		{`{"$defs":{"A":{"$id":"x"}}}`, `/$defs/A/$id`},
		{`{"$defs":[]}`, `no $defs`},
		{`nope`, `parse bundle`},
	} {
		_, err := schemacheck.Compile([]byte(tc.bundle))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%s) = %v, want an error containing %q", tc.bundle, err, tc.want)
		}
	}
}
