package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

type typedErr struct{ reason string }

func (e *typedErr) Error() string { return "typed: " + e.reason }

func (e *typedErr) WireError() Error {
	return Error{Code: -32001, Message: "Forbidden", Data: json.RawMessage(`{"reason":"` + e.reason + `"}`)}
}

func TestErrorString(t *testing.T) {
	if got := (Error{Code: -32601, Message: "Unknown method: x"}).Error(); got != "jsonrpc error -32601: Unknown method: x" {
		t.Errorf("Error() = %q", got)
	}
	var err error = &Error{Code: 1, Message: "m"}
	if err.Error() != "jsonrpc error 1: m" {
		t.Errorf("pointer Error() = %q", err.Error())
	}
}

func TestToError(t *testing.T) {
	var nilErr *Error
	cases := []struct {
		name string
		in   error
		want Error
	}{
		{"nil", nil, InternalError()},
		{"plain", errors.New("db password is hunter2"), InternalError()},
		{"wrapped plain", fmt.Errorf("ctx: %w", errors.New("x")), InternalError()},
		{"coded", &typedErr{reason: "LeaseInvalid"}, Error{Code: -32001, Message: "Forbidden", Data: json.RawMessage(`{"reason":"LeaseInvalid"}`)}},
		{"wrapped coded", fmt.Errorf("handler: %w", &typedErr{reason: "r"}), Error{Code: -32001, Message: "Forbidden", Data: json.RawMessage(`{"reason":"r"}`)}},
		{"pointer Error", &Error{Code: -32602, Message: "Invalid params: x"}, Error{Code: -32602, Message: "Invalid params: x"}},
		{"value Error", Error{Code: -32002, Message: "Not found"}, Error{Code: -32002, Message: "Not found"}},
		{"wrapped Error", fmt.Errorf("w: %w", MethodNotFound("a/b")), Error{Code: -32601, Message: "Unknown method: a/b"}},
		{"typed nil Error", nilErr, InternalError()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ToError(tc.in)
			if got.Code != tc.want.Code || got.Message != tc.want.Message || string(got.Data) != string(tc.want.Data) {
				t.Errorf("ToError = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindInvalid: "invalid", KindRequest: "request", KindNotification: "notification", KindResponse: "response", Kind(42): "invalid"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(k), k.String(), want)
		}
	}
}
