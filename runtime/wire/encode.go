package wire

import (
	"encoding/json"
	"strconv"
)

// The encoders produce compact JSON with members in the order jsonrpc, id,
// method/result/error, params. Raw values (params, result, error data) are
// embedded verbatim: they must be valid JSON, as produced by json.Marshal.
// Strings are escaped exactly like encoding/json does (including the HTML
// characters <, > and & as \u003c, \u003e, \u0026).

const (
	prefixWithID = `{"jsonrpc":"2.0","id":`
	prefixNoID   = `{"jsonrpc":"2.0"`
)

// EncodeRequest encodes a request frame. Empty params are omitted.
func EncodeRequest(id, method string, params json.RawMessage) []byte {
	b := make([]byte, 0, len(prefixWithID)+len(id)+len(method)+len(params)+32)
	b = append(b, prefixWithID...)
	b = appendString(b, id)
	b = append(b, `,"method":`...)
	b = appendString(b, method)
	b = appendParams(b, params)
	return append(b, '}')
}

// EncodeNotification encodes a notification frame. Empty params are omitted.
func EncodeNotification(method string, params json.RawMessage) []byte {
	b := make([]byte, 0, len(prefixNoID)+len(method)+len(params)+32)
	b = append(b, prefixNoID...)
	b = append(b, `,"method":`...)
	b = appendString(b, method)
	b = appendParams(b, params)
	return append(b, '}')
}

// EncodeResult encodes a success response. An empty result is encoded as
// null, because a success response must carry a result member.
func EncodeResult(id string, result json.RawMessage) []byte {
	b := make([]byte, 0, len(prefixWithID)+len(id)+len(result)+16)
	b = append(b, prefixWithID...)
	b = appendString(b, id)
	b = append(b, `,"result":`...)
	b = appendRaw(b, result)
	return append(b, '}')
}

// EncodeError encodes an error response. A nil id is encoded as "id":null,
// which is used when the id of the offending frame could not be determined.
// Empty data is omitted.
func EncodeError(id *string, e Error) []byte {
	n := len(prefixWithID) + len(e.Message) + len(e.Data) + 64
	if id != nil {
		n += len(*id)
	}
	b := make([]byte, 0, n)
	b = append(b, prefixWithID...)
	if id == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *id)
	}
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, e.Code, 10)
	b = append(b, `,"message":`...)
	b = appendString(b, e.Message)
	if len(e.Data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	}
	return append(b, "}}"...)
}

func appendParams(b []byte, params json.RawMessage) []byte {
	if len(params) == 0 {
		return b
	}
	b = append(b, `,"params":`...)
	return append(b, params...)
}

func appendRaw(b []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// appendString appends s as a JSON string. Plain printable ASCII without
// characters that need escaping is copied directly; anything else goes
// through encoding/json so the escaping is identical to json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // cannot happen for a string; keep the frame valid
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
