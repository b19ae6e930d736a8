package codec

import (
	"github.com/moltzap/moltzap-go/runtime/wire"
	"slices"
	"strconv"
)

// Whole documents that are not objects (named lists and maps, unions) and the union
// machinery.

// Tag returns the string value of the property name of the object at the current position
// without consuming anything (a union discriminator), or "" when there is none.
func (d *Decoder) Tag(name string) string {
	b := d.b
	i := wire.SkipSpace(b, d.i)
	if i >= len(b) || b[i] != '{' {
		return ""
	}
	save := d.i
	defer func() { d.i = save }()
	d.i = i
	var tag string
	_ = d.members(func(key string) error {
		if key == name && tag == "" && d.next() == '"' {
			if s, err := d.readString(); err == nil {
				tag = s
				return errStop
			}
		}
		return d.skipValue()
	})
	return tag
}

// errStop ends a members walk early.
var errStop = &Error{Constraint: "stop"}

func (d *Decoder) skipValue() error {
	end := wire.ScanValue(d.b, wire.SkipSpace(d.b, d.i))
	if end < 0 {
		return syntaxError()
	}
	d.i = end
	return nil
}

// NoArm is the error for a discriminated union whose tag property names no alternative.
func (d *Decoder) NoArm(tag string, values ...string) error {
	if d.next() != '{' {
		return d.typeError("an object")
	}
	if d.Tag(tag) == "" {
		return fail("required", "missing property "+quote(tag))
	}
	return atKey(fail("const", "must be one of "+quoteAll(values)), tag)
}

// Match returns the index of the one alternative whose required properties (each a list)
// are all present in the object at the current position, or -1 when none or several are.
func (d *Decoder) Match(arms ...[]string) int {
	var present []string
	if wire.SkipSpace(d.b, d.i) < len(d.b) && d.b[wire.SkipSpace(d.b, d.i)] == '{' {
		save := d.i
		d.i = wire.SkipSpace(d.b, d.i)
		_ = d.members(func(key string) error {
			present = append(present, key)
			return d.skipValue()
		})
		d.i = save
	}
	match := -1
	for i, keys := range arms {
		all := true
		for _, k := range keys {
			all = all && slices.Contains(present, k)
		}
		if all {
			if match >= 0 {
				return -1
			}
			match = i
		}
	}
	return match
}

// NoMatch is the error for an undiscriminated union none (or several) of whose n
// alternatives match.
func (d *Decoder) NoMatch(n int) error {
	if d.next() != '{' {
		return d.typeError("an object")
	}
	return fail("oneOf", "must match exactly one of its "+strconv.Itoa(n)+" alternatives")
}

func quoteAll(values []string) string {
	s := ""
	for i, v := range values {
		if i > 0 {
			s += ", "
		}
		s += quote(v)
	}
	return s
}

// ReadUnions reads a whole array of union values (a named list type).
func ReadUnions[S ~[]E, E Appender](d *Decoder, a ArrayRule, read func(*Decoder) (E, error)) (S, error) {
	var out S
	o := &d.o
	saved := o.level
	o.level = level{}
	listValue(o, &out, a, func(v *E) { unionValue(o, v, read) })
	err := o.err
	o.level = saved
	return out, err
}

// ReadStringMap reads a whole object of string values (a named map type).
func ReadStringMap[M ~map[string]E, E ~string](d *Decoder, r StringRule) (M, error) {
	var out M
	o := &d.o
	saved := o.level
	o.level = level{}
	mapValue(o, &out, func(v *E) { stringValue(o, v, r) })
	err := o.err
	o.level = saved
	return out, err
}

// AppendList appends a list of encodable values as a JSON array (never null).
func AppendList[S ~[]E, E Appender](b []byte, items S) []byte {
	b = append(b, '[')
	for i, v := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if any(v) == nil {
			b = append(b, "null"...)
			continue
		}
		b = v.AppendJSON(b)
	}
	return append(b, ']')
}

// AppendStringMap appends a map of strings as a JSON object with sorted keys.
func AppendStringMap[M ~map[string]E, E ~string](b []byte, m M) []byte {
	o := writers.Get().(*Object)
	o.b = b
	mapValue(o, &m, func(v *E) { stringValue(o, v, StringRule{}) })
	b = o.b
	o.b = nil
	writers.Put(o)
	return b
}

func sortedKeys[M ~map[string]E, E any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
