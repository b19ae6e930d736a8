package codec

import (
	"regexp"
	"strconv"
	"unicode/utf8"
)

// Format is a string format the decoders check.
type Format uint8

// The formats of the protocol's schemas.
const (
	AnyFormat Format = iota
	UUID             // RFC 4122 textual form, any case
	DateTime         // RFC 3339 date-time
	URI              // RFC 3986 absolute URI
)

var formatNames = [...]string{AnyFormat: "", UUID: "uuid", DateTime: "date-time", URI: "uri"}

// StringRule holds the constraints of a string: lengths in Unicode code points (Max 0 means
// no upper bound), a format and a pattern (unanchored, as in JSON Schema).
type StringRule struct {
	Min, Max int
	Format   Format
	Pattern  *regexp.Regexp
}

// Check reports the first constraint s fails.
func (r StringRule) Check(s string) error {
	if r.Min > 0 || r.Max > 0 {
		if err := r.checkLength(s); err != nil {
			return err
		}
	}
	if r.Format != AnyFormat && !formatOK(r.Format, s) {
		return fail("format", "must be a valid "+formatNames[r.Format]+", not "+quote(clip([]byte(s))))
	}
	if r.Pattern != nil && !r.Pattern.MatchString(s) {
		return fail("pattern", "must match "+r.Pattern.String())
	}
	return nil
}

func (r StringRule) checkLength(s string) error {
	// A code point takes 1 to 4 bytes: count only when the byte length cannot decide.
	if len(s) >= 4*r.Min && (r.Max == 0 || len(s) <= r.Max) {
		return nil
	}
	n := utf8.RuneCountInString(s)
	if n < r.Min {
		return fail("minLength", "must be at least "+strconv.Itoa(r.Min)+" characters long, not "+strconv.Itoa(n))
	}
	if r.Max > 0 && n > r.Max {
		return fail("maxLength", "must be at most "+strconv.Itoa(r.Max)+" characters long, not "+strconv.Itoa(n))
	}
	return nil
}

func formatOK(f Format, s string) bool {
	switch f {
	case UUID:
		return IsUUID(s)
	case DateTime:
		return IsDateTime(s)
	case URI:
		return IsURI(s)
	}
	return true
}

// IntRule holds inclusive integer bounds; an unset bound does not apply.
type IntRule struct {
	Min, Max       int64
	HasMin, HasMax bool
}

// AtLeast is the rule v >= min.
func AtLeast(min int64) IntRule { return IntRule{Min: min, HasMin: true} }

// AtMost is the rule v <= max.
func AtMost(max int64) IntRule { return IntRule{Max: max, HasMax: true} }

// Between is the rule min <= v <= max.
func Between(min, max int64) IntRule { return IntRule{Min: min, Max: max, HasMin: true, HasMax: true} }

// Check reports the bound v fails.
func (r IntRule) Check(v int64) error {
	if r.HasMin && v < r.Min {
		return fail("minimum", "must be >= "+strconv.FormatInt(r.Min, 10)+", not "+strconv.FormatInt(v, 10))
	}
	if r.HasMax && v > r.Max {
		return fail("maximum", "must be <= "+strconv.FormatInt(r.Max, 10)+", not "+strconv.FormatInt(v, 10))
	}
	return nil
}

// FloatRule holds number bounds; Exclusive makes a set bound strict.
type FloatRule struct {
	Min, Max                   float64
	HasMin, HasMax             bool
	ExclusiveMin, ExclusiveMax bool
}

// Check reports the bound v fails.
func (r FloatRule) Check(v float64) error {
	if r.HasMin && (v < r.Min || r.ExclusiveMin && v == r.Min) {
		return fail("minimum", "must be above the minimum "+strconv.FormatFloat(r.Min, 'g', -1, 64))
	}
	if r.HasMax && (v > r.Max || r.ExclusiveMax && v == r.Max) {
		return fail("maximum", "must be below the maximum "+strconv.FormatFloat(r.Max, 'g', -1, 64))
	}
	return nil
}

// ArrayRule holds the item count bounds of an array (Max 0 means no upper bound) and
// uniqueItems (for arrays of strings and integers).
type ArrayRule struct {
	Min, Max int
	Unique   bool
}

// checkCount reports the count bound n fails.
func (r ArrayRule) checkCount(n int) error {
	if n < r.Min {
		return fail("minItems", "must have at least "+strconv.Itoa(r.Min)+" items, not "+strconv.Itoa(n))
	}
	if r.Max > 0 && n > r.Max {
		return fail("maxItems", "must have at most "+strconv.Itoa(r.Max)+" items, not "+strconv.Itoa(n))
	}
	return nil
}
