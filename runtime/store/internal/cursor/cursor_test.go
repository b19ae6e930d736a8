package cursor

import (
	"errors"
	"testing"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
)

func TestRoundTrip(t *testing.T) {
	c := Encode("conv", "123", "id|with\"odd")
	v, err := Decode(c, "conv", 2)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if v[0] != "123" || v[1] != "id|with\"odd" {
		t.Fatalf("values = %q", v)
	}
	if i, err := Int(v[0]); err != nil || i != 123 {
		t.Fatalf("Int = %d, %v", i, err)
	}
}

func TestBad(t *testing.T) {
	long := make([]byte, maxLen+1)
	for i := range long {
		long[i] = 'A'
	}
	for name, c := range map[string]protocol.Cursor{
		"not base64": "!!!",
		"not json":   "bm90IGpzb24",
		"wrong kind": Encode("agents", "x"),
		"wrong n":    Encode("conv", "x"),
		"too long":   protocol.Cursor(long),
	} {
		if _, err := Decode(c, "conv", 2); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("%s: err = %v, want ErrBadCursor", name, err)
		}
	}
	if _, err := Int("x"); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("Int: err = %v", err)
	}
}
