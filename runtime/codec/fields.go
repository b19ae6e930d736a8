package codec

// The helpers below are the lines of a generated fields method: one call per property.
// Plain names are required properties held by value; Opt* are optional properties (a nil
// pointer, slice, map or union is absent); Null* are required properties whose value may be
// JSON null (held as nil).

// Appender is a value with an append-style JSON encoder (every generated struct and union).
type Appender interface {
	AppendJSON(b []byte) []byte
}

// enum is a generated enumeration type.
type enum interface {
	~string
	Valid() bool
}

// String is a required string property checked by r.
func String[T ~string](o *Object, name string, p *T, r StringRule) {
	if o.member(name, true, true) {
		stringValue(o, p, r)
	}
}

// OptString is an optional string property.
func OptString[T ~string](o *Object, name string, p **T, r StringRule) {
	if o.member(name, false, *p != nil) {
		ptrValue(o, p, func(v *T) { stringValue(o, v, r) })
	}
}

// NullString is a required string property that may be null.
func NullString[T ~string](o *Object, name string, p **T, r StringRule) {
	if o.member(name, true, true) {
		nullValue(o, p, func(v *T) { stringValue(o, v, r) })
	}
}

func stringValue[T ~string](o *Object, p *T, r StringRule) {
	if !o.decoding() {
		o.b = AppendString(o.b, string(*p))
		return
	}
	s, err := o.d.readString()
	if err == nil {
		err = r.Check(s)
	}
	o.setErr(err)
	*p = T(s)
}

// ptrValue reads into a new value or writes the present one.
func ptrValue[T any](o *Object, p **T, value func(*T)) {
	if !o.decoding() {
		value(*p)
		return
	}
	v := new(T)
	value(v)
	*p = v
}

// nullValue is ptrValue where JSON null stands for nil.
func nullValue[T any](o *Object, p **T, value func(*T)) {
	if !o.decoding() {
		if *p == nil {
			o.b = append(o.b, "null"...)
			return
		}
		value(*p)
		return
	}
	if o.d.IsNull() {
		*p = nil
		return
	}
	ptrValue(o, p, value)
}

// Enum is a required property holding one of the values of a generated enumeration.
func Enum[T enum](o *Object, name string, p *T) {
	if o.member(name, true, true) {
		enumValue(o, p)
	}
}

// OptEnum is an optional enumeration property.
func OptEnum[T enum](o *Object, name string, p **T) {
	if o.member(name, false, *p != nil) {
		ptrValue(o, p, func(v *T) { enumValue(o, v) })
	}
}

func enumValue[T enum](o *Object, p *T) {
	if !o.decoding() {
		o.b = AppendString(o.b, string(*p))
		return
	}
	s, err := o.d.readString()
	if err == nil && !T(s).Valid() {
		err = fail("enum", quote(clip([]byte(s)))+" is not one of the allowed values")
	}
	o.setErr(err)
	*p = T(s)
}

// Int is a required integer property checked by r.
func Int[T ~int64](o *Object, name string, p *T, r IntRule) {
	if o.member(name, true, true) {
		intValue(o, p, r)
	}
}

// OptInt is an optional integer property.
func OptInt[T ~int64](o *Object, name string, p **T, r IntRule) {
	if o.member(name, false, *p != nil) {
		ptrValue(o, p, func(v *T) { intValue(o, v, r) })
	}
}

// NullInt is a required integer property that may be null.
func NullInt[T ~int64](o *Object, name string, p **T, r IntRule) {
	if o.member(name, true, true) {
		nullValue(o, p, func(v *T) { intValue(o, v, r) })
	}
}

func intValue[T ~int64](o *Object, p *T, r IntRule) {
	if !o.decoding() {
		o.b = appendInt(o.b, int64(*p))
		return
	}
	v, err := o.d.readInt()
	if err == nil {
		err = r.Check(v)
	}
	o.setErr(err)
	*p = T(v)
}

// Float is a required number property checked by r.
func Float[T ~float64](o *Object, name string, p *T, r FloatRule) {
	if o.member(name, true, true) {
		floatValue(o, p, r)
	}
}

// OptFloat is an optional number property.
func OptFloat[T ~float64](o *Object, name string, p **T, r FloatRule) {
	if o.member(name, false, *p != nil) {
		ptrValue(o, p, func(v *T) { floatValue(o, v, r) })
	}
}

func floatValue[T ~float64](o *Object, p *T, r FloatRule) {
	if !o.decoding() {
		o.b = appendFloat(o.b, float64(*p))
		return
	}
	v, err := o.d.readFloat()
	if err == nil {
		err = r.Check(v)
	}
	o.setErr(err)
	*p = T(v)
}

// Bool is a required boolean property.
func Bool[T ~bool](o *Object, name string, p *T) {
	if o.member(name, true, true) {
		boolValue(o, p)
	}
}

// OptBool is an optional boolean property.
func OptBool[T ~bool](o *Object, name string, p **T) {
	if o.member(name, false, *p != nil) {
		ptrValue(o, p, func(v *T) { boolValue(o, v) })
	}
}

func boolValue[T ~bool](o *Object, p *T) {
	if !o.decoding() {
		o.b = appendBool(o.b, bool(*p))
		return
	}
	v, err := o.d.readBool()
	o.setErr(err)
	*p = T(v)
}

// Struct is a required object property; fields is the nested struct's fields method bound
// to the field (x.Message.fields).
func Struct(o *Object, name string, fields func(*Object)) {
	if o.member(name, true, true) {
		structValue(o, fields)
	}
}

// OptStruct is an optional object property; fields is the method expression of the nested
// struct ((*Metadata).fields).
func OptStruct[T any](o *Object, name string, p **T, fields func(*T, *Object)) {
	if o.member(name, false, *p != nil) {
		ptrValue(o, p, func(v *T) { structValue(o, func(o *Object) { fields(v, o) }) })
	}
}

// NullStruct is a required object property that may be null.
func NullStruct[T any](o *Object, name string, p **T, fields func(*T, *Object)) {
	if o.member(name, true, true) {
		nullValue(o, p, func(v *T) { structValue(o, func(o *Object) { fields(v, o) }) })
	}
}

func structValue(o *Object, fields func(*Object)) {
	if !o.decoding() {
		o.object(fields)
		return
	}
	o.setErr(o.d.Object(fields))
}

// Union is a required property holding one alternative of a generated union; read is the
// union's reader.
func Union[U Appender](o *Object, name string, p *U, read func(*Decoder) (U, error)) {
	if o.member(name, true, true) {
		unionValue(o, p, read)
	}
}

// OptUnion is an optional union property (nil is absent).
func OptUnion[U Appender](o *Object, name string, p *U, read func(*Decoder) (U, error)) {
	if o.member(name, false, any(*p) != nil) {
		unionValue(o, p, read)
	}
}

// NullUnion is a required union property that may be null (held as nil).
func NullUnion[U Appender](o *Object, name string, p *U, read func(*Decoder) (U, error)) {
	if !o.member(name, true, true) {
		return
	}
	if o.decoding() && o.d.IsNull() {
		var zero U
		*p = zero
		return
	}
	unionValue(o, p, read)
}

func unionValue[U Appender](o *Object, p *U, read func(*Decoder) (U, error)) {
	if !o.decoding() {
		if any(*p) == nil {
			o.b = append(o.b, "null"...)
			return
		}
		o.b = (*p).AppendJSON(o.b)
		return
	}
	v, err := read(o.d)
	o.setErr(err)
	*p = v
}
