package gen

import "strconv"

// Kind is the shape of a Type in the model.
type Kind int

// The shapes the generator maps.
const (
	KindString Kind = iota + 1
	KindInteger
	KindNumber
	KindBool
	KindStruct
	KindEnum
	KindArray
	KindMap
	KindUnion
)

// Type is a protocol type. Named types (Name != "") are emitted as Go declarations; unnamed
// ones are rendered inline (string, []T, map[string]T).
type Type struct {
	Name   string // Go name; "" for inline primitives, arrays and maps
	Kind   Kind
	Doc    string
	Schema string // pointer of its schema in the bundle ("#/$defs/Name"); "" when inline
	Source *Node  // where it was declared

	Elem   *Type    // KindArray, KindMap
	Fields []*Field // KindStruct
	Enum   []string // KindEnum
	Closed bool     // KindStruct: unknown properties are rejected (always true today)

	Constraints // the validation keywords of the schema (strings, numbers, arrays)

	Consts []ConstProp // KindStruct: properties fixed to one string (written by MarshalJSON)

	Arms          []*Arm // KindUnion
	Discriminator string // KindUnion: the JSON property holding the tag, "" = by required keys
}

// Constraints are the validation keywords a schema states beyond its type. The model keeps
// every one so that each emitter (Go, TypeScript, Python, Markdown) checks and documents the
// same rules without reading the schema JSON again. A nil pointer means "not stated".
type Constraints struct {
	MinLength, MaxLength *int64 // KindString (and string enums): length in Unicode code points
	Pattern              string // KindString: ECMA-262/RE2-compatible regular expression, unanchored
	Format               string // KindString: "uuid", "date-time" or "uri"
	Examples             []string

	// KindInteger and KindNumber bounds, as written in the schema (exact decimal literals).
	Minimum, Maximum, ExclusiveMinimum, ExclusiveMaximum *Number

	MinItems, MaxItems *int64 // KindArray
	UniqueItems        bool   // KindArray
}

// Number is a numeric literal of the schema, kept exact.
type Number struct {
	Literal string
}

// Int64 returns the literal as an int64 when it is an integer that fits.
func (n *Number) Int64() (int64, bool) {
	v, err := strconv.ParseInt(n.Literal, 10, 64)
	return v, err == nil
}

// IntBounds returns the inclusive integer bounds of an integer type, folding exclusive bounds
// into inclusive ones; a missing bound is reported as absent.
func (c Constraints) IntBounds() (min, max int64, hasMin, hasMax bool) {
	if c.Minimum != nil {
		min, hasMin = c.Minimum.Int64()
	}
	if c.ExclusiveMinimum != nil {
		if v, ok := c.ExclusiveMinimum.Int64(); ok && (!hasMin || v+1 > min) {
			min, hasMin = v+1, true
		}
	}
	if c.Maximum != nil {
		max, hasMax = c.Maximum.Int64()
	}
	if c.ExclusiveMaximum != nil {
		if v, ok := c.ExclusiveMaximum.Int64(); ok && (!hasMax || v-1 < max) {
			max, hasMax = v-1, true
		}
	}
	return min, max, hasMin, hasMax
}

// Field is one property of a struct type.
type Field struct {
	JSONName string
	GoName   string
	Doc      string
	Type     *Type
	Required bool
	Nullable bool
}

// ConstProp is a struct property whose value is fixed (a union discriminator).
type ConstProp struct {
	JSONName string
	Value    string
}

// ConstValue returns the fixed value of property name, if the struct has one.
func (t *Type) ConstValue(name string) (string, bool) {
	for _, c := range t.Consts {
		if c.JSONName == name {
			return c.Value, true
		}
	}
	return "", false
}

// RequiredNilable lists required fields whose Go zero value is nil but which must never be
// JSON null (non-nullable slices and maps): MarshalJSON writes them as empty.
func (t *Type) RequiredNilable() []*Field {
	var out []*Field
	for _, f := range t.Fields {
		if f.Required && !f.Nullable && (f.Type.Kind == KindArray || f.Type.Kind == KindMap) {
			out = append(out, f)
		}
	}
	return out
}

// RequiredKeys lists the JSON names of the required properties of a struct, consts included.
func (t *Type) RequiredKeys() []string {
	var out []string
	for _, c := range t.Consts {
		out = append(out, c.JSONName)
	}
	for _, f := range t.Fields {
		if f.Required {
			out = append(out, f.JSONName)
		}
	}
	return out
}

// Arm is one alternative of a union.
type Arm struct {
	Type *Type  // a KindStruct type
	Tag  string // the discriminator value; "" for undiscriminated unions
}

// IsInterface reports whether values of the type are Go interfaces (unions).
func (t *Type) IsInterface() bool { return t.Kind == KindUnion }

// IsNilable reports whether the Go zero value of the type is nil (slices, maps, unions).
func (t *Type) IsNilable() bool {
	return t.Kind == KindArray || t.Kind == KindMap || t.Kind == KindUnion
}

// HasUnionField reports whether decoding the struct needs union-aware handling of a field
// (a union directly, or an unnamed array or map of unions).
func (t *Type) HasUnionField() bool {
	for _, f := range t.Fields {
		if f.UnionShape() != "" {
			return true
		}
	}
	return false
}

// UnionShape says how a field holds a union: "one", "array" (unnamed []Union), or "".
func (f *Field) UnionShape() string {
	switch {
	case f.Type.Kind == KindUnion:
		return "one"
	case f.Type.Kind == KindArray && f.Type.Name == "" && f.Type.Elem.Kind == KindUnion:
		return "array"
	}
	return ""
}

// Method is a client -> server method or a server -> TaskMaster callback.
type Method struct {
	Name        string // wire name
	GoName      string
	Area        string
	Description string
	Callers     []string
	Requires    []string
	Errors      []string
	Params      *Type
	Result      *Type
	ResultAlias bool // Result is a shared named type; emit "type XResult = Shared"
	Source      *Node
}

// Notification is a server -> client notification.
type Notification struct {
	Name        string
	GoName      string
	Area        string
	Description string
	Recipients  string
	Params      *Type
	Source      *Node
}

// ErrorDef is one entry of the wire error registry.
type ErrorDef struct {
	Name        string // registry key, e.g. "Forbidden"
	GoName      string // Go type, e.g. "ForbiddenError"
	Code        int64
	Message     string
	Description string
	Data        *Type // nil when the error carries no typed data
	Refinements []*Refinement
	Source      *Node
}

// Refinement is a finer-grained kind of a registry error (REFERENCE 5.4), sorted by name. A
// wire error is the refinement when it carries Code (when set), or its parent's code and
// exactly Message. Clients expose it as a subclass of the parent error.
type Refinement struct {
	Name        string // e.g. "ConversationNotFound"
	GoName      string // e.g. "ConversationNotFoundError"
	Code        *int64 // the optional finer code; nil when there is none
	Message     string
	Description string
}

// Area is one catalog file's heading.
type Area struct {
	Name        string
	Description string
}

// Model is the whole protocol, ready for the emitters. Every list is sorted by name
// (errors by code, from -32000 down to -32700) so output is deterministic.
type Model struct {
	Version       string
	DefaultAppID  string // the id of the app every server installs at boot; "" when the catalog names none
	Areas         []Area
	Methods       []*Method
	Notifications []*Notification
	Callbacks     []*Method
	Errors        []*ErrorDef
	Types         []*Type // every named type
	Bundle        []byte  // the bundled JSON Schema every validator is compiled from
}
