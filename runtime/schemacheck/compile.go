// Package schemacheck validates JSON documents against the protocol's bundled JSON Schema
// (draft 2020-12) directly on the raw bytes, without decoding them into an any tree.
//
// It supports exactly the keyword subset the protocol generator accepts ($ref, type,
// properties, required, additionalProperties, items, enum, const, oneOf, format, pattern,
// minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minItems,
// maxItems, uniqueItems, plus ignored annotations) and gives the same verdict as
// github.com/santhosh-tekuri/jsonschema/v5 applied to the value that json.Decoder (with
// UseNumber) decodes from the same bytes, including its handling of duplicate keys (the
// last one wins), escapes, invalid UTF-8, nesting depth and trailing data. The tests
// prove the agreement on the real bundle. The one documented departure: numbers whose
// exponent is too large for big.Rat make the reference panic; here they are invalid.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Set is a compiled schema bundle. It is safe for concurrent use.
type Set struct {
	defs map[string]*node // by reference "#/$defs/Name"
}

// Error says why an instance does not match its schema (or is not valid JSON).
type Error struct {
	// Pointer locates the offending value inside the instance ("" is the root).
	Pointer string
	// Reason explains the problem.
	Reason string

	kw string // the failing keyword, to pick the most telling cause of a oneOf failure
}

// Error formats the problem as "<pointer>: <reason>".
func (e *Error) Error() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + e.Reason
}

// Instance types, as a bit set.
type kind uint8

const (
	kNull kind = 1 << iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

var typeNames = map[string]uint8{
	"null": tNull, "boolean": tBool, "number": tNumber, "integer": tInteger,
	"string": tString, "array": tArray, "object": tObject,
}

// Values of node.typ.
const (
	tAny uint8 = iota
	tNull
	tBool
	tNumber
	tInteger
	tString
	tArray
	tObject
)

type addlMode uint8

const (
	addlAny    addlMode = iota // no additionalProperties keyword
	addlFalse                  // additionalProperties: false
	addlSchema                 // additionalProperties: {schema}
)

// prop is a property name the object keywords mention.
type prop struct {
	name     string
	sch      *node // nil when the name is only required, not in properties
	required bool
}

// node is a compiled schema.
type node struct {
	ptr string // JSON pointer of the schema in the bundle

	boolSchema int8 // +1 true schema, -1 false schema, 0 an object schema
	typ        uint8

	ref   *node
	oneOf []*node

	hasConst bool
	constStr string
	hasEnum  bool
	enum     []string

	format formatKind

	// object
	props    []prop
	propIdx  map[string]int // for objects with many properties
	reqCount int
	addl     addlMode
	addlSch  *node

	// array
	items    *node
	minItems int
	maxItems int
	unique   bool

	// string
	minLen  int
	maxLen  int
	pattern *regexp.Regexp

	// number
	minimum, maximum, exclMin, exclMax *bound

	// precomputed
	objKw, arrKw, strKw, numKw bool
	onlyRef                    bool // nothing but $ref (and annotations): an alias
}

func (n *node) lookup(key []byte) int {
	if n.propIdx != nil {
		if i, ok := n.propIdx[string(key)]; ok {
			return i
		}
		return -1
	}
	for i := range n.props {
		if n.props[i].name == string(key) {
			return i
		}
	}
	return -1
}

var annotations = map[string]bool{
	"description": true, "title": true, "examples": true, "default": true, "$comment": true, "deprecated": true,
}

const defsPrefix = "#/$defs/"

// Compile compiles every $defs entry of bundle ({"$defs": {Name: schema, ...}}). It fails
// for any keyword outside the supported subset, naming its JSON pointer.
func Compile(bundle []byte) (*Set, error) {
	dec := json.NewDecoder(bytes.NewReader(bundle))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("schemacheck: parse bundle: %w", err)
	}
	defs, ok := doc["$defs"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schemacheck: bundle has no $defs object")
	}
	c := &compiler{byName: map[string]*node{}}
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n, err := c.compile(defs[name], "/$defs/"+escapeToken(name))
		if err != nil {
			return nil, err
		}
		c.byName[name] = n
	}
	if err := c.link(); err != nil {
		return nil, err
	}
	set := &Set{defs: make(map[string]*node, len(names))}
	for _, name := range names {
		set.defs[defsPrefix+name] = c.byName[name]
	}
	return set, nil
}

// Has reports whether ref ("#/$defs/Name") is a compiled schema.
func (s *Set) Has(ref string) bool {
	_, ok := s.defs[ref]
	return ok
}

type pendingRef struct {
	n    *node
	name string
	ptr  string
}

type compiler struct {
	byName map[string]*node
	refs   []pendingRef
	all    []*node
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (c *compiler) compile(v any, ptr string) (*node, error) {
	n := &node{ptr: ptr, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	c.all = append(c.all, n)
	switch v := v.(type) {
	case bool:
		if v {
			n.boolSchema = 1
		} else {
			n.boolSchema = -1
		}
		return n, nil
	case map[string]any:
		return n, c.compileObject(n, v, ptr)
	}
	return nil, fmt.Errorf("schemacheck: %s: a schema must be an object or a boolean", ptr)
}

func (c *compiler) compileObject(n *node, m map[string]any, ptr string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var required []string
	var properties map[string]any
	onlyRef, hasRef := true, false
	for _, k := range keys {
		val := m[k]
		kp := ptr + "/" + escapeToken(k)
		bad := func(format string, a ...any) error {
			return fmt.Errorf("schemacheck: %s: %s", kp, fmt.Sprintf(format, a...))
		}
		if annotations[k] {
			continue
		}
		if k != "$ref" {
			onlyRef = false
		}
		switch k {
		case "$ref":
			s, ok := val.(string)
			if !ok || !strings.HasPrefix(s, defsPrefix) || strings.Contains(s[len(defsPrefix):], "/") {
				return bad("$ref must be %q followed by a name", defsPrefix)
			}
			c.refs = append(c.refs, pendingRef{n: n, name: s[len(defsPrefix):], ptr: kp})
			hasRef = true
		case "type":
			s, ok := val.(string)
			if !ok {
				return bad("type must be a single string")
			}
			t, ok := typeNames[s]
			if !ok {
				return bad("unknown type %q", s)
			}
			n.typ = t
		case "properties":
			pm, ok := val.(map[string]any)
			if !ok {
				return bad("properties must be an object")
			}
			properties = pm
		case "required":
			arr, ok := val.([]any)
			if !ok {
				return bad("required must be an array of strings")
			}
			for _, r := range arr {
				s, ok := r.(string)
				if !ok {
					return bad("required must be an array of strings")
				}
				required = append(required, s)
			}
		case "additionalProperties":
			switch a := val.(type) {
			case bool:
				if !a {
					n.addl = addlFalse
				}
			case map[string]any:
				sch, err := c.compile(a, kp)
				if err != nil {
					return err
				}
				n.addl, n.addlSch = addlSchema, sch
			default:
				return bad("additionalProperties must be a boolean or a schema")
			}
		case "items":
			sch, err := c.compile(val, kp)
			if err != nil {
				return err
			}
			n.items = sch
		case "enum":
			arr, ok := val.([]any)
			if !ok || len(arr) == 0 {
				return bad("enum must be a non-empty array of strings")
			}
			for _, e := range arr {
				s, ok := e.(string)
				if !ok {
					return bad("enum values must be strings")
				}
				n.enum = append(n.enum, s)
			}
			n.hasEnum = true
		case "const":
			s, ok := val.(string)
			if !ok {
				return bad("const must be a string")
			}
			n.hasConst, n.constStr = true, s
		case "oneOf":
			arr, ok := val.([]any)
			if !ok || len(arr) == 0 {
				return bad("oneOf must be a non-empty array of schemas")
			}
			for i, a := range arr {
				sch, err := c.compile(a, kp+"/"+strconv.Itoa(i))
				if err != nil {
					return err
				}
				n.oneOf = append(n.oneOf, sch)
			}
		case "format":
			s, ok := val.(string)
			f := formatNames[s]
			if !ok || f == fmtNone {
				return bad("unsupported format %v (uuid, date-time, uri)", val)
			}
			n.format = f
		case "pattern":
			s, ok := val.(string)
			if !ok {
				return bad("pattern must be a string")
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return bad("pattern: %v", err)
			}
			n.pattern = re
		case "minLength", "maxLength", "minItems", "maxItems":
			num, ok := val.(json.Number)
			var i int
			if ok {
				r, rok := new(big.Rat).SetString(string(num))
				ok = rok && r.IsInt() && r.Sign() >= 0 && r.Num().IsInt64() && r.Num().Int64() <= 1<<31
				if ok {
					i = int(r.Num().Int64())
				}
			}
			if !ok {
				return bad("%s must be a non-negative integer", k)
			}
			switch k {
			case "minLength":
				n.minLen = i
			case "maxLength":
				n.maxLen = i
			case "minItems":
				n.minItems = i
			case "maxItems":
				n.maxItems = i
			}
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
			num, ok := val.(json.Number)
			if !ok {
				return bad("%s must be a number", k)
			}
			r, ok := new(big.Rat).SetString(string(num))
			if !ok {
				return bad("%s: number out of range", k)
			}
			b := newBound(r)
			switch k {
			case "minimum":
				n.minimum = b
			case "maximum":
				n.maximum = b
			case "exclusiveMinimum":
				n.exclMin = b
			case "exclusiveMaximum":
				n.exclMax = b
			}
		case "uniqueItems":
			b, ok := val.(bool)
			if !ok {
				return bad("uniqueItems must be a boolean")
			}
			n.unique = b
		default:
			return bad("unsupported schema keyword %q", k)
		}
	}
	// Properties, in name order; required-only names are appended.
	pnames := make([]string, 0, len(properties))
	for name := range properties {
		pnames = append(pnames, name)
	}
	sort.Strings(pnames)
	for _, name := range pnames {
		sch, err := c.compile(properties[name], ptr+"/properties/"+escapeToken(name))
		if err != nil {
			return err
		}
		n.props = append(n.props, prop{name: name, sch: sch})
	}
	for _, r := range required {
		i := n.lookup([]byte(r))
		if i < 0 {
			n.props = append(n.props, prop{name: r})
			i = len(n.props) - 1
		}
		if !n.props[i].required {
			n.props[i].required = true
			n.reqCount++
		}
	}
	if len(n.props) > 8 {
		n.propIdx = make(map[string]int, len(n.props))
		for i, p := range n.props {
			n.propIdx[p.name] = i
		}
	}
	n.onlyRef = onlyRef && hasRef
	n.objKw = len(n.props) > 0 || n.addl != addlAny
	n.arrKw = n.items != nil || n.minItems >= 0 || n.maxItems >= 0 || n.unique
	n.strKw = n.hasConst || n.hasEnum || n.format != fmtNone || n.minLen >= 0 || n.maxLen >= 0 || n.pattern != nil
	n.numKw = n.minimum != nil || n.maximum != nil || n.exclMin != nil || n.exclMax != nil
	return nil
}

// link resolves references, replaces pure-$ref schemas by their targets and rejects
// reference cycles that never descend into the instance (the reference would loop).
func (c *compiler) link() error {
	for _, r := range c.refs {
		t, ok := c.byName[r.name]
		if !ok {
			return fmt.Errorf("schemacheck: %s: unknown schema %s%s", r.ptr, defsPrefix, r.name)
		}
		r.n.ref = t
	}
	// In-place cycle check over $ref and oneOf edges.
	const (
		white = iota
		grey
		black
	)
	color := map[*node]int{}
	var visit func(n *node) error
	visit = func(n *node) error {
		switch color[n] {
		case grey:
			return fmt.Errorf("schemacheck: %s: reference cycle that does not descend into the instance", n.ptr)
		case black:
			return nil
		}
		color[n] = grey
		if n.ref != nil {
			if err := visit(n.ref); err != nil {
				return err
			}
		}
		for _, a := range n.oneOf {
			if err := visit(a); err != nil {
				return err
			}
		}
		color[n] = black
		return nil
	}
	for _, n := range c.all {
		if err := visit(n); err != nil {
			return err
		}
	}
	resolve := func(n *node) *node {
		for n != nil && n.onlyRef {
			n = n.ref
		}
		return n
	}
	for _, n := range c.all {
		n.ref = resolve(n.ref)
		for i := range n.oneOf {
			n.oneOf[i] = resolve(n.oneOf[i])
		}
		for i := range n.props {
			n.props[i].sch = resolve(n.props[i].sch)
		}
		n.addlSch = resolve(n.addlSch)
		n.items = resolve(n.items)
	}
	for name, n := range c.byName {
		c.byName[name] = resolve(n)
	}
	return nil
}
