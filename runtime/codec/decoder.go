package codec

import (
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Decoder reads one JSON document. It is created by Read and ReadValue and handed to the
// generated union readers; it is not safe for concurrent use.
type Decoder struct {
	b []byte
	s string // b as one string: unescaped string values are substrings of it
	i int    // index of the next byte to read
	o Object // the member visitor, shared by every nesting level (each level saves its state)
}

var decoders = sync.Pool{New: func() any { d := new(Decoder); d.o.d = d; return d }}

// Read decodes the JSON object raw with the member visitor fields (a generated struct's
// fields method bound to the value to fill).
func Read(raw []byte, fields func(*Object)) error {
	d := start(raw)
	err := d.Object(fields)
	return d.finish(err)
}

// ReadValue decodes the document raw with read (a generated union or list reader).
func ReadValue[T any](raw []byte, read func(*Decoder) (T, error)) (T, error) {
	d := start(raw)
	v, err := read(d)
	return v, d.finish(err)
}

func start(raw []byte) *Decoder {
	d := decoders.Get().(*Decoder)
	d.b, d.s, d.i = raw, string(raw), 0
	return d
}

// finish checks that only whitespace follows the document and returns d to the pool.
func (d *Decoder) finish(err error) error {
	if err == nil && wire.SkipSpace(d.b, d.i) != len(d.b) {
		err = fail("syntax", "unexpected data after the document")
	}
	d.b, d.s, d.i = nil, "", 0
	d.o.level = level{}
	decoders.Put(d)
	return err
}

// next skips whitespace and returns the next byte, or 0 at the end of the input.
func (d *Decoder) next() byte {
	d.i = wire.SkipSpace(d.b, d.i)
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// typeError says that the value at the current position is not of the wanted JSON type.
func (d *Decoder) typeError(want string) *Error {
	got := "nothing"
	switch d.next() {
	case '{':
		got = "an object"
	case '[':
		got = "an array"
	case '"':
		got = "a string"
	case 't', 'f':
		got = "a boolean"
	case 'n':
		got = "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		got = "a number"
	default:
		return syntaxError()
	}
	return fail("type", "must be "+want+", not "+got)
}

func syntaxError() *Error { return fail("syntax", "malformed JSON") }

// IsNull consumes a JSON null if one is next and reports whether it did.
func (d *Decoder) IsNull() bool {
	if d.next() != 'n' {
		return false
	}
	if end := wire.ScanLiteral(d.b, d.i, "null"); end > 0 {
		d.i = end
		return true
	}
	return false
}

// readString reads a JSON string value.
func (d *Decoder) readString() (string, error) {
	if d.next() != '"' {
		return "", d.typeError("a string")
	}
	start := d.i
	end, plain := wire.ScanStringPlain(d.b, start)
	if end < 0 {
		return "", syntaxError()
	}
	d.i = end
	if inner := d.b[start+1 : end-1]; !plain && (containsByte(inner, '\\') || !utf8.Valid(inner)) {
		return unquote(inner), nil
	}
	return d.s[start+1 : end-1], nil
}

// unquote resolves the escapes of a scanned string body and replaces invalid UTF-8 and lone
// surrogates with U+FFFD, as encoding/json does.
func unquote(in []byte) string {
	if utf8.Valid(in) && !containsByte(in, '\\') {
		return string(in)
	}
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		c := in[i]
		switch {
		case c == '\\':
			var r rune
			r, i = unescape(in, i)
			out = utf8.AppendRune(out, r)
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(in[i:])
			out = utf8.AppendRune(out, r) // RuneError for an invalid byte
			i += n
		}
	}
	return string(out)
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// unescape decodes the escape at in[i] == '\\' (already validated by the scanner) and returns
// the rune and the index after it.
func unescape(in []byte, i int) (rune, int) {
	switch in[i+1] {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r := hex4(in[i+2 : i+6])
		if utf16.IsSurrogate(r) {
			if i+11 < len(in) && in[i+6] == '\\' && in[i+7] == 'u' {
				if pair := utf16.DecodeRune(r, hex4(in[i+8:i+12])); pair != utf8.RuneError {
					return pair, i + 12
				}
			}
			return utf8.RuneError, i + 6
		}
		return r, i + 6
	}
	return rune(in[i+1]), i + 2 // '"', '\\', '/'
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// readNumber reads a JSON number and returns its literal.
func (d *Decoder) readNumber(want string) ([]byte, error) {
	if c := d.next(); c != '-' && (c < '0' || c > '9') {
		return nil, d.typeError(want)
	}
	end := wire.ScanNumber(d.b, d.i)
	if end < 0 {
		return nil, syntaxError()
	}
	lit := d.b[d.i:end]
	d.i = end
	return lit, nil
}

// readInt reads a JSON Schema integer (integral numbers such as 1.0 and 1e2 count).
func (d *Decoder) readInt() (int64, error) {
	lit, err := d.readNumber("an integer")
	if err != nil {
		return 0, err
	}
	v, err := ParseInteger(lit)
	switch err {
	case nil:
		return v, nil
	case ErrNotInteger:
		return 0, fail("type", "must be an integer, not "+string(lit))
	}
	return 0, fail("maximum", "integer "+clip(lit)+" does not fit 64 bits")
}

// readFloat reads a JSON number.
func (d *Decoder) readFloat() (float64, error) {
	lit, err := d.readNumber("a number")
	if err != nil {
		return 0, err
	}
	v, err := ParseNumber(lit)
	if err != nil {
		return 0, fail("maximum", "number "+clip(lit)+" is out of range")
	}
	return v, nil
}

func clip(lit []byte) string {
	if len(lit) > 40 {
		return string(lit[:40]) + "..."
	}
	return string(lit)
}

// readBool reads true or false.
func (d *Decoder) readBool() (bool, error) {
	switch d.next() {
	case 't':
		if end := wire.ScanLiteral(d.b, d.i, "true"); end > 0 {
			d.i = end
			return true, nil
		}
	case 'f':
		if end := wire.ScanLiteral(d.b, d.i, "false"); end > 0 {
			d.i = end
			return false, nil
		}
	}
	return false, d.typeError("a boolean")
}

// Object reads a JSON object member by member with the visitor fields; it is how generated
// union readers decode the chosen alternative.
func (d *Decoder) Object(fields func(*Object)) error {
	if d.next() != '{' {
		return d.typeError("an object")
	}
	o := &d.o
	saved := o.level
	o.level = level{}
	err := d.members(func(key string) error {
		o.key, o.n, o.hit = key, 0, false
		fields(o)
		if o.err != nil {
			err := o.err
			o.err = nil
			return err
		}
		if !o.hit {
			return fail("additionalProperties", "property "+strconv.Quote(key)+" is not allowed")
		}
		return nil
	})
	if err == nil {
		o.check, o.n = true, 0
		fields(o)
		if o.missing != "" {
			err = fail("required", "missing property "+strconv.Quote(o.missing))
		}
	}
	o.level = saved
	return err
}

// members walks the object at d.i, calling member with d.i at each value. A member error is
// returned with the member's key in its pointer, except an unknown property, which is about
// the object itself.
func (d *Decoder) members(member func(key string) error) error {
	d.i++ // '{'
	for first := true; ; first = false {
		c := d.next()
		if c == '}' && first {
			d.i++
			return nil
		}
		if !first {
			if c == '}' {
				d.i++
				return nil
			}
			if c != ',' {
				return syntaxError()
			}
			d.i++
		}
		key, err := d.readString()
		if err != nil {
			return syntaxError()
		}
		if d.next() != ':' {
			return syntaxError()
		}
		d.i++
		if err := member(key); err != nil {
			if e, ok := err.(*Error); ok && (e == errStop || e.Constraint == "additionalProperties") {
				return err
			}
			return atKey(err, key)
		}
	}
}

// array walks the array at d.i, calling each with d.i at each element.
func (d *Decoder) array(each func(i int) error) error {
	if d.next() != '[' {
		return d.typeError("an array")
	}
	d.i++
	for n := 0; ; n++ {
		c := d.next()
		if c == ']' {
			d.i++
			return nil
		}
		if n > 0 {
			if c != ',' {
				return syntaxError()
			}
			d.i++
		}
		if err := each(n); err != nil {
			return atIndex(err, n)
		}
	}
}
