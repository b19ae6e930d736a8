package codec_test

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	"github.com/moltzap/moltzap-go/runtime/codec"
)

// stdString is encoding/json's encoding of s without HTML escaping, which AppendString
// must match byte for byte.
func stdString(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f",
		"héllo wörld ✓", "\u2028\u2029", "bad \xff utf8 \xc3", strings.Repeat("a", 15) + `"`,
		strings.Repeat("0123456789abcdef", 8) + "\n" + strings.Repeat("x", 33)}
	alphabet := []byte("ab \"\\\n\x01\x7fé\xffz0123456789")
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 5000; n++ {
		b := make([]byte, rng.Intn(70))
		for i := range b {
			if rng.Intn(4) == 0 {
				b[i] = alphabet[rng.Intn(len(alphabet))]
			} else {
				b[i] = 'a' + byte(rng.Intn(26))
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		got := codec.AppendString([]byte("prefix"), s)
		if want := append([]byte("prefix"), stdString(t, s)...); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json gives %s", s, got, want)
		}
	}
}
