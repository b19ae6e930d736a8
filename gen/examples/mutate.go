package examples

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Mutation is an invalid variant of a valid instance.
type Mutation struct {
	Kind     string // missing-required, extra-property, wrong-type, bound, bad-enum, bad-format
	Pointer  string // the property changed
	Instance any
}

// Mutations derives invalid instances from a valid object instance of ref: for the object
// and every nested object property, each applicable kind of mutation. Every mutation is
// invalid by construction (the schema is closed and the changed value breaks a keyword).
func (s *Schema) Mutations(ref string, valid any) ([]Mutation, error) {
	d, err := s.Def(ref)
	if err != nil {
		return nil, err
	}
	var out []Mutation
	s.mutateObject(s.Resolve(d), valid, "", func(ptr, kind string, set func(root any) any) {
		out = append(out, Mutation{Kind: kind, Pointer: ptr, Instance: set(clone(valid))})
	})
	return out, nil
}

type emitFn func(ptr, kind string, set func(root any) any)

func (s *Schema) mutateObject(node map[string]any, inst any, ptr string, emit emitFn) {
	obj, ok := inst.(map[string]any)
	if !ok || node["type"] != "object" {
		return
	}
	props, _ := node["properties"].(map[string]any)
	if node["additionalProperties"] == false {
		emit(ptr+"/zzUnexpected", "extra-property", setAt(ptr, func(o map[string]any) { o["zzUnexpected"] = 1 }))
	}
	for _, r := range asSlice(node["required"]) {
		name := r.(string)
		emit(ptr+"/"+name, "missing-required", setAt(ptr, func(o map[string]any) { delete(o, name) }))
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, ok := props[name].(map[string]any)
		if !ok {
			continue
		}
		s.mutateValue(s.Resolve(p), obj[name], ptr+"/"+name, emit)
	}
}

// mutateValue emits mutations of one property value.
func (s *Schema) mutateValue(node map[string]any, val any, ptr string, emit emitFn) {
	if arms, ok := node["oneOf"].([]any); ok {
		if isNullable(arms) && val != nil {
			for _, a := range arms {
				if m := a.(map[string]any); m["type"] != "null" {
					s.mutateValue(s.Resolve(m), val, ptr, emit)
				}
			}
		}
		return // union arms: covered by their own schemas
	}
	replace := func(kind string, v any) { emit(ptr, kind, setValue(ptr, v)) }
	if _, ok := node["enum"]; ok {
		replace("bad-enum", "not-a-valid-value")
		return
	}
	if _, ok := node["const"]; ok {
		return
	}
	switch node["type"] {
	case "string":
		replace("wrong-type", 12345)
		s.stringBounds(node, replace)
	case "integer":
		replace("wrong-type", "12")
		if min, ok := node["minimum"].(float64); ok {
			replace("bound", int(min)-1)
		}
		if max, ok := node["maximum"].(float64); ok {
			replace("bound", int(max)+1)
		}
	case "boolean":
		replace("wrong-type", "true")
	case "array":
		replace("wrong-type", map[string]any{})
		arr, _ := val.([]any)
		if max, ok := node["maxItems"].(float64); ok && len(arr) > 0 {
			long := make([]any, int(max)+1)
			for i := range long {
				long[i] = clone(arr[0])
			}
			replace("bound", long)
		}
		if min, ok := node["minItems"].(float64); ok && min > 0 {
			replace("bound", make([]any, int(min)-1))
		}
		if items, ok := node["items"].(map[string]any); ok && len(arr) > 0 {
			s.mutateValue(s.Resolve(items), arr[0], ptr+"/0", emit)
		}
	case "object":
		replace("wrong-type", "not an object")
		s.mutateObject(node, val, ptr, emit)
	}
}

func (s *Schema) stringBounds(node map[string]any, replace func(string, any)) {
	switch node["format"] {
	case "uuid":
		replace("bad-format", "not-a-uuid")
		return
	case "date-time":
		replace("bad-format", "yesterday at noon")
		return
	case "uri":
		replace("bad-format", "relative/path only")
		return
	}
	if _, ok := node["pattern"]; ok {
		replace("bad-format", "!! does not match !!")
	}
	if max, ok := node["maxLength"].(float64); ok {
		replace("bound", strings.Repeat("a", int(max)+1))
	}
	if min, ok := node["minLength"].(float64); ok && min > 0 {
		replace("bound", strings.Repeat("a", int(min)-1))
	}
}

// setAt applies f to the object at ptr inside a cloned root.
func setAt(ptr string, f func(map[string]any)) func(any) any {
	return func(root any) any {
		if o, ok := at(root, ptr).(map[string]any); ok {
			f(o)
		}
		return root
	}
}

// setValue replaces the value at ptr inside a cloned root.
func setValue(ptr string, v any) func(any) any {
	return func(root any) any {
		i := strings.LastIndex(ptr, "/")
		parent, key := at(root, ptr[:i]), ptr[i+1:]
		switch p := parent.(type) {
		case map[string]any:
			p[key] = clone(v)
		case []any:
			var idx int
			fmt.Sscan(key, &idx)
			p[idx] = clone(v)
		}
		return root
	}
}

func at(root any, ptr string) any {
	cur := root
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			var idx int
			fmt.Sscan(tok, &idx)
			if idx < len(c) {
				cur = c[idx]
			}
		}
	}
	return cur
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
