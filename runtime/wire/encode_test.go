package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

func strp(s string) *string { return &s }

func TestEncodeGolden(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"request", EncodeRequest("c-7", "network/ping", json.RawMessage(`{}`)),
			`{"jsonrpc":"2.0","id":"c-7","method":"network/ping","params":{}}`},
		{"request no params", EncodeRequest("c-8", "network/ping", nil),
			`{"jsonrpc":"2.0","id":"c-8","method":"network/ping"}`},
		{"request escaped", EncodeRequest("a\"b", "m<&>\u2028", json.RawMessage(`[1]`)),
			`{"jsonrpc":"2.0","id":"a\"b","method":"m\u003c\u0026\u003e\u2028","params":[1]}`},
		{"notification", EncodeNotification("presence/changed", json.RawMessage(`{"status":"working"}`)),
			`{"jsonrpc":"2.0","method":"presence/changed","params":{"status":"working"}}`},
		{"notification no params", EncodeNotification("n", json.RawMessage{}),
			`{"jsonrpc":"2.0","method":"n"}`},
		{"result", EncodeResult("c-7", json.RawMessage(`{"ts":"2026-05-25T10:15:30.123Z"}`)),
			`{"jsonrpc":"2.0","id":"c-7","result":{"ts":"2026-05-25T10:15:30.123Z"}}`},
		{"result nil", EncodeResult("x", nil),
			`{"jsonrpc":"2.0","id":"x","result":null}`},
		{"error null id", EncodeError(nil, ParseError()),
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Invalid JSON"}}`},
		{"error with id", EncodeError(strp("s-1"), InvalidRequest()),
			`{"jsonrpc":"2.0","id":"s-1","error":{"code":-32600,"message":"Invalid request frame"}}`},
		{"error with data", EncodeError(strp("s-2"), Error{Code: -32020, Message: "Task is closed", Data: json.RawMessage(`{"reason":"TaskClosed"}`)}),
			`{"jsonrpc":"2.0","id":"s-2","error":{"code":-32020,"message":"Task is closed","data":{"reason":"TaskClosed"}}}`},
		{"error control chars", EncodeError(strp("\n"), Error{Code: 1, Message: "tab\there"}),
			`{"jsonrpc":"2.0","id":"\n","error":{"code":1,"message":"tab\there"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Errorf("got  %s\nwant %s", tc.got, tc.want)
			}
			if !json.Valid(tc.got) {
				t.Errorf("not valid JSON: %s", tc.got)
			}
		})
	}
}

// TestAppendStringMatchesEncodingJSON checks the string fast path against
// json.Marshal for a range of inputs.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain-1", "a\"b", `a\b`, "<>&", "\x00\x1f", "é", "\u2028\u2029", "\xff\xfe", "emoji 🙂"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	ids := []string{"c-1", "", "weird \"id\" <&> é \n"}
	for _, id := range ids {
		f, err := Parse(EncodeRequest(id, "task/request", json.RawMessage(`{"a":1}`)))
		if err != nil || f.Kind != KindRequest || f.ID != id || !f.HasID || f.Method != "task/request" || string(f.Params) != `{"a":1}` {
			t.Errorf("request round trip: %+v %v", f, err)
		}
		f, err = Parse(EncodeResult(id, json.RawMessage(`[true]`)))
		if err != nil || f.Kind != KindResponse || f.ID != id || !f.HasID || string(f.Result) != `[true]` || f.Error != nil {
			t.Errorf("result round trip: %+v %v", f, err)
		}
		e := Error{Code: -32024, Message: "rejected <x>", Data: json.RawMessage(`{"taskId":"t"}`)}
		f, err = Parse(EncodeError(&id, e))
		if err != nil || f.Kind != KindResponse || f.ID != id || !f.HasID || f.Error == nil ||
			f.Error.Code != e.Code || f.Error.Message != e.Message || string(f.Error.Data) != string(e.Data) {
			t.Errorf("error round trip: %+v %v", f, err)
		}
	}
	f, err := Parse(EncodeNotification("dispatch/release", json.RawMessage(`{"leaseId":"l"}`)))
	if err != nil || f.Kind != KindNotification || f.HasID || f.Method != "dispatch/release" || string(f.Params) != `{"leaseId":"l"}` {
		t.Errorf("notification round trip: %+v %v", f, err)
	}
	f, err = Parse(EncodeNotification("n", nil))
	if err != nil || f.Kind != KindNotification || f.Params != nil {
		t.Errorf("notification without params round trip: %+v %v", f, err)
	}
	f, err = Parse(EncodeError(nil, InternalError()))
	if err != nil || f.Kind != KindResponse || f.HasID || f.Error == nil || f.Error.Code != CodeInternalError {
		t.Errorf("null-id error round trip: %+v %v", f, err)
	}
	f, err = Parse(EncodeResult("r", nil))
	if err != nil || f.Kind != KindResponse || string(f.Result) != "null" {
		t.Errorf("nil result round trip: %+v %v", f, err)
	}
}
