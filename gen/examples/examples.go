// Package examples synthesises JSON instances from the bundled protocol schema: valid ones
// (every optional property present, or only the required ones; one per union arm) and
// invalid mutations of them (missing required property, extra property, wrong type, a bound
// off by one, a bad enum value, a bad format). Tests use it to check that the generated
// types round-trip and that the generated decoders agree with jsonschema/v5.
package examples

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Mode selects which optional properties a synthesised instance carries.
type Mode int

// The modes.
const (
	Full    Mode = iota // every property; nullable values non-null
	Minimal             // required properties only; nullable values null
)

// Schema is a parsed bundle: {"$defs": {...}}.
type Schema struct {
	defs map[string]any
}

// Parse reads a bundled schema.
func Parse(bundle []byte) (*Schema, error) {
	var doc struct {
		Defs map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(bundle, &doc); err != nil {
		return nil, fmt.Errorf("parse bundle: %w", err)
	}
	return &Schema{defs: doc.Defs}, nil
}

// Resolve follows "#/$defs/Name" references until it reaches a schema without $ref.
func (s *Schema) Resolve(node map[string]any) map[string]any {
	for i := 0; i < 32; i++ {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		next, ok := s.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return node
		}
		node = next
	}
	return node
}

// Def returns the schema of a reference "#/$defs/Name".
func (s *Schema) Def(ref string) (map[string]any, error) {
	d, ok := s.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no schema %s", ref)
	}
	return d, nil
}

// Variants is the number of instances needed so that every arm of the schema's top-level
// union (if any) is produced at least once.
func (s *Schema) Variants(ref string) int {
	d, err := s.Def(ref)
	if err != nil {
		return 1
	}
	if arms, ok := s.Resolve(d)["oneOf"].([]any); ok && !isNullable(arms) {
		return len(arms)
	}
	return 1
}

// Instance synthesises a valid instance of ref. variant picks union arms and enum values.
func (s *Schema) Instance(ref string, mode Mode, variant int) (any, error) {
	d, err := s.Def(ref)
	if err != nil {
		return nil, err
	}
	g := &generator{s: s, mode: mode, variant: variant}
	v := g.value(d)
	return v, g.err
}

type generator struct {
	s       *Schema
	mode    Mode
	variant int
	counter int
	err     error
}

func isNullable(arms []any) bool {
	if len(arms) != 2 {
		return false
	}
	for _, a := range arms {
		if m, ok := a.(map[string]any); ok && m["type"] == "null" {
			return true
		}
	}
	return false
}

func (g *generator) value(node map[string]any) any {
	node = g.s.Resolve(node)
	if arms, ok := node["oneOf"].([]any); ok {
		if isNullable(arms) {
			for _, a := range arms {
				m := a.(map[string]any)
				if m["type"] != "null" {
					if g.mode == Minimal {
						return nil
					}
					return g.value(m)
				}
			}
		}
		pick := arms[g.variant%len(arms)].(map[string]any)
		return g.value(pick)
	}
	if c, ok := node["const"]; ok {
		return c
	}
	if enum, ok := node["enum"].([]any); ok {
		return enum[g.variant%len(enum)]
	}
	switch node["type"] {
	case "object":
		return g.object(node)
	case "array":
		return g.array(node)
	case "string":
		return g.str(node)
	case "integer":
		return g.integer(node)
	case "number":
		return 1.5
	case "boolean":
		return true
	}
	if g.err == nil {
		g.err = fmt.Errorf("cannot synthesise schema %v", node)
	}
	return nil
}

func (g *generator) object(node map[string]any) any {
	out := map[string]any{}
	props, _ := node["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range asSlice(node["required"]) {
		required[r.(string)] = true
	}
	for _, name := range slices.Sorted(maps.Keys(props)) { // sorted: the counter-based values are reproducible
		if g.mode == Minimal && !required[name] {
			continue
		}
		out[name] = g.value(props[name].(map[string]any))
	}
	if ap, ok := node["additionalProperties"].(map[string]any); ok && len(props) == 0 && g.mode == Full {
		out["key1"] = g.value(ap)
	}
	return out
}

func (g *generator) array(node map[string]any) any {
	n := intOf(node["minItems"], 0)
	if n == 0 && g.mode == Full {
		n = 1
	}
	if max := intOf(node["maxItems"], -1); max >= 0 && n > max {
		n = max
	}
	items, _ := node["items"].(map[string]any)
	out := make([]any, n)
	for i := range out {
		out[i] = g.value(items)
	}
	return out
}

func (g *generator) str(node map[string]any) any {
	g.counter++
	if ex := asSlice(node["examples"]); len(ex) > 0 {
		return ex[0]
	}
	switch node["format"] {
	case "uuid":
		return fmt.Sprintf("0190a1b2-0000-7000-8000-%012d", g.counter)
	case "date-time":
		return "2026-05-25T10:15:30.123Z"
	case "uri":
		return fmt.Sprintf("https://example.com/file/%d", g.counter)
	}
	n := intOf(node["minLength"], 1)
	if n == 0 {
		n = 1
	}
	if max := intOf(node["maxLength"], -1); max >= 0 && n > max {
		n = max
	}
	s := fmt.Sprintf("s%d", g.counter)
	for len(s) < n {
		s += "x"
	}
	if max := intOf(node["maxLength"], -1); max >= 0 && len(s) > max {
		s = strings.Repeat("y", n)
	}
	return s
}

func (g *generator) integer(node map[string]any) any {
	lo := intOf(node["minimum"], 0)
	if hi := intOf(node["maximum"], -1<<62); hi != -1<<62 && lo > hi {
		lo = hi
	}
	return lo
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func intOf(v any, def int) int {
	if f, ok := v.(float64); ok {
		return int(f)
	}
	return def
}
