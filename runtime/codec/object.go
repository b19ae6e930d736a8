package codec

import "sync"

// Object is the member visitor of one JSON object: a generated struct's fields method calls
// one helper per property (String, Int, Struct, ...) with it, and the helper reads or
// appends that property. The same list therefore drives decoding and encoding.
type Object struct {
	d *Decoder // nil while encoding
	b []byte   // the output while encoding
	level
}

// level is the decoding state of one object; nested objects save and restore it.
type level struct {
	key     string // the member being decoded
	n       int    // index of the next property in the visit
	hit     bool   // a property matched key
	seen    uint64 // properties decoded so far, by index
	check   bool   // the final visit: collect the first missing required property
	missing string
	err     error
}

// member is the step every helper starts with. Decoding, it reports whether name is the
// member being read (then the helper reads it); encoding, it writes the key of a present
// member and reports present.
func (o *Object) member(name string, required, present bool) bool {
	if o.d == nil {
		if present {
			o.b = appendKey(o.b, name)
		}
		return present
	}
	bit := uint64(1) << (o.n & 63)
	o.n++
	if o.check {
		if required && o.seen&bit == 0 && o.missing == "" {
			o.missing = name
		}
		return false
	}
	if o.hit || o.err != nil || name != o.key {
		return false
	}
	o.hit = true
	if o.seen&bit != 0 {
		o.err = fail("duplicate", "property "+quote(name)+" appears twice")
		return false
	}
	o.seen |= bit
	return true
}

// decoding reports whether the visit reads input (as opposed to writing output).
func (o *Object) decoding() bool { return o.d != nil }

// setErr records the first error of a member.
func (o *Object) setErr(err error) {
	if err != nil && o.err == nil {
		o.err = err
	}
}

// Const is a required string property fixed to value (a union discriminator).
func (o *Object) Const(name, value string) {
	if !o.member(name, true, true) {
		return
	}
	if !o.decoding() {
		o.b = AppendString(o.b, value)
		return
	}
	s, err := o.d.readString()
	if err == nil && s != value {
		err = fail("const", "must be "+quote(value))
	}
	o.setErr(err)
}

var writers = sync.Pool{New: func() any { return new(Object) }}

// Write appends the JSON object that the visitor fields describes to b.
func Write(b []byte, fields func(*Object)) []byte {
	o := writers.Get().(*Object)
	o.b = b
	b = o.object(fields)
	o.b = nil
	writers.Put(o)
	return b
}

// object appends a nested object: members are written with a leading comma, and the first
// comma becomes the opening brace.
func (o *Object) object(fields func(*Object)) []byte {
	start := len(o.b)
	fields(o)
	if len(o.b) == start {
		o.b = append(o.b, '{', '}')
	} else {
		o.b[start] = '{'
		o.b = append(o.b, '}')
	}
	return o.b
}

// appendKey appends ,"name": (property names are short and almost always plain).
func appendKey(b []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return append(AppendString(append(b, ','), name), ':')
		}
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}
