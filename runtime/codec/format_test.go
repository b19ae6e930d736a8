package codec_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/moltzap/moltzap-go/runtime/codec"
)

// The reference verdicts: jsonschema/v5's format checkers.
var (
	refUUID     = jsonschema.Formats["uuid"]
	refDateTime = jsonschema.Formats["date-time"]
	refURI      = jsonschema.Formats["uri"]
)

func agreeUUID(t *testing.T, s string) {
	t.Helper()
	if got, want := codec.IsUUID(s), refUUID(s); got != want {
		t.Errorf("IsUUID(%q) = %v, jsonschema/v5 says %v", s, got, want)
	}
}

func agreeDateTime(t *testing.T, s string) bool {
	t.Helper()
	got, want := codec.IsDateTime(s), refDateTime(s)
	if got != want {
		t.Errorf("IsDateTime(%q) = %v, jsonschema/v5 says %v", s, got, want)
	}
	return want
}

func TestIsUUIDAgreesWithV5(t *testing.T) {
	base := "0190a1b2-0000-7000-8000-00000000000f"
	for _, s := range []string{
		base, strings.ToUpper(base), "", "-", "0190a1b2000070008000000000000000000f",
		"{0190a1b2-0000-7000-8000-00000000000f}", "urn:uuid:0190a1b2-0000-7000-8000-00000000000f",
		"0190a1b2-0000-7000-8000-00000000000f\n", " 0190a1b2-0000-7000-8000-00000000000f",
		"0190a1b2-0000-7000-8000-00000000000", "0190a1b2-0000-7000-8000-00000000000fa",
		"0190a1b-20000-7000-8000-00000000000f", "０190a1b2-0000-7000-8000-00000000000f",
		"g190a1b2-0000-7000-8000-00000000000f", "0190a1b2_0000_7000_8000_00000000000f",
	} {
		agreeUUID(t, s)
	}
	// Every byte value at every position, and every insertion and deletion.
	for i := 0; i <= len(base); i++ {
		for c := 0; c < 256; c++ {
			if i < len(base) {
				agreeUUID(t, base[:i]+string(rune(c))+base[i+1:])
				agreeUUID(t, base[:i]+string([]byte{byte(c)})+base[i+1:])
			}
			agreeUUID(t, base[:i]+string([]byte{byte(c)})+base[i:])
		}
		if i < len(base) {
			agreeUUID(t, base[:i]+base[i+1:])
		}
		agreeUUID(t, base[:i])
	}
	rng := rand.New(rand.NewSource(2))
	alphabet := []byte("0123456789abcdefABCDEFgG-_ \xff")
	for n := 0; n < 100000; n++ {
		b := make([]byte, 30+rng.Intn(10))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		agreeUUID(t, string(b))
	}
}

func TestIsDateTimeTable(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"2026-05-25T10:15:30Z", true},
		{"2026-05-25t10:15:30z", true},
		{"2026-05-25T10:15:30.123456789012+05:30", true},
		{"2024-02-29T00:00:00Z", true},
		{"2023-02-29T00:00:00Z", false},
		{"1900-02-29T00:00:00Z", false},
		{"2000-02-29T00:00:00Z", true},
		{"0000-02-29T00:00:00Z", true},
		{"2026-04-31T00:00:00Z", false},
		{"2026-13-01T00:00:00Z", false},
		{"2026-00-01T00:00:00Z", false},
		{"2026-01-00T00:00:00Z", false},
		{"2016-12-31T23:59:60Z", true},
		{"2016-12-31T22:59:60Z", false},
		{"2016-12-31T15:59:60-08:00", true},
		{"2017-01-01T00:59:60+01:00", true},
		{"2016-12-31T23:59:60+01:00", false},
		{"2026-05-25T24:00:00Z", false},
		{"2026-05-25T10:60:00Z", false},
		{"2026-05-25T10:15:61Z", false},
		{"2026-05-25T10:15:30+24:00", false},
		{"2026-05-25T10:15:30+00:60", false},
		{"2026-05-25T10:15:30+0530", false},
		{"2026-05-25T10:15:30", false},
		{"2026-05-25 10:15:30Z", false},
		{"2026-05-25T10:15:30.Z", false},
		{"2026-05-25T10:15:30,5Z", false},
		{"2026-05-25T10:15:30ZZ", false},
		{"2026-05-25T10:15:30Z ", false},
		{" 2026-05-25T10:15:30Z", false},
		{"+2026-05-25T10:15:30Z", false},
		{"20260-05-25T10:15:30Z", false},
		{"2026-5-25T10:15:30Z", false},
		{"2026-05-25T1:15:30Z", false},
		// Quirks of the reference: two-byte fields are read by strconv.Atoi.
		{"2026-05-25T+1:15:30Z", true},
		{"2026-05-25T-0:-0:+9Z", true},
		{"2026-05-25T-1:15:30Z", false},
		{"2026-05-25T10:15:30++1:+0", true},
		{"2026-05-25T10:15:30+-0:00", true},
		{"2026-05-25T10:15:30+ 1:00", false},
		{"２０２６-05-25T10:15:30Z", false},
		{"2026-05-25T１0:15:30Z", false},
		{"2026-05-25T10:15:30.１Z", false},
		{"2026-05-25T10:15:30\u0660Z", false},
	} {
		if got := codec.IsDateTime(c.s); got != c.want {
			t.Errorf("IsDateTime(%q) = %v, want %v", c.s, got, c.want)
		}
		agreeDateTime(t, c.s)
	}
}

func TestIsDateTimeAgreesWithV5(t *testing.T) {
	// Every month and day, in and out of range, over leap and common years.
	for _, y := range []string{"0000", "0001", "0004", "0100", "0400", "1600", "1700", "1900", "1996", "2000", "2023", "2024", "2100", "2400", "9996", "9999"} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				agreeDateTime(t, fmt.Sprintf("%s-%02d-%02dT10:15:30Z", y, m, d))
			}
		}
	}
	// Every year.
	for y := 0; y <= 9999; y++ {
		agreeDateTime(t, fmt.Sprintf("%04d-02-29T10:15:30Z", y))
	}
	// Every byte pair in each two-byte field of the date and the time.
	base := "2024-02-29T23:59:60.5-00:00"
	for _, at := range []int{0, 2, 5, 8, 11, 14, 17, 21, 24} {
		for a := 0; a < 256; a++ {
			for b := 0; b < 256; b++ {
				s := []byte(base)
				s[at], s[at+1] = byte(a), byte(b)
				agreeDateTime(t, string(s))
			}
		}
	}
	// Leap seconds at every UTC minute across offsets (including the reference's
	// unreduced hour arithmetic).
	offsets := []string{"Z", "z", "+00:00", "-00:00", "+00:01", "-00:01", "+23:59", "-23:59", "+-0:+1", "-+1:00"}
	for h := 0; h < 24; h += 1 {
		for _, mm := range []int{0, 30, 45, 59} {
			offsets = append(offsets, fmt.Sprintf("+%02d:%02d", h, mm), fmt.Sprintf("-%02d:%02d", h, mm))
		}
	}
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			for _, off := range offsets {
				agreeDateTime(t, fmt.Sprintf("2016-12-31T%02d:%02d:60%s", h, m, off))
			}
		}
	}
	// Times, fractions, zones and separators in combination.
	times := []string{"00:00:00", "23:59:59", "23:59:60", "22:59:60", "00:59:60", "24:00:00", "23:60:00", "12:30:61", "00:00:60", "+1:+2:+3", "-0:-0:-0", "1:02:03", "01:2:03", "01:02:3", "01-02-03", "010203"}
	fracs := []string{"", ".", ".1", ".123456789", ".1234567890123456789012345", ".a", "..1", ".1.2", ",5", ".\u0661"}
	zones := []string{"", "Z", "z", "ZZ", "Zz", "+00:00", "-00:00", "+01:00", "-01:00", "+23:59", "-23:59", "+24:00", "+00:60", "+0100", "+01", "+01:0", "+01:000", "01:00", "+01:00Z", "Z+01:00", "\u2212" + "01:00", "+1:00", "++1:00", " +01:00"}
	for _, tm := range times {
		for _, frac := range fracs {
			for _, zone := range zones {
				for _, sep := range []string{"T", "t", " ", "_", "TT", ""} {
					agreeDateTime(t, "2024-02-29"+sep+tm+frac+zone)
				}
			}
		}
	}
	// Wrong lengths: every prefix and every one-byte extension of valid date-times.
	for _, v := range []string{"2026-05-25T10:15:30Z", "2026-05-25T10:15:30.123+05:30", "2016-12-31T23:59:60Z"} {
		for i := 0; i <= len(v); i++ {
			agreeDateTime(t, v[:i])
			for _, c := range "0:.Z+- \x00" {
				agreeDateTime(t, v[:i]+string(c)+v[i:])
			}
		}
	}
	// Non-ASCII digits in every position.
	for _, digit := range []string{"０", "٠", "۰", "०", "\u00b2", "\xff", "\x80"} {
		v := "2026-05-25T10:15:30.123+05:30"
		for i := 0; i < len(v); i++ {
			agreeDateTime(t, v[:i]+digit+v[i+1:])
			agreeDateTime(t, v[:i]+digit+v[i:])
		}
	}
	// Random mutations of valid date-times.
	rng := rand.New(rand.NewSource(1))
	seeds := []string{"2026-05-25T10:15:30.123+05:30", "2024-02-29T23:59:60Z", "2016-12-31T15:59:60-08:00"}
	alphabet := []byte("0123456789-:+.TtZz x\xff")
	valid := 0
	for n := 0; n < 300000; n++ {
		b := []byte(seeds[n%len(seeds)])
		for k := rng.Intn(3) + 1; k > 0; k-- {
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
		if agreeDateTime(t, string(b)) {
			valid++
		}
	}
	if valid < 10000 {
		t.Errorf("only %d of the random date-times are valid: the mutations are too coarse", valid)
	}
	// Random strings in date-time shape, fields drawn from small alphabets.
	digits := []byte("0123456789+- ")
	for n := 0; n < 200000; n++ {
		b := []byte("dddd-dd-ddTdd:dd:dd")
		for i, c := range b {
			if c == 'd' {
				b[i] = digits[rng.Intn(len(digits))]
			}
		}
		s := string(b)
		switch rng.Intn(4) {
		case 0:
			s += "Z"
		case 1:
			s += fmt.Sprintf(".%dz", rng.Intn(1000))
		default:
			s += string([]byte{"+-"[rng.Intn(2)], digits[rng.Intn(len(digits))], digits[rng.Intn(len(digits))], ':', digits[rng.Intn(len(digits))], digits[rng.Intn(len(digits))]})
		}
		agreeDateTime(t, s)
	}
}

func FuzzIsDateTime(f *testing.F) {
	for _, s := range []string{"2026-05-25T10:15:30.123Z", "2024-02-29T23:59:60+00:00", "2024-02-29T22:59:60-01:00", "2026-05-25T+1:-0:30++1:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		agreeDateTime(t, s)
		agreeUUID(t, s)
		if codec.IsURI(s) && !refURI(s) {
			t.Errorf("IsURI(%q) accepts what jsonschema/v5 rejects", s)
		}
	})
}

func TestIsURITable(t *testing.T) {
	valid := []string{
		"http://example.com",
		"https://example.com/",
		"https://example.com/a/b?c=d&e=f#g",
		"ftp://ftp.is.co.za/rfc/rfc1808.txt",
		"http://www.ietf.org/rfc/rfc2396.txt",
		"ldap://[2001:db8::7]/c=GB?objectClass?one",
		"mailto:John.Doe@example.com",
		"news:comp.infosystems.www.servers.unix",
		"tel:+1-816-555-1212",
		"telnet://192.0.2.16:80/",
		"urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
		"foo://example.com:8042/over/there?name=ferret#nose",
		"urn:example:animal:ferret:nose",
		"file:///etc/hosts",
		"file:/etc/hosts",
		"a:",
		"a:b",
		"a+b-c.d:x",
		"A1:x",
		"http://user:pass@host:8080/p",
		"http://user@host",
		"http://@host",
		"http://:80/",
		"http://host:/",
		"http:///path",
		"http://h/%20/%E2%82%AC",
		"http://h/?%2F",
		"http://h/#%23",
		"http://h/#/?:@!$&'()*+,;=-._~",
		"http://h/?/?:@!$&'()*+,;=-._~",
		"http://h/a:b@c!$&'()*+,;=",
		"http://[::1]/",
		"http://[::1]:8080/",
		"http://[2001:db8:0:0:0:0:0:1]",
		"http://[::ffff:192.0.2.1]/",
		"http://[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]:80/index.html",
		"http://192.168.0.1/",
		"http://999.999.999.999/", // a reg-name
		"http://ex-ample.co_m~/",
		"http://%C3%A9t%C3%A9.example/",
		"http://a%25b/",
		"http://!$&'()*+,;=/",
		"x:%41%42",
		"x://h/%aF",
		"http://h#",
		"http://h?",
		"http://h?#",
		"urn:uuid:0190a1b2-0000-7000-8000-00000000000f",
		"data:text/plain;charset=utf-8,hello",
		"moltzap://agent/abc?x=1",
	}
	for _, s := range valid {
		if !codec.IsURI(s) {
			t.Errorf("IsURI(%q) = false, want true", s)
		}
		if !refURI(s) {
			t.Errorf("test table: jsonschema/v5 rejects %q", s)
		}
	}
	invalid := []string{
		"",
		":",
		":foo",
		"//example.com/",
		"/path",
		"path",
		"example.com",
		"1http://h",
		"+a:b",
		"ht tp://h",
		"h_t:x",
		"http://h/a b",
		"http://h/a<b",
		"http://h/a>b",
		"http://h/a|b",
		"http://h/a\"b",
		"http://h/a{b}",
		"http://h/a\\b",
		"http://h/a^b",
		"http://h/a`b",
		"http://h/a\tb",
		"http://h/a\x7fb",
		"http://h/a\x00b",
		"http://h/\u00e9",
		"http://h\u00e9/",
		"http://h/%",
		"http://h/%2",
		"http://h/%zz",
		"http://h/%2G",
		"http://h/?%",
		"http://h/#%",
		"x:%",
		"x:a%g0",
		"http://h/#a#b",
		"http://h/?a[0]=1",
		"http://h/a[b]",
		"http://a b/",
		"http://a<b/",
		"http://a\"b/",
		"http://a@b@c/",
		"http://u[ser@h/",
		"http://h:8a/",
		"http://h:80:80/",
		"http://h:-1/",
		"http://::1/",
		"http://[::1/",
		"http://[::1]x/",
		"http://[::1]:x/",
		"http://[::1]]/",
		"http://[1.2.3.4]/",
		"http://[::1%25eth0]/",
		"http://[fe80::1%eth0]/",
		"http://[v1.fe80::a+en1]/",
		"http://[::g]/",
		"http://[1:2:3:4:5:6:7:8:9]/",
		"http://[1::2::3]/",
		"http://[::ffff:01.2.3.4]/",
		"http://[]/",
		"http://h[::1]/",
		"http://%41/",  // RFC 3986 allows it; url.Parse refuses encoded ASCII in a host
		"http://a%2F/", // likewise
		"http://h%/",
		"http://h%2/",
	}
	for _, s := range invalid {
		if codec.IsURI(s) {
			t.Errorf("IsURI(%q) = true, want false", s)
		}
	}
}

// stricterThanV5 fails when IsURI accepts s and jsonschema/v5 does not.
func stricterThanV5(t *testing.T, s string) bool {
	t.Helper()
	ok := codec.IsURI(s)
	if ok && !refURI(s) {
		t.Errorf("IsURI(%q) accepts what jsonschema/v5 rejects", s)
	}
	return ok
}

func TestIsURIStricterThanV5(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	printable := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(0x20 + rng.Intn(0x7f-0x20))
		}
		return string(b)
	}
	// Uniformly random printable ASCII.
	for n := 0; n < 100000; n++ {
		stricterThanV5(t, printable(rng.Intn(24)))
	}
	// Printable ASCII after URI-like prefixes, and URI-shaped strings with bytes from the
	// characters that matter to the grammar.
	prefixes := []string{"a:", "http://", "http://[", "http://[::1]", "x://u@", "x://h:", "x:/", "x:?", "x:#", "urn:x:", "http://h/", "http://[::ffff:", "mailto:"}
	special := []byte("%:/?#[]@!$&'()*+,;=-._~ \"<>\\^`{|}aZ09fF.:::[[]]%%%2525")
	accepted := 0
	for n := 0; n < 300000; n++ {
		p := prefixes[rng.Intn(len(prefixes))]
		var s string
		if n%2 == 0 {
			s = p + printable(rng.Intn(16))
		} else {
			b := []byte(p)
			for k := rng.Intn(16); k > 0; k-- {
				b = append(b, special[rng.Intn(len(special))])
			}
			s = string(b)
		}
		if stricterThanV5(t, s) {
			accepted++
		}
	}
	if accepted < 10000 {
		t.Errorf("only %d random URIs accepted: the generator is too coarse to be a test", accepted)
	}
	// Every byte in every position of a URI with each component.
	base := "http://u:p@h.example:80/a/b;c?q=1&r#f/g"
	v6 := "http://[2001:db8::ffff:1.2.3.4]:80/"
	for _, b := range []string{base, v6, "a:b/c?d#e", "http://h%C3%A9/"} {
		for i := 0; i <= len(b); i++ {
			for c := 0; c < 256; c++ {
				if i < len(b) {
					stricterThanV5(t, b[:i]+string([]byte{byte(c)})+b[i+1:])
				}
				stricterThanV5(t, b[:i]+string([]byte{byte(c)})+b[i:])
			}
		}
	}
}

func TestFormatsDoNotAllocate(t *testing.T) {
	inputs := []struct {
		name string
		f    func(string) bool
		s    string
	}{
		{"uuid", codec.IsUUID, "0190a1b2-0000-7000-8000-00000000000f"},
		{"date-time", codec.IsDateTime, "2026-05-25T10:15:30.123+05:30"},
		{"date-time leap", codec.IsDateTime, "2016-12-31T23:59:60Z"},
		{"uri", codec.IsURI, "https://user@example.com:8443/a/b?c=d#e"},
		{"uri ipv6", codec.IsURI, "http://[2001:db8::1]:80/"},
		{"uri bad", codec.IsURI, "http://h/a b"},
	}
	for _, in := range inputs {
		if n := testing.AllocsPerRun(100, func() { in.f(in.s) }); n != 0 {
			t.Errorf("%s: %v allocations per call", in.name, n)
		}
	}
}
