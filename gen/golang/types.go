package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/moltzap/moltzap-go/gen"
)

// types emits every named type: declarations, their member lists and JSON methods. A type
// the Go codec cannot map is recorded in e.err.
func (e *emitter) types(f *jen.File) {
	e.schemaFile(f)
	for _, t := range e.m.Types {
		var err error
		switch t.Kind {
		case gen.KindStruct:
			err = e.structType(f, t)
		case gen.KindEnum:
			e.enumType(f, t)
		case gen.KindUnion:
			e.unionType(f, t)
		case gen.KindArray, gen.KindMap:
			err = e.collectionType(f, t)
		default:
			e.scalarType(f, t)
		}
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("%s: %w", t.Source.Where(), err)
		}
		f.Line()
	}
	f.Comment("The rules of the named scalar types and the patterns, compiled once.")
	f.Var().Defs(e.rules...)
	f.Line()
	e.decodeHelpers(f)
}

func (e *emitter) schemaFile(f *jen.File) {
	f.Anon("embed")
	f.Comment("//go:embed " + SchemaFile)
	f.Var().Id("schemaJSON").Index().Byte()
	f.Line()
	f.Comment("SchemaJSON returns a copy of the bundled JSON Schema of the protocol (a $defs entry per")
	f.Comment("type), the definition of what the decoders accept; tests check them against it.")
	f.Func().Id("SchemaJSON").Params().Index().Byte().Block(jen.Return(jen.Append(jen.Index().Byte().Parens(jen.Nil()), jen.Id("schemaJSON").Op("..."))))
	f.Line()
}

func (e *emitter) structType(f *jen.File, t *gen.Type) error {
	f.Add(comment(sentence(t.Name, t.Doc, e.fallbackDoc(t)), 0))
	f.Type().Id(t.Name).StructFunc(func(g *jen.Group) { e.structFields(g, t) })
	f.Line()
	lines, err := e.memberLines(t)
	if err != nil {
		return err
	}
	for _, fl := range t.Fields {
		if fl.Type.Name == "" && fl.Type.Pattern != "" {
			e.rules = append(e.rules, jen.Id(inlinePatternVar(t, fl)).Op("=").Qual("regexp", "MustCompile").Call(jen.Lit(fl.Type.Pattern)))
		}
	}
	f.Func().Params(jen.Id("x").Op("*").Id(t.Name)).Id("fields").Params(jen.Id("o").Op("*").Qual(codecPkg, "Object")).Block(lines...)
	f.Line()
	for _, u := range e.unions[t] {
		f.Func().Params(jen.Id(t.Name)).Id("is" + u.Name).Params().Block()
	}
	e.jsonMethods(f, t)
	if e.params[t] {
		e.decodeFunc(f, t, jen.Id("decodeParams").Types(jen.Id(t.Name)).Call(jen.Id("raw")))
	}
	return nil
}

// jsonMethods emits the encoding/json adapters of a struct over its fields method, and
// AppendJSON where a value of the type is encoded on its own (messages, union alternatives).
func (e *emitter) jsonMethods(f *jen.File, t *gen.Type) {
	x := jen.Id("x").Id(t.Name)
	write := jen.Qual(codecPkg, "Write").Call(jen.Id("b"), jen.Id("x").Dot("fields"))
	if e.roots[t] || len(e.unions[t]) > 0 {
		f.Comment("AppendJSON appends x to b as JSON; MarshalJSON and UnmarshalJSON adapt the same codec")
		f.Comment("to encoding/json. Decoding checks every constraint of the schema.")
		f.Func().Params(x.Clone()).Id("AppendJSON").Params(jen.Id("b").Index().Byte()).Index().Byte().Op("{").Return(write).Op("}")
		f.Func().Params(x.Clone()).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Op("{").Return(jen.Id("x").Dot("AppendJSON").Call(jen.Nil()), jen.Nil()).Op("}")
	} else {
		f.Comment("MarshalJSON and UnmarshalJSON adapt the codec of " + t.Name + " (its fields method) to")
		f.Comment("encoding/json. Decoding checks every constraint of the schema.")
		f.Func().Params(x.Clone()).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Op("{").Return(jen.Qual(codecPkg, "Write").Call(jen.Nil(), jen.Id("x").Dot("fields")), jen.Nil()).Op("}")
	}
	f.Func().Params(jen.Id("x").Op("*").Id(t.Name)).Id("UnmarshalJSON").Params(jen.Id("b").Index().Byte()).Error().Op("{").Return(jen.Qual(codecPkg, "Read").Call(jen.Id("b"), jen.Id("x").Dot("fields"))).Op("}")
}

// decodeFunc emits DecodeX, a one-liner over read.
func (e *emitter) decodeFunc(f *jen.File, t *gen.Type, read *jen.Statement) {
	oneLine(f, "Decode"+t.Name+" reads a "+t.Name+", checking every constraint of its schema.",
		jen.Id("Decode"+t.Name).Params(jen.Id("raw").Index().Byte()).Params(jen.Id(t.Name), jen.Error()), read)
}

// oneLine emits a documented function whose body is one return statement, on one line.
func oneLine(f *jen.File, doc string, signature *jen.Statement, results ...jen.Code) {
	f.Comment(doc)
	f.Func().Add(signature).Op("{").Return(results...).Op("}")
}

// structFields declares the Go fields; a short description trails its field.
func (e *emitter) structFields(g *jen.Group, t *gen.Type) {
	width := 0
	for _, fl := range t.Fields {
		typ, tag := fieldType(fl)
		if w := len(fl.GoName) + len(jen.Null().Add(typ).GoString()) + len(tag) + 10; w > width {
			width = w
		}
	}
	for _, fl := range t.Fields {
		typ, tag := fieldType(fl)
		field := jen.Id(fl.GoName).Add(typ).Tag(map[string]string{"json": tag})
		switch {
		case fl.Doc == "":
		case 4+width+4+len(fl.Doc) <= docWidth:
			field.Comment(fl.Doc)
		default:
			g.Add(comment(fl.Doc, 1))
		}
		g.Add(field)
	}
}

// fallbackDoc is the doc sentence of a type whose schema has no description.
func (e *emitter) fallbackDoc(t *gen.Type) string {
	if role, ok := e.roles[t]; ok {
		return t.Name + " " + role + "."
	}
	return t.Name + " is a protocol object."
}

func (e *emitter) enumType(f *jen.File, t *gen.Type) {
	f.Add(comment(sentence(t.Name, t.Doc, t.Name+" is a protocol enumeration."), 0))
	f.Type().Id(t.Name).String()
	f.Line()
	f.Comment("The values of " + t.Name + ".")
	f.Const().DefsFunc(func(g *jen.Group) {
		for _, v := range t.Enum {
			g.Id(t.Name + gen.GoName(v)).Id(t.Name).Op("=").Lit(v)
		}
	})
	f.Line()
	var any *jen.Statement
	for _, v := range t.Enum {
		is := jen.Id("v").Op("==").Id(t.Name + gen.GoName(v))
		if any == nil {
			any = is
		} else {
			any = any.Op("||").Add(is)
		}
	}
	oneLine(f, "Valid reports whether v is one of the values of "+t.Name+".",
		jen.Params(jen.Id("v").Id(t.Name)).Id("Valid").Params().Bool(), any)
}

// scalarType declares a named string, integer, number or boolean type and its rule.
func (e *emitter) scalarType(f *jen.File, t *gen.Type) {
	f.Add(comment(sentence(t.Name, t.Doc, t.Name+" is a named protocol value."), 0))
	f.Type().Id(t.Name).Add(typeExpr(&gen.Type{Kind: t.Kind}))
	if t.Pattern != "" {
		e.rules = append(e.rules, jen.Id(patternVar(t)).Op("=").Qual("regexp", "MustCompile").Call(jen.Lit(t.Pattern)))
	}
	if rule := ruleLiteral(t); rule != nil {
		e.rules = append(e.rules, jen.Id(ruleVar(t)).Op("=").Add(rule))
	}
}

// collectionType declares a named list of unions or map of strings with its JSON methods.
func (e *emitter) collectionType(f *jen.File, t *gen.Type) error {
	var read, write *jen.Statement
	switch {
	case t.Kind == gen.KindArray && t.Elem.Kind == gen.KindUnion:
		read = jen.Qual(codecPkg, "ReadUnions").Types(jen.Id(t.Name)).Call(jen.Id("d"), arrayRule(t), jen.Id("read"+t.Elem.Name))
		write = jen.Qual(codecPkg, "AppendList").Call(jen.Id("b"), jen.Id("x"))
	case t.Kind == gen.KindMap && isStringy(t.Elem):
		read = jen.Qual(codecPkg, "ReadStringMap").Types(jen.Id(t.Name)).Call(jen.Id("d"), stringRule(t.Elem))
		write = jen.Qual(codecPkg, "AppendStringMap").Call(jen.Id("b"), jen.Id("x"))
	default:
		return fmt.Errorf("the Go emitter maps a named array only of unions and a named map only of strings (%s)", t.Name)
	}
	f.Add(comment(sentence(t.Name, t.Doc, t.Name+" is a protocol collection."), 0))
	f.Type().Id(t.Name).Add(typeExpr(&gen.Type{Kind: t.Kind, Elem: t.Elem}))
	f.Line()
	f.Func().Id("read"+t.Name).Params(jen.Id("d").Op("*").Qual(codecPkg, "Decoder")).Params(jen.Id(t.Name), jen.Error()).Op("{").Return(read).Op("}")
	f.Line()
	oneLine(f, "AppendJSON appends x to b as JSON.",
		jen.Params(jen.Id("x").Id(t.Name)).Id("AppendJSON").Params(jen.Id("b").Index().Byte()).Index().Byte(), write)
	oneLine(f, "MarshalJSON encodes x with AppendJSON.",
		jen.Params(jen.Id("x").Id(t.Name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()),
		jen.Id("x").Dot("AppendJSON").Call(jen.Nil()), jen.Nil())
	f.Comment("UnmarshalJSON decodes x, checking every constraint of its schema.")
	f.Func().Params(jen.Id("x").Op("*").Id(t.Name)).Id("UnmarshalJSON").Params(jen.Id("b").Index().Byte()).Params(jen.Err().Error()).Block(
		jen.List(jen.Op("*").Id("x"), jen.Err()).Op("=").Qual(codecPkg, "ReadValue").Call(jen.Id("b"), jen.Id("read"+t.Name)),
		jen.Return(jen.Err()),
	)
	e.decodeFunc(f, t, jen.Qual(codecPkg, "ReadValue").Call(jen.Id("raw"), jen.Id("read"+t.Name)))
	return nil
}

func (e *emitter) unionType(f *jen.File, t *gen.Type) {
	names := ""
	for i, a := range t.Arms {
		switch {
		case i == len(t.Arms)-1:
			names += " or "
		case i > 0:
			names += ", "
		}
		names += a.Type.Name
	}
	f.Add(comment(sentence(t.Name, t.Doc, e.fallbackDoc(t))+" It is one of "+names+".", 0))
	f.Type().Id(t.Name).Interface(jen.Id("is"+t.Name).Params(), jen.Id("AppendJSON").Params(jen.Id("b").Index().Byte()).Index().Byte())
	f.Line()
	how := "choosing the alternative by its \"" + t.Discriminator + "\" property"
	if t.Discriminator == "" {
		how = "choosing the alternative whose required properties are present"
	}
	f.Comment("read" + t.Name + " reads a " + t.Name + ", " + how + ".")
	f.Func().Id("read"+t.Name).Params(jen.Id("d").Op("*").Qual(codecPkg, "Decoder")).Params(jen.Id(t.Name), jen.Error()).BlockFunc(func(g *jen.Group) {
		e.unionSwitch(g, t)
	})
	f.Line()
	if e.params[t] {
		e.decodeFunc(f, t, jen.Id("decodeParamsUnion").Call(jen.Id("raw"), jen.Id("read"+t.Name)))
	} else {
		e.decodeFunc(f, t, jen.Qual(codecPkg, "ReadValue").Call(jen.Id("raw"), jen.Id("read"+t.Name)))
	}
}

func (e *emitter) unionSwitch(g *jen.Group, t *gen.Type) {
	arm := func(a *gen.Arm) []jen.Code {
		return []jen.Code{
			jen.Var().Id("v").Id(a.Type.Name),
			jen.Err().Op(":=").Id("d").Dot("Object").Call(jen.Id("v").Dot("fields")),
			jen.Return(jen.Id("v"), jen.Err()),
		}
	}
	if t.Discriminator != "" {
		var tags []jen.Code
		g.Switch(jen.Id("d").Dot("Tag").Call(jen.Lit(t.Discriminator))).BlockFunc(func(s *jen.Group) {
			for _, a := range t.Arms {
				s.Case(jen.Lit(a.Tag)).Block(arm(a)...)
				tags = append(tags, jen.Lit(a.Tag))
			}
		})
		g.Return(jen.Nil(), jen.Id("d").Dot("NoArm").Call(append([]jen.Code{jen.Lit(t.Discriminator)}, tags...)...))
		return
	}
	var sets []jen.Code
	for _, a := range t.Arms {
		var keys []jen.Code
		for _, k := range a.Type.RequiredKeys() {
			keys = append(keys, jen.Lit(k))
		}
		sets = append(sets, jen.Index().String().Values(keys...))
	}
	g.Switch(jen.Id("d").Dot("Match").Call(sets...)).BlockFunc(func(s *jen.Group) {
		for i, a := range t.Arms {
			s.Case(jen.Lit(i)).Block(arm(a)...)
		}
	})
	g.Return(jen.Nil(), jen.Id("d").Dot("NoMatch").Call(jen.Lit(len(t.Arms))))
}

// decodeHelpers emits Decode, the generic decoder of every struct type, and the decoders of
// request params, whose failures are -32602.
func (e *emitter) decodeHelpers(f *jen.File) {
	f.Comment("decodable is a pointer to a protocol struct.")
	f.Type().Id("decodable").Types(jen.Id("T").Any()).Interface(jen.Op("*").Id("T"), jen.Id("fields").Params(jen.Op("*").Qual(codecPkg, "Object")))
	f.Line()
	f.Comment("Decode reads a JSON document as the protocol struct T in one pass, checking every constraint")
	f.Comment("of its schema, e.g. protocol.Decode[protocol.MessagesReceivedNotification](raw). A mismatch")
	f.Comment("is a *codec.Error naming the JSON pointer and the failed keyword.")
	f.Func().Id("Decode").Types(jen.Id("T").Any(), jen.Id("P").Id("decodable").Types(jen.Id("T"))).Params(jen.Id("raw").Index().Byte()).Params(jen.Id("T"), jen.Error()).Block(
		jen.Var().Id("x").Id("T"),
		jen.Err().Op(":=").Qual(codecPkg, "Read").Call(jen.Id("raw"), jen.Id("P").Call(jen.Op("&").Id("x")).Dot("fields")),
		jen.Return(jen.Id("x"), jen.Err()),
	)
	f.Line()
	f.Comment("invalidParams turns a decoding failure of request params into the -32602 wire error,")
	f.Comment("naming the JSON pointer and the failed constraint.")
	f.Func().Id("invalidParams").Params(jen.Err().Error()).Error().Block(
		jen.Var().Id("ce").Op("*").Qual(codecPkg, "Error"),
		jen.If(jen.Op("!").Qual("errors", "As").Call(jen.Err(), jen.Op("&").Id("ce"))).Block(jen.Return(jen.Err())),
		jen.Return(jen.Id("InvalidParamsError").Values(jen.Dict{
			jen.Id("Message"): jen.Lit("Invalid params: ").Op("+").Id("ce").Dot("Error").Call(),
			jen.Id("Data"):    jen.Qual(jsonPkg, "RawMessage").Call(jen.Qual(codecPkg, "ErrorData").Call(jen.Id("ce"))),
		})),
	)
	f.Line()
	f.Comment("decodeParams reads request params of a struct type.")
	f.Func().Id("decodeParams").Types(jen.Id("T").Any(), jen.Id("P").Id("decodable").Types(jen.Id("T"))).Params(jen.Id("raw").Index().Byte()).Params(jen.Id("T"), jen.Error()).Block(
		jen.List(jen.Id("x"), jen.Err()).Op(":=").Id("Decode").Types(jen.Id("T"), jen.Id("P")).Call(jen.Id("raw")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("x"), jen.Id("invalidParams").Call(jen.Err()))),
		jen.Return(jen.Id("x"), jen.Nil()),
	)
	if !e.hasParamsUnion() {
		return
	}
	f.Line()
	f.Comment("decodeParamsUnion reads request params of a union type.")
	f.Func().Id("decodeParamsUnion").Types(jen.Id("T").Any()).Params(jen.Id("raw").Index().Byte(), jen.Id("read").Func().Params(jen.Op("*").Qual(codecPkg, "Decoder")).Params(jen.Id("T"), jen.Error())).Params(jen.Id("T"), jen.Error()).Block(
		jen.List(jen.Id("x"), jen.Err()).Op(":=").Qual(codecPkg, "ReadValue").Call(jen.Id("raw"), jen.Id("read")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("x"), jen.Id("invalidParams").Call(jen.Err()))),
		jen.Return(jen.Id("x"), jen.Nil()),
	)
}

func (e *emitter) hasParamsUnion() bool {
	for t := range e.params {
		if t.Kind == gen.KindUnion {
			return true
		}
	}
	return false
}
