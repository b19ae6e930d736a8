package codec

import "net/netip"

// The "format" checks of the generated decoders. They are plain Go and do not allocate
// (IsURI calls net/netip only for a bracketed IPv6 host). format_test.go compares IsUUID and
// IsDateTime with github.com/santhosh-tekuri/jsonschema/v5 (the reference validator of the
// schema tests) on exhaustive and random inputs, and proves that IsURI never accepts a string
// the reference rejects.

// IsUUID reports whether s is five groups of 8-4-4-4-12 hexadecimal digits (either case)
// separated by '-', the verdict of jsonschema/v5's "uuid" format.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !uriIsHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// IsDateTime reports whether s is an RFC 3339 date-time, with the verdict of jsonschema/v5's
// "date-time" format on every input, including its quirks:
//
//   - the date is exactly "dddd-dd-dd" in ASCII digits, a month 01..12 and a day that exists
//     in that month (years 0000..9999, Gregorian leap years; what time.Parse("2006-01-02")
//     accepts);
//   - the separator is 'T' or 't';
//   - the hour, minute and second fields, and the hour and minute of a numeric offset, are
//     two-byte fields read like strconv.Atoi, so besides two digits a sign and one digit is
//     accepted ("+5", "-0");
//   - a fraction is '.' and at least one digit, of any length;
//   - the zone is 'Z', 'z' or "±hh:mm" with an offset up to 23:59;
//   - second 60 is a leap second only when the time converted to UTC is 23:59 (the converted
//     hour is not reduced modulo 24, as in the reference).
func IsDateTime(s string) bool {
	if len(s) < 20 { // yyyy-mm-ddThh:mm:ssZ
		return false
	}
	if s[10] != 'T' && s[10] != 't' {
		return false
	}
	return dtIsDate(s[:10]) && dtIsTime(s[11:])
}

// dtIsDate is time.Parse("2006-01-02", s) == nil for the 10-byte prefix of a date-time.
func dtIsDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	return month >= 1 && month <= 12 && day >= 1 && day <= dtDaysIn(month, year)
}

func dtDaysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// dtField reads a two-byte field like strconv.Atoi and checks it against 0..max.
func dtField(a, b byte, max int) (int, bool) {
	if b < '0' || b > '9' {
		return 0, false
	}
	var n int
	switch {
	case a >= '0' && a <= '9':
		n = int(a-'0')*10 + int(b-'0')
	case a == '+':
		n = int(b - '0')
	case a == '-':
		n = -int(b - '0')
	default:
		return 0, false
	}
	return n, n >= 0 && n <= max
}

// dtIsTime is the reference's full-time check (jsonschema/v5 isTime).
func dtIsTime(str string) bool {
	if len(str) < 9 || str[2] != ':' || str[5] != ':' {
		return false
	}
	h, ok := dtField(str[0], str[1], 23)
	if !ok {
		return false
	}
	m, ok := dtField(str[3], str[4], 59)
	if !ok {
		return false
	}
	sec, ok := dtField(str[6], str[7], 60)
	if !ok {
		return false
	}
	str = str[8:]
	if str[0] == '.' {
		n := 1
		for n < len(str) && str[n] >= '0' && str[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		str = str[n:]
	}
	if len(str) == 0 {
		return false
	}
	if str[0] == 'z' || str[0] == 'Z' {
		if len(str) != 1 {
			return false
		}
	} else {
		if len(str) != 6 || str[3] != ':' {
			return false
		}
		var sign int
		switch str[0] {
		case '+':
			sign = -1
		case '-':
			sign = 1
		default:
			return false
		}
		zh, ok := dtField(str[1], str[2], 23)
		if !ok {
			return false
		}
		zm, ok := dtField(str[4], str[5], 59)
		if !ok {
			return false
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	}
	return sec != 60 || (h == 23 && m == 59)
}

// Character classes of RFC 3986, as bits of uriClass.
const (
	uriUnreserved = 1 << iota // ALPHA / DIGIT / "-" / "." / "_" / "~"
	uriSubDelim               // "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
	uriSchemeChar             // ALPHA / DIGIT / "+" / "-" / "."
	uriHex                    // HEXDIG
)

var uriClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= uriUnreserved | uriSchemeChar
		t[c-'a'+'A'] |= uriUnreserved | uriSchemeChar
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= uriUnreserved | uriSchemeChar | uriHex
	}
	for _, c := range "abcdefABCDEF" {
		t[c] |= uriHex
	}
	for _, c := range "-._~" {
		t[c] |= uriUnreserved
	}
	for _, c := range "!$&'()*+,;=" {
		t[c] |= uriSubDelim
	}
	for _, c := range "+-." {
		t[c] |= uriSchemeChar
	}
	return t
}()

func uriIsHex(c byte) bool { return uriClass[c]&uriHex != 0 }

func uriIsAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// IsURI reports whether s is an absolute URI of RFC 3986 (section 3):
//
//	URI       = scheme ":" hier-part [ "?" query ] [ "#" fragment ]
//	hier-part = "//" authority path-abempty / path-absolute / path-rootless / path-empty
//	authority = [ userinfo "@" ] host [ ":" port ]
//
// Every component is checked against its character set (unreserved, sub-delims and the
// characters the grammar adds to each), every '%' must start a two-hex-digit percent-encoding,
// the port is digits and a bracketed host is an IPv6 address. Space, '"', '<', '>', '\\', '^',
// '`', '{', '|', '}', control characters and non-ASCII bytes are never accepted (an IRI must
// be percent-encoded).
//
// IsURI is deliberately stricter than jsonschema/v5's "uri" format (url.Parse succeeds and the
// URL has a scheme, plus an IPv6 check on the host), and never accepts what v5 rejects. Known
// differences, each rejected here and accepted by v5:
//
//   - characters outside the component's RFC 3986 set (spaces, '"', '<', '>', '\\', '^', '`',
//     '{', '|', '}', '[' or ']' outside an IP literal, non-ASCII bytes) anywhere but the host:
//     url.Parse does not check paths, opaque parts, queries or fragments, except for controls
//     and percent-encodings;
//   - a malformed percent-encoding in a query or in an opaque (rootless) path, which url.Parse
//     does not unescape;
//   - a second '#' (inside the fragment), a second '@' in the authority (url.Parse splits at
//     the last '@'), and '"', '<', '>' in a host, which url.Parse allows;
//   - IPv6 zone identifiers ("[fe80::1%25en0]", RFC 6874) and IPvFuture literals ("[v1.x]").
//
// In the host, a percent-encoding must encode a non-ASCII byte (%80..%FF) or be %25, because
// url.Parse rejects other encoded bytes there although RFC 3986 allows them (so
// "http://%41/" is rejected by both).
func IsURI(s string) bool {
	// scheme
	if len(s) == 0 || !uriIsAlpha(s[0]) {
		return false
	}
	i := 1
	for i < len(s) && uriClass[s[i]]&uriSchemeChar != 0 {
		i++
	}
	if i == len(s) || s[i] != ':' {
		return false
	}
	rest := s[i+1:]
	// fragment
	if h := uriIndex(rest, '#'); h >= 0 {
		if !uriChars(rest[h+1:], "/?:@") {
			return false
		}
		rest = rest[:h]
	}
	// query
	if q := uriIndex(rest, '?'); q >= 0 {
		if !uriChars(rest[q+1:], "/?:@") {
			return false
		}
		rest = rest[:q]
	}
	// hier-part
	if len(rest) >= 2 && rest[0] == '/' && rest[1] == '/' {
		rest = rest[2:]
		end := uriIndex(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		if !uriAuthority(rest[:end]) {
			return false
		}
		rest = rest[end:]
	}
	// path-abempty, path-absolute, path-rootless or path-empty: pchar and "/" ("//" at the
	// start was the authority).
	return uriChars(rest, "/:@")
}

// uriIndex is strings.IndexByte without the import.
func uriIndex(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// uriChars reports whether s is made of unreserved characters, sub-delims, the bytes of extra
// and well-formed percent-encodings.
func uriChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if uriClass[c]&(uriUnreserved|uriSubDelim) != 0 {
			continue
		}
		if c == '%' {
			if i+2 >= len(s) || !uriIsHex(s[i+1]) || !uriIsHex(s[i+2]) {
				return false
			}
			i += 2
			continue
		}
		if uriIndex(extra, c) < 0 {
			return false
		}
	}
	return true
}

// uriAuthority checks [ userinfo "@" ] host [ ":" port ].
func uriAuthority(a string) bool {
	if at := uriIndex(a, '@'); at >= 0 {
		if !uriChars(a[:at], ":") {
			return false
		}
		a = a[at+1:]
	}
	if len(a) > 0 && a[0] == '[' {
		end := uriIndex(a, ']')
		if end < 0 || !uriIPv6(a[1:end]) {
			return false
		}
		a = a[end+1:]
		if len(a) > 0 && a[0] != ':' {
			return false
		}
	} else {
		// reg-name (an IPv4 address is a reg-name too); percent-encodings only for
		// non-ASCII bytes or '%', as url.Parse requires.
		i := 0
		for ; i < len(a) && a[i] != ':'; i++ {
			c := a[i]
			if uriClass[c]&(uriUnreserved|uriSubDelim) != 0 {
				continue
			}
			if c != '%' || i+2 >= len(a) || !uriIsHex(a[i+1]) || !uriIsHex(a[i+2]) {
				return false
			}
			if a[i+1] < '8' && (a[i+1] != '2' || a[i+2] != '5') {
				return false
			}
			i += 2
		}
		a = a[i:]
	}
	// [ ":" port ], port = *DIGIT
	if len(a) == 0 {
		return true
	}
	for i := 1; i < len(a); i++ {
		if a[i] < '0' || a[i] > '9' {
			return false
		}
	}
	return true
}

// uriIPv6 reports whether s is an IPv6address of RFC 3986 (no zone, no IPvFuture).
func uriIPv6(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !uriIsHex(c) && c != ':' && c != '.' {
			return false
		}
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Is6()
}
