package python

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moltzap/moltzap-go/gen"
)

// pyType is the annotation of a value of type t.
func (e *emitter) pyType(t *gen.Type) string {
	if n, ok := e.names[t]; ok {
		return n
	}
	switch t.Kind {
	case gen.KindString:
		return "str"
	case gen.KindInteger:
		return "int"
	case gen.KindNumber:
		return "float"
	case gen.KindBool:
		return "bool"
	case gen.KindArray:
		return "list[" + e.pyType(t.Elem) + "]"
	case gen.KindMap:
		return "dict[str, " + e.pyType(t.Elem) + "]"
	case gen.KindEnum:
		return e.literal(t.Enum)
	}
	return "object"
}

func (e *emitter) literal(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	return "Literal[" + strings.Join(q, ", ") + "]"
}

// reader returns the name of a function (v: object, p: str) -> pyType(t) that checks every
// constraint of t; unnamed types get a shared helper per distinct shape.
func (e *emitter) reader(t *gen.Type) string {
	if n, ok := e.names[t]; ok {
		return "_r_" + n
	}
	body := e.readBody(t)
	sig := e.pyType(t) + "\n" + body
	if n, ok := e.inline[sig]; ok {
		return n
	}
	n := "_r" + strconv.Itoa(len(e.inline))
	e.inline[sig] = n
	e.helpers = append(e.helpers, fmt.Sprintf("def %s(v: object, p: str) -> %s:\n%s", n, e.pyType(t), body))
	return n
}

// pattern returns the name of the compiled constant of a pattern.
func (e *emitter) pattern(p string) string {
	if n, ok := e.pats[p]; ok {
		return n
	}
	n := "_PAT" + strconv.Itoa(len(e.pats))
	e.pats[p] = n
	e.patList = append(e.patList, fmt.Sprintf("%s = re.compile(%s, re.ASCII)", n, quote(pyPattern(p))))
	return n
}

func i64(p *int64) string {
	if p == nil {
		return "None"
	}
	return strconv.FormatInt(*p, 10)
}

func numArg(n *gen.Number) string {
	if n == nil {
		return "None"
	}
	return "float(" + quote(n.Literal) + ")"
}

// stringCall is the _c.string call for the string constraints of t.
func (e *emitter) stringCall(t *gen.Type) string {
	args := []string{"v", "p"}
	if t.MinLength != nil || t.MaxLength != nil || t.Format != "" || t.Pattern != "" {
		args = append(args, "min_len="+i64orZero(t.MinLength), "max_len="+i64(t.MaxLength))
		if t.Format != "" {
			args = append(args, "fmt="+quote(t.Format))
		}
		if t.Pattern != "" {
			args = append(args, "pattern="+e.pattern(t.Pattern))
		}
	}
	return "_c.string(" + strings.Join(args, ", ") + ")"
}

func i64orZero(p *int64) string {
	if p == nil {
		return "0"
	}
	return strconv.FormatInt(*p, 10)
}

// readBody is the body of the reader of t.
func (e *emitter) readBody(t *gen.Type) string {
	name, named := e.names[t]
	wrapNew := func(expr string) string {
		if named {
			return name + "(" + expr + ")"
		}
		return expr
	}
	switch t.Kind {
	case gen.KindString:
		return "    return " + wrapNew(e.stringCall(t)) + "\n"
	case gen.KindInteger:
		min, max, hasMin, hasMax := t.IntBounds()
		lo, hi := "None", "None"
		if hasMin {
			lo = strconv.FormatInt(min, 10)
		}
		if hasMax {
			hi = strconv.FormatInt(max, 10)
		}
		return "    return " + wrapNew(fmt.Sprintf("_c.integer(v, p, %s, %s)", lo, hi)) + "\n"
	case gen.KindNumber:
		return "    return " + wrapNew(fmt.Sprintf("_c.number(v, p, %s, %s, %s, %s)",
			numArg(t.Minimum), numArg(t.Maximum), numArg(t.ExclusiveMinimum), numArg(t.ExclusiveMaximum))) + "\n"
	case gen.KindBool:
		return "    return " + wrapNew("_c.boolean(v, p)") + "\n"
	case gen.KindEnum:
		var b strings.Builder
		if t.MinLength != nil || t.MaxLength != nil {
			b.WriteString("    " + e.stringCall(t) + "\n")
		}
		q := make([]string, len(t.Enum))
		for i, v := range t.Enum {
			q[i] = quote(v)
		}
		fmt.Fprintf(&b, "    return cast(%s, _c.enum(v, p, frozenset((%s,))))\n", e.pyType(t), strings.Join(q, ", "))
		return b.String()
	case gen.KindArray:
		return fmt.Sprintf("    return _c.array(v, p, %s, %s, %s, %s)\n", e.reader(t.Elem),
			i64orZero(t.MinItems), i64(t.MaxItems), pyBool(t.UniqueItems))
	case gen.KindMap:
		return fmt.Sprintf("    return _c.mapping(v, p, %s)\n", e.reader(t.Elem))
	case gen.KindUnion:
		return e.unionBody(t)
	case gen.KindStruct:
		return e.structBody(t)
	}
	return "    return v\n"
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (e *emitter) unionBody(t *gen.Type) string {
	var b strings.Builder
	if t.Discriminator != "" {
		tags := make([]string, len(t.Arms))
		for i, a := range t.Arms {
			tags[i] = quote(a.Tag)
		}
		fmt.Fprintf(&b, "    t = _c.tag(v, p, %s, (%s,))\n", quote(t.Discriminator), strings.Join(tags, ", "))
		for i, a := range t.Arms {
			if i == len(t.Arms)-1 {
				fmt.Fprintf(&b, "    return %s(v, p)\n", e.reader(a.Type))
				break
			}
			fmt.Fprintf(&b, "    if t == %s:\n        return %s(v, p)\n", quote(a.Tag), e.reader(a.Type))
		}
		return b.String()
	}
	arms := make([]string, len(t.Arms))
	for i, a := range t.Arms {
		keys := a.Type.RequiredKeys()
		q := make([]string, len(keys))
		for j, k := range keys {
			q[j] = quote(k)
		}
		arms[i] = "(" + strings.Join(q, ", ") + ",)"
	}
	fmt.Fprintf(&b, "    i = _c.match(v, p, (%s,))\n", strings.Join(arms, ", "))
	for i, a := range t.Arms {
		if i == len(t.Arms)-1 {
			fmt.Fprintf(&b, "    return %s(v, p)\n", e.reader(a.Type))
			break
		}
		fmt.Fprintf(&b, "    if i == %d:\n        return %s(v, p)\n", i, e.reader(a.Type))
	}
	return b.String()
}

func (e *emitter) structBody(t *gen.Type) string {
	var b strings.Builder
	var keys []string
	for _, c := range t.Consts {
		keys = append(keys, quote(c.JSONName))
	}
	for _, f := range t.Fields {
		keys = append(keys, quote(f.JSONName))
	}
	req := t.RequiredKeys()
	for i := range req {
		req[i] = quote(req[i])
	}
	keySet := "frozenset()"
	if len(keys) > 0 {
		keySet = "frozenset((" + strings.Join(keys, ", ") + ",))"
	}
	reqTuple := "()"
	if len(req) > 0 {
		reqTuple = "(" + strings.Join(req, ", ") + ",)"
	}
	if len(keys) == 0 {
		fmt.Fprintf(&b, "    _c.obj(v, p, %s, %s)\n", keySet, reqTuple)
		fmt.Fprintf(&b, "    return %s()\n", e.names[t])
		return b.String()
	}
	fmt.Fprintf(&b, "    o = _c.obj(v, p, %s, %s)\n", keySet, reqTuple)
	for _, c := range t.Consts {
		fmt.Fprintf(&b, "    _c.const(o, p, %s, %s)\n", quote(c.JSONName), quote(c.Value))
	}
	fmt.Fprintf(&b, "    return %s(\n", e.names[t])
	for _, f := range t.Fields {
		k := quote(f.JSONName)
		ptr := `p + ` + quote("/"+gen.EscapePointer(f.JSONName))
		r := e.reader(f.Type)
		val := fmt.Sprintf("%s(o[%s], %s)", r, k, ptr)
		if f.Nullable {
			val = fmt.Sprintf("_c.nullable(o[%s], %s, %s)", k, ptr, r)
		}
		if !f.Required {
			val += fmt.Sprintf(" if %s in o else None", k)
		}
		fmt.Fprintf(&b, "        %s=%s,\n", snake(f.JSONName), val)
	}
	b.WriteString("    )\n")
	return b.String()
}

// enc is the expression encoding the value expr of type t as a JSON value.
func (e *emitter) enc(t *gen.Type, expr string, depth int) string {
	switch t.Kind {
	case gen.KindStruct, gen.KindUnion:
		return expr + ".to_obj()"
	case gen.KindArray:
		x := "x" + strconv.Itoa(depth)
		inner := e.enc(t.Elem, x, depth+1)
		if inner == x {
			return "list(" + expr + ")"
		}
		return "[" + inner + " for " + x + " in " + expr + "]"
	case gen.KindMap:
		x, k := "x"+strconv.Itoa(depth), "k"+strconv.Itoa(depth)
		inner := e.enc(t.Elem, x, depth+1)
		if inner == x {
			return "dict(" + expr + ")"
		}
		return "{" + k + ": " + inner + " for " + k + ", " + x + " in " + expr + ".items()}"
	}
	return expr
}

// types renders moltzap/types.py: NewType ids, Literal enums, dataclasses, aliases, readers.
func (e *emitter) types() []byte {
	var structs, aliases, scalars file
	var all []string
	decoders := map[string]string{}
	// Scalars: NewType ids and Literal enums.
	for _, t := range e.m.Types {
		n := e.names[t]
		switch t.Kind {
		case gen.KindString, gen.KindInteger, gen.KindNumber, gen.KindBool:
			base := map[gen.Kind]string{gen.KindString: "str", gen.KindInteger: "int", gen.KindNumber: "float", gen.KindBool: "bool"}[t.Kind]
			scalars.p("%s = NewType(%s, %s)", n, quote(n), base)
			scalars.WriteString(docstring("", e.typeDoc(t)))
			scalars.p("")
		case gen.KindEnum:
			scalars.p("%s = %s", n, e.literal(t.Enum))
			scalars.WriteString(docstring("", e.typeDoc(t)))
			scalars.p("")
		}
	}
	// Structs.
	for _, t := range e.m.Types {
		if t.Kind == gen.KindStruct {
			e.structClass(&structs, t)
		}
	}
	// Aliases (unions, named lists and maps), after what they name.
	done := map[*gen.Type]bool{}
	var alias func(t *gen.Type)
	alias = func(t *gen.Type) {
		if done[t] {
			return
		}
		done[t] = true
		var deps []*gen.Type
		var rhs string
		switch t.Kind {
		case gen.KindUnion:
			arms := make([]string, len(t.Arms))
			for i, a := range t.Arms {
				arms[i] = e.names[a.Type]
			}
			rhs = strings.Join(arms, " | ")
		case gen.KindArray, gen.KindMap:
			deps = append(deps, t.Elem)
			elem := e.pyType(t.Elem)
			if t.Kind == gen.KindArray {
				rhs = "list[" + elem + "]"
			} else {
				rhs = "dict[str, " + elem + "]"
			}
		default:
			return
		}
		for _, d := range deps {
			for d.Kind == gen.KindArray || d.Kind == gen.KindMap {
				if _, ok := e.names[d]; ok {
					break
				}
				d = d.Elem
			}
			if _, ok := e.names[d]; ok {
				alias(d)
			}
		}
		aliases.p("%s = %s", e.names[t], rhs)
		aliases.WriteString(docstring("", e.typeDoc(t)))
		aliases.p("")
	}
	for _, t := range e.m.Types {
		alias(t)
	}
	// Readers and decoders.
	var readers file
	for _, t := range e.m.Types {
		n := e.names[t]
		readers.p("def _r_%s(v: object, p: str) -> %s:", n, n)
		readers.WriteString(e.readBody(t))
		readers.p("")
		readers.p("")
		readers.p("def decode_%s(doc: str | bytes | object) -> %s:", n, n)
		readers.p(`    """Parse and check a %s document (text, bytes or an already parsed value)."""`, n)
		readers.p("    return _r_%s(_c.parse(doc), %q)", n, "")
		readers.p("")
		readers.p("")
		decoders[t.Name] = "decode_" + n
		all = append(all, n, "decode_"+n)
	}

	var f file
	f.p("%s", Header)
	f.p(`"""The protocol types of MoltZap %s with their validating codecs.`, e.m.Version)
	f.p("")
	f.p("Every dataclass has from_json (text, bytes or a parsed value; every constraint of the")
	f.p("schema is checked and a violation raises ValidationError with the JSON pointer) and")
	f.p("to_json. decode_<Type> does the same for every named type, DECODERS maps the protocol's")
	f.p(`type names to them."""`)
	f.p("")
	f.p("from __future__ import annotations")
	f.p("")
	f.p("import re")
	f.p("from collections.abc import Callable")
	f.p("from dataclasses import dataclass")
	f.p("from typing import Literal, NewType, cast")
	f.p("")
	f.p("from . import validate as _c")
	f.p("from .validate import ValidationError")
	f.p("")
	f.p("PROTOCOL_VERSION = %s", quote(e.m.Version))
	f.p(`"""The protocol version of the schema this package was generated from."""`)
	f.p("")
	f.Write(scalars.Bytes())
	f.p("")
	f.Write(structs.Bytes())
	f.Write(aliases.Bytes())
	f.p("")
	// Helpers and patterns are collected while rendering readers; render them after.
	body := readers.Bytes()
	for _, p := range e.patList {
		f.p("%s", p)
	}
	f.p("")
	f.p("")
	for _, h := range e.helpers {
		f.WriteString(h)
		f.p("")
		f.p("")
	}
	f.Write(body)
	f.p("DECODERS: dict[str, Callable[[str | bytes | object], object]] = {")
	for _, k := range sortedKeys(decoders) {
		f.p("    %s: %s,", quote(k), decoders[k])
	}
	f.p("}")
	f.p(`"""The decoder of every named protocol type, by its name in the model."""`)
	f.p("")
	f.p("__all__ = [")
	f.p("    %s,", quote("PROTOCOL_VERSION"))
	f.p("    %s,", quote("DECODERS"))
	f.p("    %s,", quote("ValidationError"))
	for _, n := range all {
		f.p("    %s,", quote(n))
	}
	f.p("]")
	return f.Bytes()
}

func (e *emitter) typeDoc(t *gen.Type) string {
	d := strings.TrimSpace(t.Doc)
	if d == "" {
		d = e.names[t] + " is a MoltZap protocol type."
	}
	var rules []string
	if t.MinLength != nil || t.MaxLength != nil {
		rules = append(rules, fmt.Sprintf("length %s..%s code points", i64orZero(t.MinLength), strings.Replace(i64(t.MaxLength), "None", "", 1)))
	}
	if t.Format != "" {
		rules = append(rules, "format "+t.Format)
	}
	if t.Pattern != "" {
		rules = append(rules, "pattern "+t.Pattern)
	}
	if min, max, hasMin, hasMax := t.IntBounds(); t.Kind == gen.KindInteger && (hasMin || hasMax) {
		s := "integer"
		if hasMin {
			s += fmt.Sprintf(" >= %d", min)
		}
		if hasMax {
			s += fmt.Sprintf(" <= %d", max)
		}
		rules = append(rules, s)
	}
	if t.MinItems != nil || t.MaxItems != nil {
		rules = append(rules, fmt.Sprintf("%s..%s items", i64orZero(t.MinItems), strings.Replace(i64(t.MaxItems), "None", "", 1)))
	}
	if len(rules) > 0 {
		d += "\n\nConstraints: " + strings.Join(rules, "; ") + "."
	}
	return d
}

func (e *emitter) structClass(f *file, t *gen.Type) {
	n := e.names[t]
	f.p("@dataclass(frozen=True, kw_only=True)")
	f.p("class %s:", n)
	f.WriteString(docstring("    ", e.typeDoc(t)))
	f.p("")
	for _, fl := range t.Fields {
		typ := e.pyType(fl.Type)
		switch {
		case fl.Required && !fl.Nullable:
			f.p("    %s: %s", snake(fl.JSONName), typ)
		case fl.Required:
			f.p("    %s: %s | None", snake(fl.JSONName), typ)
		default:
			f.p("    %s: %s | None = None", snake(fl.JSONName), typ)
		}
		if fl.Doc != "" {
			f.WriteString(docstring("    ", fl.Doc))
		}
	}
	for _, c := range t.Consts {
		f.p("    %s: Literal[%s] = %s", snake(c.JSONName), quote(c.Value), quote(c.Value))
		f.p(`    """Always %s (the discriminator)."""`, quote(c.Value))
	}
	f.p("")
	f.p("    @classmethod")
	f.p("    def from_json(cls, doc: str | bytes | object) -> %s:", n)
	f.p(`        """Parse and check a document; raises ValidationError."""`)
	f.p(`        return _r_%s(_c.parse(doc), "")`, n)
	f.p("")
	f.p("    def to_obj(self) -> dict[str, object]:")
	f.p(`        """Return the JSON value of self (dicts, lists, strings, ints, bools)."""`)
	f.p("        o: dict[str, object] = {}")
	for _, c := range t.Consts {
		f.p("        o[%s] = self.%s", quote(c.JSONName), snake(c.JSONName))
	}
	for _, fl := range t.Fields {
		attr := "self." + snake(fl.JSONName)
		val := e.enc(fl.Type, attr, 0)
		switch {
		case fl.Required && !fl.Nullable:
			f.p("        o[%s] = %s", quote(fl.JSONName), val)
		case fl.Required:
			if val == attr {
				f.p("        o[%s] = %s", quote(fl.JSONName), attr)
			} else {
				f.p("        o[%s] = None if %s is None else %s", quote(fl.JSONName), attr, val)
			}
		default:
			f.p("        if %s is not None:", attr)
			f.p("            o[%s] = %s", quote(fl.JSONName), val)
		}
	}
	f.p("        return o")
	f.p("")
	f.p("    def to_json(self) -> str:")
	f.p(`        """Encode self as compact JSON."""`)
	f.p("        return _c.dumps(self.to_obj())")
	f.p("")
	f.p("")
}
