package gen

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

var validCallers = map[string]bool{"unauthenticated": true, "agent": true, "taskmaster": true}
var validRequires = map[string]bool{"active": true, "owner": true}

func (b *builder) buildAreas() {
	seen := map[string]*Node{}
	for _, file := range b.src.Areas() {
		root := b.src.Files[file]
		area := root.StringOf("area")
		if area == "" {
			b.probs.add(root, "an area catalog needs an \"area\" name")
			continue
		}
		b.model.Areas = append(b.model.Areas, Area{Name: area, Description: root.StringOf("description")})
		if ms := root.Get("methods"); ms != nil {
			for _, name := range ms.Keys {
				if b.unique(seen, name, ms.Vals[name]) {
					if m := b.method(area, name, ms.Vals[name], "Params", "Result"); m != nil {
						b.model.Methods = append(b.model.Methods, m)
					}
				}
			}
		}
		if ns := root.Get("notifications"); ns != nil {
			for _, name := range ns.Keys {
				if b.unique(seen, name, ns.Vals[name]) {
					b.notification(area, name, ns.Vals[name])
				}
			}
		}
	}
}

func (b *builder) unique(seen map[string]*Node, name string, n *Node) bool {
	if prev, dup := seen[name]; dup {
		b.probs.add(n, "%q is already declared at %s", name, prev.Where())
		return false
	}
	seen[name] = n
	return true
}

func (b *builder) buildCallbacks() {
	root := b.src.Files[CallbacksFile]
	cbs := root.Get("callbacks")
	if cbs == nil {
		b.probs.add(root, "the TaskMaster catalog needs \"callbacks\"")
		return
	}
	for _, name := range cbs.Keys {
		if m := b.method("taskmaster", name, cbs.Vals[name], "Params", "Result"); m != nil {
			b.model.Callbacks = append(b.model.Callbacks, m)
		}
	}
}

// method builds a method or callback entry.
func (b *builder) method(area, name string, n *Node, paramsSuffix, resultSuffix string) *Method {
	m := &Method{Name: name, GoName: GoName(name), Area: area, Description: n.StringOf("description"), Source: n}
	m.Callers = n.Get("callers").Strings()
	m.Requires = n.Get("requires").Strings()
	m.Errors = n.Get("errors").Strings()
	for _, c := range m.Callers {
		if !validCallers[c] {
			b.probs.add(n.Get("callers"), "unknown caller %q", c)
		}
	}
	for _, r := range m.Requires {
		if !validRequires[r] {
			b.probs.add(n.Get("requires"), "unknown requirement %q", r)
		}
	}
	m.Params = b.message(n.Get("params"), n, m.GoName+paramsSuffix, "params")
	var alias bool
	m.Result, alias = b.messageOrAlias(n.Get("result"), n, m.GoName+resultSuffix)
	m.ResultAlias = alias
	if m.Params == nil || m.Result == nil {
		return nil
	}
	return m
}

func (b *builder) notification(area, name string, n *Node) {
	no := &Notification{Name: name, GoName: GoName(name), Area: area, Description: n.StringOf("description"),
		Recipients: n.StringOf("recipients"), Source: n}
	no.Params = b.message(n.Get("params"), n, no.GoName+"Notification", "params")
	if no.Params != nil {
		b.model.Notifications = append(b.model.Notifications, no)
	}
}

// message builds the named top-level type of a params/result/notification schema and adds
// it to the bundle under its Go name.
func (b *builder) message(schema, owner *Node, goName, what string) *Type {
	if schema == nil {
		b.probs.add(owner, "missing %s schema", what)
		return nil
	}
	if schema.Get("$ref") != nil {
		b.probs.add(schema, "%s must be declared inline (an object or a oneOf), not as a $ref", what)
		return nil
	}
	t := b.typeOf(schema, goName)
	if t == nil {
		return nil
	}
	if t.Kind != KindStruct && t.Kind != KindUnion {
		b.probs.add(schema, "%s must be an object or a union of objects", what)
		return nil
	}
	t.Schema = "#/$defs/" + goName
	b.bundle[goName] = b.bundleValue(schema)
	return t
}

// messageOrAlias allows a result to be a $ref to a shared definition.
func (b *builder) messageOrAlias(schema, owner *Node, goName string) (*Type, bool) {
	if schema != nil && schema.Get("$ref") != nil {
		if !b.checkKeywords(schema) {
			return nil, false
		}
		t := b.ref(schema.Get("$ref"))
		if t != nil && t.Kind != KindStruct && t.Kind != KindUnion {
			b.probs.add(schema, "result must be an object or a union of objects")
			return nil, false
		}
		return t, t != nil
	}
	return b.message(schema, owner, goName, "result"), false
}

func (b *builder) buildErrors() {
	root := b.src.Files[ErrorsFile]
	errs := root.Get("errors")
	if errs == nil {
		b.probs.add(root, "the error registry needs \"errors\"")
		return
	}
	codes := map[int64]string{}
	for _, name := range errs.Keys {
		n := errs.Vals[name]
		code, err := strconv.ParseInt(string(n.Get("code").Num), 10, 64)
		if n.Get("code") == nil || err != nil {
			b.probs.add(n, "error %s needs an integer code", name)
			continue
		}
		if prev, dup := codes[code]; dup {
			b.probs.add(n.Get("code"), "code %d is already used by %s", code, prev)
			continue
		}
		codes[code] = name
		goName := GoName(name)
		if !strings.HasSuffix(goName, "Error") {
			goName += "Error"
		}
		e := &ErrorDef{Name: name, GoName: goName, Code: code, Message: n.StringOf("message"),
			Description: n.StringOf("description"), Source: n}
		if data := n.Get("data"); data != nil {
			e.Data = b.message(data, n, strings.TrimSuffix(goName, "Error")+"Data", "data")
		}
		e.Refinements = b.refinements(n.Get("refinements"))
		b.model.Errors = append(b.model.Errors, e)
	}
	for _, e := range b.model.Errors {
		for _, r := range e.Refinements {
			if r.Code != nil {
				if other, dup := codes[*r.Code]; dup {
					b.probs.add(e.Source.Get("refinements").Get(r.Name), "code %d is already used by %s", *r.Code, other)
				}
			}
		}
	}
	for _, need := range runtimeErrors {
		if _, ok := errs.Vals[need]; !ok {
			b.probs.add(errs, "the registry must define %s: generated dispatch code raises it", need)
		}
	}
}

// refinements reads the finer-grained kinds of one error, sorted by name.
func (b *builder) refinements(n *Node) []*Refinement {
	if n == nil {
		return nil
	}
	var out []*Refinement
	for _, name := range n.Keys {
		v := n.Vals[name]
		goName := GoName(name)
		if !strings.HasSuffix(goName, "Error") {
			goName += "Error"
		}
		r := &Refinement{Name: name, GoName: goName, Message: v.StringOf("message"), Description: v.StringOf("description")}
		if c := v.Get("code"); c != nil {
			code, err := strconv.ParseInt(string(c.Num), 10, 64)
			if err != nil {
				b.probs.add(c, "refinement %s needs an integer code", name)
				continue
			}
			r.Code = &code
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// runtimeErrors are the registry entries the generated dispatchers raise themselves.
var runtimeErrors = []string{"MethodNotFound", "InvalidParams", "InternalError", "Unauthorized", "Forbidden"}

// checkErrorRefs makes sure every method names registered errors only.
func (b *builder) checkErrorRefs() {
	known := map[string]bool{}
	for _, e := range b.model.Errors {
		known[e.Name] = true
	}
	for _, list := range [][]*Method{b.model.Methods, b.model.Callbacks} {
		for _, m := range list {
			for i, e := range m.Errors {
				if !known[e] {
					at := m.Source.Get("errors")
					if at != nil && i < len(at.Items) {
						at = at.Items[i]
					}
					b.probs.add(at, "error %q is not in %s", e, ErrorsFile)
				}
			}
		}
	}
}

// bundleValue copies a schema with its $refs rewritten to the bundle's own $defs.
func (b *builder) bundleValue(n *Node) any {
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if k == "$ref" {
					if s, ok := val.(string); ok {
						if name, ok := refName(s); ok {
							x[k] = "#/$defs/" + name
						}
					}
					continue
				}
				x[k] = rewrite(val)
			}
		case []any:
			for i := range x {
				x[i] = rewrite(x[i])
			}
		}
		return v
	}
	return rewrite(n.Value())
}

// finish sorts the model and renders the bundle.
func (b *builder) finish() {
	m := b.model
	sort.Slice(m.Methods, func(i, j int) bool { return m.Methods[i].Name < m.Methods[j].Name })
	sort.Slice(m.Notifications, func(i, j int) bool { return m.Notifications[i].Name < m.Notifications[j].Name })
	sort.Slice(m.Callbacks, func(i, j int) bool { return m.Callbacks[i].Name < m.Callbacks[j].Name })
	sort.Slice(m.Errors, func(i, j int) bool { return m.Errors[i].Code > m.Errors[j].Code })
	sort.Slice(m.Types, func(i, j int) bool { return m.Types[i].Name < m.Types[j].Name })
	sort.Slice(m.Areas, func(i, j int) bool { return m.Areas[i].Name < m.Areas[j].Name })
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     "https://moltzap.dev/schema/v1/protocol.json",
		"title":   "MoltZap protocol " + m.Version,
		"$defs":   b.bundle,
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		b.probs = append(b.probs, Problem{File: "bundle", Pointer: "/", Message: err.Error()})
		return
	}
	m.Bundle = append(out, '\n')
}
