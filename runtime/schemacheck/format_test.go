package schemacheck

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// The native uuid and date-time checks must equal the reference's checkers.

func checkFormatAgrees(t *testing.T, name string, k formatKind, s string) {
	t.Helper()
	if got, want := checkFormat(k, []byte(s)), jsonschema.Formats[name](s); got != want {
		t.Errorf("%s %q: schemacheck %v, reference %v", name, s, got, want)
	}
}

func TestFormatUUID(t *testing.T) {
	base := "0190a1b2-0000-7000-8000-00000000000f"
	alphabet := "0123456789abcdefABCDEFgG-_ xé"
	checkFormatAgrees(t, "uuid", fmtUUID, base)
	checkFormatAgrees(t, "uuid", fmtUUID, "")
	for i := 0; i < len(base); i++ {
		for _, c := range alphabet {
			s := base[:i] + string(c) + base[i+1:]
			checkFormatAgrees(t, "uuid", fmtUUID, s)
			checkFormatAgrees(t, "uuid", fmtUUID, base[:i]+string(c)+base[i:])
		}
		checkFormatAgrees(t, "uuid", fmtUUID, base[:i]+base[i+1:])
	}
}

func TestFormatDateTime(t *testing.T) {
	// Every month and day (and out-of-range ones) over leap and common years.
	for _, y := range []string{"0000", "0001", "1900", "2000", "2023", "2024", "2100", "9999"} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				checkFormatAgrees(t, "date-time", fmtDateTime, fmt.Sprintf("%s-%02d-%02dT10:15:30Z", y, m, d))
			}
		}
	}
	// Times, fractions and offsets, including leap seconds across offsets.
	for _, tm := range []string{"00:00:00", "23:59:59", "23:59:60", "22:59:60", "00:59:60", "24:00:00", "23:60:00", "12:30:61", "00:00:60"} {
		for _, frac := range []string{"", ".1", ".123456789", "."} {
			for _, off := range []string{"Z", "z", "+00:00", "-00:00", "+01:00", "-01:00", "+23:59", "-23:59", "+24:00", "+00:60", "+0100", "", "ZZ", "+01:00Z"} {
				for _, sep := range []string{"T", "t", " "} {
					checkFormatAgrees(t, "date-time", fmtDateTime, "2024-02-29"+sep+tm+frac+off)
				}
			}
		}
	}
	// Random single-byte mutations of a valid date-time.
	rng := rand.New(rand.NewSource(1))
	base := "2026-05-25T10:15:30.123+05:30"
	alphabet := []byte("0123456789-:+.TtZz x\xff")
	for i := 0; i < 200000; i++ {
		b := []byte(base)
		for n := rng.Intn(3) + 1; n > 0; n-- {
			switch p := rng.Intn(len(b) + 1); rng.Intn(3) {
			case 0:
				if p < len(b) {
					b[p] = alphabet[rng.Intn(len(alphabet))]
				}
			case 1:
				if p < len(b) {
					b = append(b[:p], b[p+1:]...)
				}
			case 2:
				b = append(b[:p], append([]byte{alphabet[rng.Intn(len(alphabet))]}, b[p:]...)...)
			}
		}
		checkFormatAgrees(t, "date-time", fmtDateTime, string(b))
	}
}

func TestFormatURI(t *testing.T) {
	for _, s := range []string{"https://example.com/a", "rel/path", "", "urn:x", "http://[::1]/", "http://::1/", "http://a b", "%zz"} {
		checkFormatAgrees(t, "uri", fmtURI, s)
	}
}

func FuzzDateTime(f *testing.F) {
	for _, s := range []string{"2026-05-25T10:15:30.123Z", "2024-02-29T23:59:60+00:00", "2024-02-29T22:59:60-01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFormatAgrees(t, "date-time", fmtDateTime, s)
		checkFormatAgrees(t, "uuid", fmtUUID, s)
	})
}
