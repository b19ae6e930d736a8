package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

type parseCase struct {
	name   string
	in     string
	kind   Kind
	code   int64 // 0: valid frame
	id     string
	hasID  bool
	method string
	params string
	result string
	errObj *Error
}

func parseCases() []parseCase {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tooDeep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	return []parseCase{
		// REFERENCE 2.3 frame shapes.
		{name: "request", in: `{"jsonrpc":"2.0","id":"c-7","method":"network/ping","params":{}}`,
			kind: KindRequest, id: "c-7", hasID: true, method: "network/ping", params: `{}`},
		{name: "request without params", in: `{"jsonrpc":"2.0","id":"c-1","method":"m"}`,
			kind: KindRequest, id: "c-1", hasID: true, method: "m"},
		{name: "request params array", in: `{"jsonrpc":"2.0","id":"a","method":"m","params":[1,2]}`,
			kind: KindRequest, id: "a", hasID: true, method: "m", params: `[1,2]`},
		{name: "request empty string id", in: `{"jsonrpc":"2.0","id":"","method":"m"}`,
			kind: KindRequest, id: "", hasID: true, method: "m"},
		{name: "notification", in: `{"jsonrpc":"2.0","method":"presence/changed","params":{"agentId":"x","status":"working"}}`,
			kind: KindNotification, method: "presence/changed", params: `{"agentId":"x","status":"working"}`},
		{name: "notification without params", in: `{"jsonrpc":"2.0","method":"n"}`,
			kind: KindNotification, method: "n"},
		{name: "success response", in: `{"jsonrpc":"2.0","id":"c-7","result":{"ts":"2026-05-25T10:15:30.123Z"}}`,
			kind: KindResponse, id: "c-7", hasID: true, result: `{"ts":"2026-05-25T10:15:30.123Z"}`},
		{name: "success response null result", in: `{"jsonrpc":"2.0","id":"x","result":null}`,
			kind: KindResponse, id: "x", hasID: true, result: `null`},
		{name: "error response", in: `{"jsonrpc":"2.0","id":"c-2","error":{"code":-32001,"message":"Forbidden","data":{"reason":"LeaseInvalid"}}}`,
			kind: KindResponse, id: "c-2", hasID: true,
			errObj: &Error{Code: -32001, Message: "Forbidden", Data: []byte(`{"reason":"LeaseInvalid"}`)}},
		{name: "error response null id (2.4 ignored by receiver)", in: `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Invalid JSON"}}`,
			kind: KindResponse, errObj: &Error{Code: -32700, Message: "Invalid JSON"}},
		{name: "success response null id", in: `{"jsonrpc":"2.0","id":null,"result":{}}`,
			kind: KindResponse, result: `{}`},
		{name: "error code written as float", in: `{"jsonrpc":"2.0","id":"f","error":{"code":-32600.0,"message":"m"}}`,
			kind: KindResponse, id: "f", hasID: true, errObj: &Error{Code: -32600, Message: "m"}},
		{name: "error code with exponent", in: `{"jsonrpc":"2.0","id":"f","error":{"code":-3.2e4,"message":""}}`,
			kind: KindResponse, id: "f", hasID: true, errObj: &Error{Code: -32000, Message: ""}},
		{name: "error data null kept", in: `{"jsonrpc":"2.0","id":"f","error":{"code":1,"message":"m","data":null}}`,
			kind: KindResponse, id: "f", hasID: true, errObj: &Error{Code: 1, Message: "m", Data: []byte(`null`)}},
		{name: "whitespace everywhere", in: " \n\t{ \"jsonrpc\" : \"2.0\" ,\r\n \"id\" : \"w\" , \"method\" : \"m\" , \"params\" : { \"a\" : [ 1 , 2 ] } } \n",
			kind: KindRequest, id: "w", hasID: true, method: "m", params: `{ "a" : [ 1 , 2 ] }`},
		{name: "members in any order", in: `{"params":{},"method":"m","id":"o","jsonrpc":"2.0"}`,
			kind: KindRequest, id: "o", hasID: true, method: "m", params: `{}`},
		{name: "escaped member names", in: `{"\u006asonrpc":"\u0032.0","i\u0064":"e\"1","method":"a\/b"}`,
			kind: KindRequest, id: `e"1`, hasID: true, method: "a/b"},
		{name: "unicode id", in: `{"jsonrpc":"2.0","id":"é-\u2603","method":"m"}`,
			kind: KindRequest, id: "é-☃", hasID: true, method: "m"},
		{name: "duplicate member last wins", in: `{"jsonrpc":"2.0","id":"first","id":"second","method":"m"}`,
			kind: KindRequest, id: "second", hasID: true, method: "m"},
		{name: "params with tricky strings", in: `{"jsonrpc":"2.0","id":"t","method":"m","params":{"s":"}]\"{[","n":[{"x":"\\"}]}}`,
			kind: KindRequest, id: "t", hasID: true, method: "m", params: `{"s":"}]\"{[","n":[{"x":"\\"}]}`},
		{name: "deeply nested params", in: `{"jsonrpc":"2.0","id":"d","method":"m","params":` + deep + `}`,
			kind: KindRequest, id: "d", hasID: true, method: "m", params: deep},
		{name: "params nested deeper than MaxDepth", in: `{"jsonrpc":"2.0","method":"m","params":` + tooDeep + `,"id":"d2"}`,
			kind: KindInvalid, code: CodeInvalidRequest, id: "d2", hasID: true},
		{name: "params nested deeper than MaxDepth, id last", in: `{"params":{"a":` + tooDeep + `},"jsonrpc":"2.0","method":"m","id":"d3"}`,
			kind: KindInvalid, code: CodeInvalidRequest, id: "d3", hasID: true},
		{name: "deep result is not limited", in: `{"jsonrpc":"2.0","id":"d4","result":` + tooDeep + `}`,
			kind: KindResponse, id: "d4", hasID: true, result: tooDeep},
		{name: "too deep and invalid", in: `{"jsonrpc":"2.0","id":"d6","method":"m","params":` + tooDeep + `,}`, code: CodeParseError},

		// REFERENCE 2.4: not valid JSON -> -32700, id null.
		{name: "invalid json", in: `{"jsonrpc":"2.0","id":"x",`, code: CodeParseError},
		{name: "empty input", in: ``, code: CodeParseError},
		{name: "whitespace only", in: " \n\t ", code: CodeParseError},
		{name: "garbage", in: `hello`, code: CodeParseError},
		{name: "nested garbage", in: `{"jsonrpc":"2.0","id":"x","method":"m","params":{"a":[1,2,}]}}`, code: CodeParseError},
		{name: "trailing garbage", in: `{"jsonrpc":"2.0","id":"x","method":"m"} x`, code: CodeParseError},
		{name: "two objects", in: `{"jsonrpc":"2.0","method":"m"}{"jsonrpc":"2.0","method":"m"}`, code: CodeParseError},
		{name: "single quotes", in: `{'jsonrpc':'2.0'}`, code: CodeParseError},
		{name: "unterminated string", in: `{"jsonrpc":"2.0,"id":"x"}`, code: CodeParseError},

		// REFERENCE 2.4: JSON but not a valid frame -> -32600 with extracted id.
		{name: "batch array", in: `[{"jsonrpc":"2.0","id":"a","method":"m"}]`, code: CodeInvalidRequest},
		{name: "empty array", in: `[]`, code: CodeInvalidRequest},
		{name: "string", in: `"x"`, code: CodeInvalidRequest},
		{name: "number", in: `42`, code: CodeInvalidRequest},
		{name: "null", in: `null`, code: CodeInvalidRequest},
		{name: "empty object", in: `{}`, code: CodeInvalidRequest},
		{name: "jsonrpc 1.0", in: `{"jsonrpc":"1.0","id":"v1","method":"m"}`, code: CodeInvalidRequest, id: "v1", hasID: true},
		{name: "jsonrpc number", in: `{"jsonrpc":2.0,"id":"v","method":"m"}`, code: CodeInvalidRequest, id: "v", hasID: true},
		{name: "jsonrpc missing", in: `{"id":"nv","method":"m"}`, code: CodeInvalidRequest, id: "nv", hasID: true},
		{name: "jsonrpc 2.0 with space", in: `{"jsonrpc":"2.0 ","id":"v","method":"m"}`, code: CodeInvalidRequest, id: "v", hasID: true},
		{name: "numeric id", in: `{"jsonrpc":"2.0","id":7,"method":"m"}`, code: CodeInvalidRequest},
		{name: "numeric id response", in: `{"jsonrpc":"2.0","id":7,"result":{}}`, code: CodeInvalidRequest},
		{name: "object id", in: `{"jsonrpc":"2.0","id":{"a":"b"},"method":"m"}`, code: CodeInvalidRequest},
		{name: "bool id", in: `{"jsonrpc":"2.0","id":true,"method":"m"}`, code: CodeInvalidRequest},
		{name: "null id request", in: `{"jsonrpc":"2.0","id":null,"method":"m"}`, code: CodeInvalidRequest},
		{name: "both result and error", in: `{"jsonrpc":"2.0","id":"b","result":{},"error":{"code":1,"message":"m"}}`,
			code: CodeInvalidRequest, id: "b", hasID: true},
		{name: "response without result or error", in: `{"jsonrpc":"2.0","id":"n"}`, code: CodeInvalidRequest, id: "n", hasID: true},
		{name: "response without id", in: `{"jsonrpc":"2.0","result":{}}`, code: CodeInvalidRequest},
		{name: "error without code", in: `{"jsonrpc":"2.0","id":"e","error":{"message":"m"}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error without message", in: `{"jsonrpc":"2.0","id":"e","error":{"code":1}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error code string", in: `{"jsonrpc":"2.0","id":"e","error":{"code":"1","message":"m"}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error code fractional", in: `{"jsonrpc":"2.0","id":"e","error":{"code":1.5,"message":"m"}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error code too large", in: `{"jsonrpc":"2.0","id":"e","error":{"code":1e300,"message":"m"}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error message number", in: `{"jsonrpc":"2.0","id":"e","error":{"code":1,"message":2}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error extra member", in: `{"jsonrpc":"2.0","id":"e","error":{"code":1,"message":"m","stack":"x"}}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error not an object", in: `{"jsonrpc":"2.0","id":"e","error":"boom"}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "error null", in: `{"jsonrpc":"2.0","id":"e","error":null}`, code: CodeInvalidRequest, id: "e", hasID: true},
		{name: "extra top-level member", in: `{"jsonrpc":"2.0","id":"x","method":"m","extra":1}`, code: CodeInvalidRequest, id: "x", hasID: true},
		{name: "extra member on notification", in: `{"jsonrpc":"2.0","method":"m","type":"n"}`, code: CodeInvalidRequest},
		{name: "member name case differs", in: `{"JSONRPC":"2.0","id":"x","method":"m"}`, code: CodeInvalidRequest, id: "x", hasID: true},
		{name: "empty method", in: `{"jsonrpc":"2.0","id":"x","method":""}`, code: CodeInvalidRequest, id: "x", hasID: true},
		{name: "numeric method", in: `{"jsonrpc":"2.0","id":"x","method":5}`, code: CodeInvalidRequest, id: "x", hasID: true},
		{name: "null method", in: `{"jsonrpc":"2.0","method":null}`, code: CodeInvalidRequest},
		{name: "method and result", in: `{"jsonrpc":"2.0","id":"x","method":"m","result":{}}`, code: CodeInvalidRequest, id: "x", hasID: true},
		{name: "method and error", in: `{"jsonrpc":"2.0","method":"m","error":{"code":1,"message":"m"}}`, code: CodeInvalidRequest},
		{name: "params on response", in: `{"jsonrpc":"2.0","id":"x","result":{},"params":{}}`, code: CodeInvalidRequest, id: "x", hasID: true},
		{name: "params only", in: `{"jsonrpc":"2.0","params":{}}`, code: CodeInvalidRequest},
		{name: "only jsonrpc", in: `{"jsonrpc":"2.0"}`, code: CodeInvalidRequest},
		{name: "duplicate id last wins numeric", in: `{"jsonrpc":"2.0","id":"s","id":1,"method":"m"}`, code: CodeInvalidRequest},
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in))
			if tc.code != 0 {
				if err == nil {
					t.Fatalf("Parse(%s) = %+v, want error %d", tc.in, f, tc.code)
				}
				if err.Code != tc.code {
					t.Fatalf("code = %d, want %d", err.Code, tc.code)
				}
				want := map[int64]string{CodeParseError: "Invalid JSON", CodeInvalidRequest: "Invalid request frame"}[tc.code]
				if !strings.HasPrefix(err.Message, want) {
					t.Errorf("message = %q, want %q", err.Message, want)
				}
				if f.Kind != KindInvalid {
					t.Errorf("kind = %v, want invalid", f.Kind)
				}
				if f.HasID != tc.hasID || f.ID != tc.id {
					t.Errorf("id = %q/%v, want %q/%v", f.ID, f.HasID, tc.id, tc.hasID)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%s) error %v", tc.in, err)
			}
			if f.Kind != tc.kind {
				t.Errorf("kind = %v, want %v", f.Kind, tc.kind)
			}
			if f.HasID != tc.hasID || f.ID != tc.id {
				t.Errorf("id = %q/%v, want %q/%v", f.ID, f.HasID, tc.id, tc.hasID)
			}
			if f.Method != tc.method {
				t.Errorf("method = %q, want %q", f.Method, tc.method)
			}
			if string(f.Params) != tc.params {
				t.Errorf("params = %s, want %s", f.Params, tc.params)
			}
			if string(f.Result) != tc.result {
				t.Errorf("result = %s, want %s", f.Result, tc.result)
			}
			switch {
			case tc.errObj == nil && f.Error != nil:
				t.Errorf("error = %+v, want nil", f.Error)
			case tc.errObj != nil && f.Error == nil:
				t.Errorf("error = nil, want %+v", tc.errObj)
			case tc.errObj != nil:
				if f.Error.Code != tc.errObj.Code || f.Error.Message != tc.errObj.Message || string(f.Error.Data) != string(tc.errObj.Data) {
					t.Errorf("error = %+v, want %+v", f.Error, tc.errObj)
				}
			}
		})
	}
}

// TestParseNeverPanics feeds every prefix of every case, which covers
// truncated input of all shapes.
func TestParseNeverPanics(t *testing.T) {
	for _, tc := range parseCases() {
		for i := 0; i <= len(tc.in); i++ {
			f, err := Parse([]byte(tc.in[:i]))
			if err == nil && f.Kind == KindInvalid {
				t.Fatalf("valid result with invalid kind for %q", tc.in[:i])
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		isParseErr := err != nil && err.Code == CodeParseError
		switch valid := json.Valid(b); {
		case isParseErr && valid:
			t.Fatalf("parse error but json.Valid for %q", b)
		case !isParseErr && !valid:
			// Only a request nested deeper than encoding/json accepts, answered -32600.
			if err == nil || err.Code != CodeInvalidRequest {
				t.Fatalf("no parse error (%v) but not json.Valid for %q", err, b)
			}
			if end, d := scanValueFlat(b, skipWS(b, 0)); end < 0 || skipWS(b, end) != len(b) || d <= maxDepth {
				t.Fatalf("-32600 for invalid JSON %q", b)
			}
		}
		if err != nil {
			if fr.Kind != KindInvalid {
				t.Fatalf("error with kind %v", fr.Kind)
			}
			return
		}
		// A valid frame re-encodes to a frame that parses to the same thing.
		var out []byte
		switch fr.Kind {
		case KindRequest:
			out = EncodeRequest(fr.ID, fr.Method, fr.Params)
		case KindNotification:
			out = EncodeNotification(fr.Method, fr.Params)
		case KindResponse:
			var id *string
			if fr.HasID {
				id = &fr.ID
			}
			if fr.Error != nil {
				out = EncodeError(id, *fr.Error)
			} else {
				out = EncodeResult(fr.ID, fr.Result)
				if !fr.HasID {
					return // EncodeResult always writes a string id
				}
			}
		default:
			t.Fatalf("nil error with kind %v", fr.Kind)
		}
		g, gerr := Parse(out)
		if gerr != nil {
			t.Fatalf("re-encoded %s does not parse: %v", out, gerr)
		}
		if g.Kind != fr.Kind || g.ID != fr.ID || g.HasID != fr.HasID || g.Method != fr.Method {
			t.Fatalf("round trip mismatch: %+v vs %+v", g, fr)
		}
	})
}
