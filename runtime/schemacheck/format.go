package schemacheck

import (
	jsonschema "github.com/santhosh-tekuri/jsonschema/v5"
)

// Formats are checked with the reference's own checkers (jsonschema.Formats), except that
// uuid and the common canonical shape of date-time are checked natively, without
// allocating; the native checks replicate the reference exactly (see format_test.go,
// which compares them with jsonschema.Formats on exhaustive and random inputs).

type formatKind uint8

const (
	fmtNone formatKind = iota
	fmtUUID
	fmtDateTime
	fmtURI
)

var formatNames = map[string]formatKind{"uuid": fmtUUID, "date-time": fmtDateTime, "uri": fmtURI}

// referenceFormat calls the reference checker.
func referenceFormat(name string, s []byte) bool {
	return jsonschema.Formats[name](string(s))
}

func checkFormat(k formatKind, s []byte) bool {
	switch k {
	case fmtUUID:
		return isUUID(s)
	case fmtDateTime:
		if ok, known := dateTimeFast(s); known {
			return ok
		}
		return referenceFormat("date-time", s)
	case fmtURI:
		return referenceFormat("uri", s)
	}
	return true
}

// isUUID replicates the reference: five groups of 8-4-4-4-12 hex digits separated by '-'.
func isUUID(s []byte) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func digit2(s []byte) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// dateTimeFast decides RFC 3339 date-times of the canonical shape
// dddd-dd-ddTdd:dd:dd[.d+](Z|±dd:dd) (ASCII digits only) exactly as the reference does.
// known is false for any other shape; the caller then asks the reference.
func dateTimeFast(s []byte) (ok, known bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return false, false
	}
	if s[10] != 'T' && s[10] != 't' {
		return false, true // the reference rejects any other separator outright
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return false, false
		}
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month, _ := digit2(s[5:7])
	day, _ := digit2(s[8:10])
	h, _ := digit2(s[11:13])
	m, _ := digit2(s[14:16])
	sec, _ := digit2(s[17:19])
	if h > 23 || m > 59 || sec > 60 {
		return false, true
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false, true
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		zh, ok1 := digit2(rest[1:3])
		zm, ok2 := digit2(rest[4:6])
		if !ok1 || !ok2 {
			return false, false
		}
		if zh > 23 || zm > 59 {
			return false, true
		}
		sign := -1
		if rest[0] == '-' {
			sign = 1
		}
		hm := (h*60 + m) + sign*(zh*60+zm)
		if hm < 0 {
			hm += 24 * 60
		}
		h, m = hm/60, hm%60
	default:
		return false, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return false, true
	}
	if sec == 60 && (h != 23 || m != 59) {
		return false, true
	}
	return true, true
}

func daysIn(month, year int) int {
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
