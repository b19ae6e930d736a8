// Package cursor encodes and decodes the opaque keyset cursors of store
// listings: base64url (no padding) of a JSON object naming the listing kind
// and the keyset values of the last row of a page. It is shared by every
// store implementation so their cursors have the same shape.
package cursor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

// maxLen bounds the size of a cursor accepted by Decode.
const maxLen = 1024

type payload struct {
	K string   `json:"k"`
	V []string `json:"v"`
}

// Encode returns the cursor for a listing kind and keyset values.
func Encode(kind string, values ...string) protocol.Cursor {
	b, err := json.Marshal(payload{K: kind, V: values})
	if err != nil { // cannot happen: strings always marshal
		return ""
	}
	return protocol.Cursor(base64.RawURLEncoding.EncodeToString(b))
}

// Decode parses cursor c of listing kind, which must carry n values. Any
// failure wraps store.ErrBadCursor.
func Decode(c protocol.Cursor, kind string, n int) ([]string, error) {
	if len(c) > maxLen {
		return nil, fmt.Errorf("cursor too long: %w", store.ErrBadCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(string(c))
	if err != nil {
		return nil, fmt.Errorf("cursor not base64url: %w", store.ErrBadCursor)
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("cursor not JSON: %w", store.ErrBadCursor)
	}
	if p.K != kind {
		return nil, fmt.Errorf("cursor of kind %q used for %q: %w", p.K, kind, store.ErrBadCursor)
	}
	if len(p.V) != n {
		return nil, fmt.Errorf("cursor has %d values, want %d: %w", len(p.V), n, store.ErrBadCursor)
	}
	return p.V, nil
}

// Int parses a keyset value encoded with strconv.FormatInt; failures wrap
// store.ErrBadCursor.
func Int(v string) (int64, error) {
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cursor value %q not an integer: %w", v, store.ErrBadCursor)
	}
	return i, nil
}
