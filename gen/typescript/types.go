package typescript

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// branded reports whether a named string type is an opaque id (format uuid): its TypeScript
// type is a branded string, so one id is not assignable to another.
func branded(t *gen.Type) bool { return t.Kind == gen.KindString && t.Name != "" && t.Format == "uuid" }

// typeExpr is the TypeScript type of a model type.
func (e *emitter) typeExpr(t *gen.Type) string {
	if t.Name != "" {
		return e.names[t]
	}
	switch t.Kind {
	case gen.KindString:
		return "string"
	case gen.KindInteger, gen.KindNumber:
		return "number"
	case gen.KindBool:
		return "boolean"
	case gen.KindArray:
		el := e.typeExpr(t.Elem)
		if strings.Contains(el, " ") {
			el = "(" + el + ")"
		}
		return el + "[]"
	case gen.KindMap:
		return "Record<string, " + e.typeExpr(t.Elem) + ">"
	case gen.KindEnum:
		return strings.Join(quoteAll(t.Enum), " | ")
	}
	e.fail(fmt.Errorf("typescript: unnamed type of kind %d", t.Kind))
	return "never"
}

func (e *emitter) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = jsString(s)
	}
	return out
}

// constraintDoc describes the constraints of a type for its JSDoc.
func constraintDoc(t *gen.Type) string {
	var parts []string
	c := t.Constraints
	if c.MinLength != nil && c.MaxLength != nil {
		parts = append(parts, fmt.Sprintf("%d-%d characters", *c.MinLength, *c.MaxLength))
	} else if c.MinLength != nil {
		parts = append(parts, fmt.Sprintf("at least %d characters", *c.MinLength))
	} else if c.MaxLength != nil {
		parts = append(parts, fmt.Sprintf("at most %d characters", *c.MaxLength))
	}
	if c.Format != "" {
		parts = append(parts, "format "+c.Format)
	}
	if c.Pattern != "" {
		parts = append(parts, "pattern `"+c.Pattern+"`")
	}
	if t.Kind == gen.KindInteger {
		min, max, hasMin, hasMax := c.IntBounds()
		if hasMin {
			parts = append(parts, ">= "+strconv.FormatInt(min, 10))
		}
		if hasMax {
			parts = append(parts, "<= "+strconv.FormatInt(max, 10))
		}
	}
	if c.MinItems != nil {
		parts = append(parts, fmt.Sprintf("at least %d items", *c.MinItems))
	}
	if c.MaxItems != nil {
		parts = append(parts, fmt.Sprintf("at most %d items", *c.MaxItems))
	}
	if c.UniqueItems {
		parts = append(parts, "unique items")
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func joinDoc(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// types writes src/types.ts: one declaration per named type of the model.
func (e *emitter) types(p *printer) {
	p.line("// The protocol " + e.m.Version + " as TypeScript types. Ids are branded strings (an AgentId is")
	p.line("// not assignable from a ConversationId): obtain them from the server or with the as<Id>")
	p.line("// helpers of validate.ts, which check the format.")
	p.line("")
	p.f("/** ProtocolVersion is the protocol version these types describe. */")
	p.f("export const ProtocolVersion = %s;", jsString(e.m.Version))
	for _, t := range e.m.Types {
		p.line("")
		e.typeDecl(p, t)
	}
}

func (e *emitter) typeDecl(p *printer, t *gen.Type) {
	name := e.names[t]
	doc := t.Doc
	if strings.TrimSpace(doc) == "" {
		if role, ok := e.roles()[t]; ok {
			doc = name + " " + role + "."
		}
	}
	p.doc("", joinDoc(doc, constraintDoc(t)))
	switch t.Kind {
	case gen.KindStruct:
		p.f("export interface %s {", name)
		for _, c := range t.Consts {
			p.f("  %s: %s;", propName(c.JSONName), jsString(c.Value))
		}
		for _, f := range t.Fields {
			p.doc("  ", joinDoc(f.Doc, constraintDocInline(f.Type)))
			typ := e.typeExpr(f.Type)
			if f.Nullable {
				typ += " | null"
			}
			opt := ""
			if !f.Required {
				opt = "?"
			}
			p.f("  %s%s: %s;", propName(f.JSONName), opt, typ)
		}
		p.line("}")
	case gen.KindEnum:
		p.f("export type %s = %s;", name, strings.Join(quoteAll(t.Enum), " | "))
		p.doc("", "The values of "+name+", in schema order.")
		p.f("export const %sValues: readonly %s[] = %s;", name, name, jsStrings(t.Enum))
	case gen.KindUnion:
		arms := make([]string, len(t.Arms))
		for i, a := range t.Arms {
			arms[i] = e.names[a.Type]
		}
		p.f("export type %s = %s;", name, strings.Join(arms, " | "))
	case gen.KindString:
		if branded(t) {
			p.f("export type %s = string & { readonly __brand: %s };", name, jsString(name))
		} else {
			p.f("export type %s = string;", name)
		}
	case gen.KindInteger, gen.KindNumber:
		p.f("export type %s = number;", name)
	case gen.KindBool:
		p.f("export type %s = boolean;", name)
	case gen.KindArray:
		p.f("export type %s = %s;", name, e.typeExpr(&gen.Type{Kind: gen.KindArray, Elem: t.Elem}))
	case gen.KindMap:
		p.f("export type %s = Record<string, %s>;", name, e.typeExpr(t.Elem))
	default:
		e.fail(fmt.Errorf("typescript: %s: kind %d cannot be mapped", t.Name, t.Kind))
	}
}

// constraintDocInline documents the constraints of an inline (unnamed) field type; named
// types carry their own.
func constraintDocInline(t *gen.Type) string {
	if t.Name != "" {
		return ""
	}
	return constraintDoc(t)
}

// roles describes each message type for the JSDoc of types without a description.
func (e *emitter) roles() map[*gen.Type]string {
	if e.roleDocs != nil {
		return e.roleDocs
	}
	out := map[*gen.Type]string{}
	for _, x := range e.m.Methods {
		out[x.Params] = "are the params of \"" + x.Name + "\""
		if !x.ResultAlias {
			out[x.Result] = "is the result of \"" + x.Name + "\""
		}
	}
	for _, x := range e.m.Callbacks {
		out[x.Params] = "are the params of the TaskMaster callback \"" + x.Name + "\""
		out[x.Result] = "is the result of the TaskMaster callback \"" + x.Name + "\""
	}
	for _, n := range e.m.Notifications {
		out[n.Params] = "are the params of the notification \"" + n.Name + "\""
	}
	for _, er := range e.m.Errors {
		if er.Data != nil {
			out[er.Data] = "is the data of the " + er.Name + " error (" + strconv.FormatInt(er.Code, 10) + ")"
		}
	}
	e.roleDocs = out
	return out
}
