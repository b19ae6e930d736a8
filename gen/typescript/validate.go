package typescript

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// validators writes src/validate.ts: per named type T a reader readT(node, pointer) that
// checks every constraint of the model while building the value, decodeT(text) (strict JSON
// text, the verdict of the Go decoder) and validateT(value) (a value built in code).
func (e *emitter) validators(p *printer) {
	var body printer
	for _, t := range e.m.Types {
		body.line("")
		e.reader(&body, t)
	}
	used := map[string]bool{}
	for _, n := range e.m.Types {
		used[e.names[n]] = true
	}
	p.line("// Validators generated from the model: readX checks a parsed document, decodeX reads JSON")
	p.line("// text (duplicate keys, trailing data and integers outside int64 are rejected, as by the Go")
	p.line("// decoder), validateX checks a value built in code. All throw a ValidationError naming the")
	p.line("// JSON pointer and the failed constraint.")
	p.line("")
	p.line(`import { type JNode, ValidationError, fromValue, parseJSON } from "./runtime/json.js";`)
	var helpers []string
	for _, h := range []string{"arr", "at", "bool", "enm", "int", "konst", "map", "match", "members", "noArm", "noMatch", "nullable", "num", "req", "str", "tag"} {
		if bytes.Contains(body.buf.Bytes(), []byte(h+"(")) {
			helpers = append(helpers, h)
		}
	}
	if len(helpers) > 0 {
		p.f("import { %s } from \"./runtime/check.js\";", strings.Join(helpers, ", "))
	}
	if len(used) > 0 {
		p.line("import type {")
		for _, n := range sortedNames(used) {
			p.f("  %s,", n)
		}
		p.line(`} from "./types.js";`)
	}
	var enums []string
	for _, t := range e.m.Types {
		if t.Kind == gen.KindEnum {
			enums = append(enums, e.names[t]+"Values")
		}
	}
	if len(enums) > 0 {
		p.f("import { %s } from \"./types.js\";", strings.Join(enums, ", "))
	}
	p.line("")
	p.line("export { ValidationError };")
	for _, src := range e.patOrder {
		p.line("")
		p.f("const %s = new RegExp(%s, \"u\");", e.patterns[src], jsString(src))
	}
	p.buf.Write(body.buf.Bytes())
	p.line("")
	p.doc("", "decoders maps every model type name (the Go name, e.g. \"AgentID\") to its decoder of JSON text; the shared vector tests use it.")
	p.line("export const decoders: { readonly [type: string]: (text: string) => unknown } = {")
	for _, t := range e.m.Types {
		p.f("  %s: decode%s,", propName(t.Name), e.names[t])
	}
	p.line("};")
}

// patternConst names the compiled pattern of source.
func (e *emitter) patternConst(src string) string {
	if n, ok := e.patterns[src]; ok {
		return n
	}
	n := "pattern" + strconv.Itoa(len(e.patOrder))
	e.patterns[src] = n
	e.patOrder = append(e.patOrder, src)
	return n
}

// stringRule is the StringRule literal of a string type's own constraints.
func (e *emitter) stringRule(t *gen.Type) string {
	var d []string
	if t.MinLength != nil && *t.MinLength > 0 {
		d = append(d, "min: "+strconv.FormatInt(*t.MinLength, 10))
	}
	if t.MaxLength != nil {
		d = append(d, "max: "+strconv.FormatInt(*t.MaxLength, 10))
	}
	switch t.Format {
	case "":
	case "uuid", "date-time", "uri":
		d = append(d, "format: "+jsString(t.Format))
	default:
		e.fail(fmt.Errorf("typescript: format %q is not supported", t.Format))
	}
	if t.Pattern != "" {
		d = append(d, "pattern: "+e.patternConst(t.Pattern))
	}
	if len(d) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(d, ", ") + " }"
}

func intArgs(t *gen.Type) string {
	min, max, hasMin, hasMax := t.IntBounds()
	switch {
	case hasMin && hasMax:
		return fmt.Sprintf(", %dn, %dn", min, max)
	case hasMin:
		return fmt.Sprintf(", %dn", min)
	case hasMax:
		return fmt.Sprintf(", undefined, %dn", max)
	}
	return ""
}

func numberRule(t *gen.Type) string {
	var d []string
	if t.Minimum != nil {
		d = append(d, "min: "+t.Minimum.Literal)
	}
	if t.ExclusiveMinimum != nil {
		d = append(d, "min: "+t.ExclusiveMinimum.Literal, "exclusiveMin: true")
	}
	if t.Maximum != nil {
		d = append(d, "max: "+t.Maximum.Literal)
	}
	if t.ExclusiveMaximum != nil {
		d = append(d, "max: "+t.ExclusiveMaximum.Literal, "exclusiveMax: true")
	}
	if len(d) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(d, ", ") + " }"
}

func arrayRule(t *gen.Type) string {
	var d []string
	if t.MinItems != nil && *t.MinItems > 0 {
		d = append(d, "min: "+strconv.FormatInt(*t.MinItems, 10))
	}
	if t.MaxItems != nil {
		d = append(d, "max: "+strconv.FormatInt(*t.MaxItems, 10))
	}
	if t.UniqueItems {
		d = append(d, "unique: true")
	}
	if len(d) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(d, ", ") + " }"
}

// readCall is the expression reading node n at pointer ptr as type t (named types call
// their reader).
func (e *emitter) readCall(t *gen.Type, n, ptr string) string {
	if t.Name != "" {
		return "read" + e.names[t] + "(" + n + ", " + ptr + ")"
	}
	return e.readBody(t, n, ptr)
}

// readFn is a reader function expression for t: "readX" or an arrow function.
func (e *emitter) readFn(t *gen.Type) string {
	if t.Name != "" {
		return "read" + e.names[t]
	}
	return "(n: JNode, p: string) => " + e.readBody(t, "n", "p")
}

// readBody is the expression reading n at ptr with t's own rules (not its named reader).
func (e *emitter) readBody(t *gen.Type, n, ptr string) string {
	switch t.Kind {
	case gen.KindString:
		return "str(" + n + ", " + ptr + ", " + e.stringRule(t) + ")"
	case gen.KindEnum:
		if t.Name != "" {
			return "enm(" + n + ", " + ptr + ", " + e.names[t] + "Values) as " + e.names[t]
		}
		return "enm(" + n + ", " + ptr + ", " + jsStrings(t.Enum) + ") as " + e.typeExpr(t)
	case gen.KindInteger:
		return "int(" + n + ", " + ptr + intArgs(t) + ")"
	case gen.KindNumber:
		return "num(" + n + ", " + ptr + ", " + numberRule(t) + ")"
	case gen.KindBool:
		return "bool(" + n + ", " + ptr + ")"
	case gen.KindArray:
		return "arr(" + n + ", " + ptr + ", " + arrayRule(t) + ", " + e.readFn(t.Elem) + ")"
	case gen.KindMap:
		return "map(" + n + ", " + ptr + ", " + e.readFn(t.Elem) + ")"
	}
	e.fail(fmt.Errorf("typescript: no inline reader for kind %d", t.Kind))
	return "undefined as never"
}

// reader writes readT, decodeT and validateT of one named type.
func (e *emitter) reader(p *printer, t *gen.Type) {
	name := e.names[t]
	p.doc("", "read"+name+" checks the parsed document n (at JSON pointer p) as a "+name+".")
	p.f("export function read%s(n: JNode, p: string): %s {", name, name)
	switch t.Kind {
	case gen.KindStruct:
		e.structBody(p, t)
	case gen.KindUnion:
		e.unionBody(p, t)
	case gen.KindString:
		cast := ""
		if branded(t) {
			cast = " as " + name
		}
		p.f("  return %s%s;", e.readBody(t, "n", "p"), cast)
	case gen.KindEnum:
		p.f("  return %s;", e.readBody(t, "n", "p"))
	default:
		p.f("  return %s;", e.readBody(t, "n", "p"))
	}
	p.line("}")
	p.line("")
	p.doc("", "decode"+name+" reads JSON text as a "+name+", with the verdict of the Go decoder.")
	p.f("export function decode%s(text: string): %s {", name, name)
	p.f("  return read%s(parseJSON(text), \"\");", name)
	p.line("}")
	p.line("")
	p.doc("", "validate"+name+" checks a value built in code as a "+name+" and returns it typed.")
	p.f("export function validate%s(v: unknown): %s {", name, name)
	p.f("  return read%s(fromValue(v), \"\");", name)
	p.line("}")
	if branded(t) {
		p.line("")
		p.doc("", "as"+name+" checks s and returns it as a "+name+".")
		p.f("export function as%s(s: string): %s {", name, name)
		p.f("  return read%s({ kind: \"string\", value: s }, \"\");", name)
		p.line("}")
	}
}

func (e *emitter) structBody(p *printer, t *gen.Type) {
	var allowed, required []string
	for _, c := range t.Consts {
		allowed = append(allowed, c.JSONName)
	}
	for _, f := range t.Fields {
		allowed = append(allowed, f.JSONName)
	}
	required = t.RequiredKeys()
	if len(allowed) == 0 {
		p.line("  members(n, p, [], []);")
	} else {
		p.f("  const m = members(n, p, %s, %s);", jsStrings(allowed), jsStrings(required))
	}
	p.f("  const o: %s = {", e.names[t])
	for _, c := range t.Consts {
		k := jsString(c.JSONName)
		p.f("    %s: konst(req(m, %s), at(p, %s), %s),", propName(c.JSONName), k, k, jsString(c.Value))
	}
	var optional []*gen.Field
	for _, f := range t.Fields {
		if !f.Required {
			optional = append(optional, f)
			continue
		}
		k := jsString(f.JSONName)
		p.f("    %s: %s,", propName(f.JSONName), e.fieldRead(f, "req(m, "+k+")", "at(p, "+k+")"))
	}
	p.line("  };")
	if len(optional) > 0 {
		p.line("  let v: JNode | undefined;")
		for _, f := range optional {
			k := jsString(f.JSONName)
			target := "o." + f.JSONName
			if !identRE.MatchString(f.JSONName) {
				target = "o[" + k + "]"
			}
			p.f("  if ((v = m.get(%s)) !== undefined) %s = %s;", k, target, e.fieldRead(f, "v", "at(p, "+k+")"))
		}
	}
	p.line("  return o;")
}

func (e *emitter) fieldRead(f *gen.Field, n, ptr string) string {
	if f.Nullable {
		return "nullable(" + n + ", " + ptr + ", " + e.readFn(f.Type) + ")"
	}
	return e.readCall(f.Type, n, ptr)
}

func (e *emitter) unionBody(p *printer, t *gen.Type) {
	if t.Discriminator != "" {
		var tags []string
		p.f("  switch (tag(n, %s)) {", jsString(t.Discriminator))
		for _, a := range t.Arms {
			tags = append(tags, a.Tag)
			p.f("    case %s:", jsString(a.Tag))
			p.f("      return read%s(n, p);", e.names[a.Type])
		}
		p.line("  }")
		p.f("  return noArm(n, p, %s, %s);", jsString(t.Discriminator), jsStrings(tags))
		return
	}
	var keys []string
	for _, a := range t.Arms {
		keys = append(keys, jsStrings(a.Type.RequiredKeys()))
	}
	p.f("  switch (match(n, [%s])) {", strings.Join(keys, ", "))
	for i, a := range t.Arms {
		p.f("    case %d:", i)
		p.f("      return read%s(n, p);", e.names[a.Type])
	}
	p.line("  }")
	p.f("  return noMatch(n, p, %d);", len(t.Arms))
}
