package codec

// Array and map properties. A required array is never written as null (a nil slice is
// written as []); an optional one is absent when nil.

// Strings is a required array of strings; a checks the array, r each item.
func Strings[S ~[]E, E ~string](o *Object, name string, p *S, a ArrayRule, r StringRule) {
	if o.member(name, true, true) {
		listValue(o, p, a, func(v *E) { stringValue(o, v, r) })
	}
}

// OptStrings is an optional array of strings.
func OptStrings[S ~[]E, E ~string](o *Object, name string, p *S, a ArrayRule, r StringRule) {
	if o.member(name, false, *p != nil) {
		listValue(o, p, a, func(v *E) { stringValue(o, v, r) })
	}
}

// Enums is a required array of enumeration values.
func Enums[S ~[]E, E enum](o *Object, name string, p *S, a ArrayRule) {
	if o.member(name, true, true) {
		listValue(o, p, a, func(v *E) { enumValue(o, v) })
	}
}

// OptEnums is an optional array of enumeration values.
func OptEnums[S ~[]E, E enum](o *Object, name string, p *S, a ArrayRule) {
	if o.member(name, false, *p != nil) {
		listValue(o, p, a, func(v *E) { enumValue(o, v) })
	}
}

// Ints is a required array of integers.
func Ints[S ~[]E, E ~int64](o *Object, name string, p *S, a ArrayRule, r IntRule) {
	if o.member(name, true, true) {
		listValue(o, p, a, func(v *E) { intValue(o, v, r) })
	}
}

// OptInts is an optional array of integers.
func OptInts[S ~[]E, E ~int64](o *Object, name string, p *S, a ArrayRule, r IntRule) {
	if o.member(name, false, *p != nil) {
		listValue(o, p, a, func(v *E) { intValue(o, v, r) })
	}
}

// Structs is a required array of objects; fields is the item struct's method expression.
func Structs[S ~[]E, E any](o *Object, name string, p *S, a ArrayRule, fields func(*E, *Object)) {
	if o.member(name, true, true) {
		listValue(o, p, a, func(v *E) { structValue(o, func(o *Object) { fields(v, o) }) })
	}
}

// OptStructs is an optional array of objects.
func OptStructs[S ~[]E, E any](o *Object, name string, p *S, a ArrayRule, fields func(*E, *Object)) {
	if o.member(name, false, *p != nil) {
		listValue(o, p, a, func(v *E) { structValue(o, func(o *Object) { fields(v, o) }) })
	}
}

// Unions is a required array of union values.
func Unions[S ~[]E, E Appender](o *Object, name string, p *S, a ArrayRule, read func(*Decoder) (E, error)) {
	if o.member(name, true, true) {
		listValue(o, p, a, func(v *E) { unionValue(o, v, read) })
	}
}

// OptUnions is an optional array of union values.
func OptUnions[S ~[]E, E Appender](o *Object, name string, p *S, a ArrayRule, read func(*Decoder) (E, error)) {
	if o.member(name, false, *p != nil) {
		listValue(o, p, a, func(v *E) { unionValue(o, v, read) })
	}
}

// listValue reads or writes an array whose items item reads into or writes from *v. Items
// are read in place into the slice (room for four first), so short arrays cost one
// allocation.
func listValue[S ~[]E, E any](o *Object, p *S, a ArrayRule, item func(v *E)) {
	if !o.decoding() {
		o.b = append(o.b, '[')
		for i := range *p {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			item(&(*p)[i])
		}
		o.b = append(o.b, ']')
		return
	}
	var out S
	err := o.d.array(func(int) error {
		if out == nil {
			out = make(S, 0, 4)
		}
		var zero E
		out = append(out, zero)
		item(&out[len(out)-1])
		err := o.err
		o.err = nil
		return err
	})
	if err == nil {
		err = a.checkCount(len(out))
	}
	if err == nil && a.Unique {
		err = uniqueOf(out)
	}
	o.setErr(err)
	if out == nil && err == nil {
		out = S{}
	}
	*p = out
}

// uniqueOf checks uniqueItems for lists of strings and integers (the generator allows
// uniqueItems on those only).
func uniqueOf[S ~[]E, E any](items S) error {
	for i := range items {
		for j := 0; j < i; j++ {
			if any(items[i]) == any(items[j]) {
				return fail("uniqueItems", "items must be unique")
			}
		}
	}
	return nil
}

// StringMap is a required object of string values checked by r.
func StringMap[M ~map[string]E, E ~string](o *Object, name string, p *M, r StringRule) {
	if o.member(name, true, true) {
		mapValue(o, p, func(v *E) { stringValue(o, v, r) })
	}
}

// OptStringMap is an optional object of string values.
func OptStringMap[M ~map[string]E, E ~string](o *Object, name string, p *M, r StringRule) {
	if o.member(name, false, *p != nil) {
		mapValue(o, p, func(v *E) { stringValue(o, v, r) })
	}
}

// IntMap is a required object of integer values checked by r.
func IntMap[M ~map[string]E, E ~int64](o *Object, name string, p *M, r IntRule) {
	if o.member(name, true, true) {
		mapValue(o, p, func(v *E) { intValue(o, v, r) })
	}
}

// OptIntMap is an optional object of integer values.
func OptIntMap[M ~map[string]E, E ~int64](o *Object, name string, p *M, r IntRule) {
	if o.member(name, false, *p != nil) {
		mapValue(o, p, func(v *E) { intValue(o, v, r) })
	}
}

// mapValue reads or writes an object with arbitrary keys; keys are written sorted so the
// output is deterministic.
func mapValue[M ~map[string]E, E any](o *Object, p *M, item func(v *E)) {
	if !o.decoding() {
		o.b = append(o.b, '{')
		for i, k := range sortedKeys(*p) {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(AppendString(o.b, k), ':')
			v := (*p)[k]
			item(&v)
		}
		o.b = append(o.b, '}')
		return
	}
	if o.d.next() != '{' {
		o.setErr(o.d.typeError("an object"))
		return
	}
	out := M{}
	err := o.d.members(func(key string) error {
		if _, dup := out[key]; dup {
			return fail("duplicate", "property "+quote(key)+" appears twice")
		}
		var v E
		item(&v)
		out[key] = v
		err := o.err
		o.err = nil
		return err
	})
	o.setErr(err)
	*p = out
}

// Values is a required array of named lists or maps; read is the item type's reader.
func Values[S ~[]E, E Appender](o *Object, name string, p *S, a ArrayRule, read func(*Decoder) (E, error)) {
	Unions(o, name, p, a, read)
}

// OptValues is an optional array of named lists or maps.
func OptValues[S ~[]E, E Appender](o *Object, name string, p *S, a ArrayRule, read func(*Decoder) (E, error)) {
	OptUnions(o, name, p, a, read)
}
